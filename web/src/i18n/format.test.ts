import { describe, expect, it } from 'vitest';
import { formatDate, formatMoney, minorToDecimal } from './format';

describe('money', () => {
  it('turns minor units into an exact decimal for each currency', () => {
    expect(minorToDecimal(123450, 'CNY')).toBe('1234.50');
    expect(minorToDecimal(5, 'USD')).toBe('0.05');
    expect(minorToDecimal(1234, 'JPY')).toBe('1234');
    expect(minorToDecimal(1000000000000000, 'CNY')).toBe('10000000000000.00');
    expect(minorToDecimal(1, 'KWD')).toBe('0.001');
  });

  it('formats money for the locale without losing a cent on large amounts', () => {
    expect(formatMoney({ amount_minor: 123450, currency: 'CNY' }, 'zh-CN')).toBe('¥1,234.50');
    expect(formatMoney({ amount_minor: 123450, currency: 'USD' }, 'en')).toBe('$1,234.50');
    expect(formatMoney({ amount_minor: 999999999999999, currency: 'CNY' }, 'zh-CN')).toBe(
      '¥9,999,999,999,999.99',
    );
  });
});

describe('dates', () => {
  it('reads as people in the locale write them', () => {
    const d = new Date(2026, 11, 7, 12);
    expect(formatDate(d, 'zh-CN')).toBe('2026年12月7日');
    expect(formatDate(d, 'en')).toBe('Dec 7, 2026');
    expect(formatDate('not a date', 'en')).toBe('');
  });
});
