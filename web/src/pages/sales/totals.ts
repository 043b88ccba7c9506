// Order totals exactly as the server computes them (shared/src/orders): per line,
// amount = quantity × unit price; discount = amount × discount_bp / 10000 and
// tax = (amount − discount) × tax_rate_bp / 10000, each rounded half up; total =
// amount − discount + tax; the order sums its lines. All in BigInt minor units, so no
// float ever rounds a fen; the console shows what the server will store.

import { currencyDigits } from '../../i18n/format';

/** The largest amount a business can have, in minor units (the API's bound). */
export const MAX_AMOUNT_MINOR = 1_000_000_000_000_000n;

export interface LineFigures {
  quantity: bigint;
  unitPriceMinor: bigint;
  discountBp: bigint;
  taxRateBp: bigint;
}

export interface Totals {
  amount: bigint;
  discount: bigint;
  tax: bigint;
  total: bigint;
}

/** `part` basis points of `amount`, rounded half up (amounts are never negative). */
export function basisPoints(amount: bigint, part: bigint): bigint {
  return (amount * part + 5_000n) / 10_000n;
}

export function lineTotals(line: LineFigures): Totals {
  const amount = line.quantity * line.unitPriceMinor;
  const discount = basisPoints(amount, line.discountBp);
  const tax = basisPoints(amount - discount, line.taxRateBp);
  return { amount, discount, tax, total: amount - discount + tax };
}

export function orderTotals(lines: LineFigures[]): Totals & { lines: Totals[] } {
  const each = lines.map(lineTotals);
  const sum = (f: (t: Totals) => bigint) => each.reduce((s, t) => s + f(t), 0n);
  return {
    lines: each,
    amount: sum((t) => t.amount),
    discount: sum((t) => t.discount),
    tax: sum((t) => t.tax),
    total: sum((t) => t.total),
  };
}

/** Whether the server would take these totals (each line and the order within bounds). */
export function withinBounds(totals: Totals & { lines: Totals[] }): boolean {
  return (
    totals.lines.every((l) => l.amount <= MAX_AMOUNT_MINOR) &&
    [totals.amount, totals.discount, totals.tax, totals.total].every((v) => v <= MAX_AMOUNT_MINOR)
  );
}

/** `"1234.5"` in CNY → `123450n`; null when it is not an amount with at most the currency's
 * minor digits (no float: the digits are read as text). */
export function decimalToMinor(text: string, currency: string): bigint | null {
  return scaled(text, currencyDigits(currency));
}

/** A percentage typed as `"12.5"` → `1250n` basis points (at most two decimals). */
export function percentToBp(text: string): bigint | null {
  const bp = scaled(text, 2);
  return bp !== null && bp <= 10_000n ? bp : null;
}

/** `1250` basis points → `"12.5"`. */
export function bpToPercent(bp: number | bigint): string {
  const n = BigInt(bp);
  const whole = n / 100n;
  const frac = (n % 100n).toString().padStart(2, '0').replace(/0+$/, '');
  return frac ? `${whole}.${frac}` : `${whole}`;
}

function scaled(text: string, digits: number): bigint | null {
  const m = /^\s*(\d{1,16})(?:[.,](\d*))?\s*$/.exec(text);
  if (!m) return null;
  const frac = m[2] ?? '';
  if (frac.length > digits) return null;
  return BigInt(m[1]! + frac.padEnd(digits, '0'));
}

export type OrderStatus = 'draft' | 'confirmed' | 'paid' | 'shipped' | 'cancelled' | 'refunded';

/** Where an order's status may go next (shared/src/orders: `can_become`). */
export function nextStatuses(status: OrderStatus): OrderStatus[] {
  switch (status) {
    case 'draft':
      return ['confirmed', 'paid', 'cancelled'];
    case 'confirmed':
      return ['paid', 'shipped', 'cancelled'];
    case 'paid':
      return ['shipped', 'refunded'];
    case 'shipped':
      return ['paid', 'refunded'];
    default:
      return [];
  }
}
