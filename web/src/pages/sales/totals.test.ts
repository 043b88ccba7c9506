import { describe, expect, it } from 'vitest';
import { basisPoints, bpToPercent, decimalToMinor, lineTotals, orderTotals, percentToBp, withinBounds } from './totals';

const line = (quantity: number, price: number, discountBp = 0, taxRateBp = 0) => ({
  quantity: BigInt(quantity),
  unitPriceMinor: BigInt(price),
  discountBp: BigInt(discountBp),
  taxRateBp: BigInt(taxRateBp),
});

describe('order totals match the server', () => {
  it('rounds half up per line (shared/src/orders: line_totals_are_exact_and_round_half_up)', () => {
    // 3 × 33.33 = 99.99; 10 % off = 10.00 (9.999 rounds up); 13 % tax on 89.99 = 11.70 (11.6987).
    expect(lineTotals(line(3, 3_333, 1_000, 1_300))).toEqual({
      amount: 9_999n,
      discount: 1_000n,
      tax: 1_170n,
      total: 9_999n - 1_000n + 1_170n,
    });
    expect(basisPoints(5n, 5_000n)).toBe(3n); // 2.5 rounds up
    expect(basisPoints(4n, 5_000n)).toBe(2n);
    expect(basisPoints(1n, 4_999n)).toBe(0n); // 0.4999 rounds down
    expect(basisPoints(0n, 10_000n)).toBe(0n);
  });

  it('sums lines as the server did in api_orders.rs', () => {
    // The licence (33.33, 13 % tax) × 3 at 10 % off, and installation at 500.00.
    const totals = orderTotals([line(3, 3_333, 1_000, 1_300), line(1, 50_000)]);
    expect(totals.lines[0]!.total).toBe(10_169n);
    expect(totals.amount).toBe(59_999n);
    expect(totals.discount).toBe(1_000n);
    expect(totals.tax).toBe(1_170n);
    expect(totals.total).toBe(60_169n);
    // Tea: 2 × 48.00; then 3 × 48.00 (the bulk import's orders).
    expect(orderTotals([line(2, 4_800)]).total).toBe(9_600n);
    expect(orderTotals([line(3, 4_800)]).total).toBe(14_400n);
  });

  it('stays exact beyond what a float holds', () => {
    const max = 1_000_000_000_000_000;
    const totals = orderTotals([line(1, max)]);
    expect(totals.total).toBe(1_000_000_000_000_000n);
    expect(withinBounds(totals)).toBe(true);
    // 99 999 999 999 999.99 with 13 % tax: a float would lose the last fen.
    const big = lineTotals({ quantity: 1n, unitPriceMinor: 9_999_999_999_999_999n, discountBp: 0n, taxRateBp: 1_300n });
    expect(big.tax).toBe(1_300_000_000_000_000n); // 1 299 999 999 999 999.87 rounds up
    expect(big.total).toBe(11_299_999_999_999_999n);
    expect(withinBounds(orderTotals([line(1, max), line(1, max)]))).toBe(false);
    expect(withinBounds(orderTotals([line(1, max, 0, 10_000)]))).toBe(false);
  });
});

describe('typed amounts and percentages', () => {
  it('reads amounts in the currency’s minor units', () => {
    expect(decimalToMinor('1234.5', 'CNY')).toBe(123_450n);
    expect(decimalToMinor('0.01', 'CNY')).toBe(1n);
    expect(decimalToMinor('33.33', 'CNY')).toBe(3_333n);
    expect(decimalToMinor('1.005', 'CNY')).toBeNull();
    expect(decimalToMinor('1500', 'JPY')).toBe(1_500n);
    expect(decimalToMinor('1.5', 'JPY')).toBeNull();
    expect(decimalToMinor('-1', 'CNY')).toBeNull();
    expect(decimalToMinor('abc', 'CNY')).toBeNull();
  });

  it('turns percentages into basis points and back', () => {
    expect(percentToBp('10')).toBe(1_000n);
    expect(percentToBp('12.5')).toBe(1_250n);
    expect(percentToBp('13')).toBe(1_300n);
    expect(percentToBp('100')).toBe(10_000n);
    expect(percentToBp('100.01')).toBeNull();
    expect(percentToBp('0.125')).toBeNull();
    expect(bpToPercent(1_250)).toBe('12.5');
    expect(bpToPercent(1_300)).toBe('13');
    expect(bpToPercent(5)).toBe('0.05');
  });
});

describe('order statuses', () => {
  it('move only along the ways the server allows', async () => {
    const { nextStatuses } = await import('./totals');
    expect(nextStatuses('draft')).toEqual(['confirmed', 'paid', 'cancelled']);
    expect(nextStatuses('shipped')).toEqual(['paid', 'refunded']);
    expect(nextStatuses('cancelled')).toEqual([]);
    expect(nextStatuses('refunded')).toEqual([]);
  });
});
