import { describe, expect, it } from 'vitest';
import { changedFields, decimalToMinor, fromForm, patchOf, regionText, toForm, type Company } from './fields';

const base = {
  id: 'com_1',
  name: '北京示例科技',
  industry: 'Software',
  region: { country: 'CN', province: '北京', city: '北京', district: '海淀区' },
  tags: ['key-account'],
  annual_revenue: { amount_minor: 1200000000, currency: 'CNY' },
  created_by: 'usr_1',
  created_at: '2026-12-01T00:00:00Z',
  updated_at: '2026-12-01T00:00:00Z',
  version: 3,
} as Company;

describe('company fields', () => {
  it('turns decimals into minor units exactly', () => {
    expect(decimalToMinor('12000000.00', 'CNY')).toBe(1200000000);
    expect(decimalToMinor('0.1', 'CNY')).toBe(10);
    expect(decimalToMinor('19.99', 'CNY')).toBe(1999);
    expect(decimalToMinor('1,234.5', 'USD')).toBe(123450);
    expect(decimalToMinor('100', 'JPY')).toBe(100);
    expect(decimalToMinor('1.234', 'CNY')).toBeNull();
    expect(decimalToMinor('abc', 'CNY')).toBeNull();
  });

  it('round-trips the form and patches only what changed', () => {
    const form = toForm(base);
    expect(form.revenue).toBe('12000000.00');
    const edited = fromForm({ ...form, industry: '  Retail ', revenue: '12000000.50' });
    const patch = patchOf(base, edited);
    expect(patch).toEqual({ industry: 'Retail', annual_revenue: { amount_minor: 1200000050, currency: 'CNY' } });
    expect(changedFields(base, { ...base, tags: ['x'] })).toEqual(['tags']);
  });

  it('clears blank region parts and reads the region widest last', () => {
    expect(fromForm({ region: { country: 'cn', city: ' ', province: '广东' } }).region).toEqual({ country: 'CN', province: '广东' });
    expect(fromForm({ region: { city: '' } }).region).toBeNull();
    expect(regionText(base.region)).toBe('海淀区, 北京, CN');
  });
});

describe('custom fields', () => {
  it('keeps set values, clears emptied ones and leaves untouched ones out', () => {
    expect(fromForm({ custom: { grade: 'A', region_code: '', untouched: undefined } }).custom).toEqual({ grade: 'A', region_code: null });
    expect('custom' in fromForm({ custom: { untouched: undefined } })).toBe(false);
    const withCustom = { ...base, custom: { grade: 'A' } } as unknown as Company;
    expect(patchOf(withCustom, fromForm({ ...toForm(withCustom), custom: { grade: 'B' } }))).toEqual({ custom: { grade: 'B' } });
  });
});
