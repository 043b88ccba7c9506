// Dates, numbers and money for the reader's locale: 2026年12月7日 and ¥1,234.50 in zh-CN,
// Dec 7, 2026 and CN¥1,234.50 in en. Money is kept in integer minor units end to end and
// turned into a decimal string only for display, so no float ever rounds an amount.

export function formatDate(value: string | Date | null | undefined, lang: string): string {
  if (!value) return '';
  const d = typeof value === 'string' ? new Date(value) : value;
  if (Number.isNaN(d.getTime())) return '';
  return new Intl.DateTimeFormat(lang, { dateStyle: 'medium' }).format(d);
}

export function formatDateTime(value: string | Date | null | undefined, lang: string): string {
  if (!value) return '';
  const d = typeof value === 'string' ? new Date(value) : value;
  if (Number.isNaN(d.getTime())) return '';
  return new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'short' }).format(d);
}

export function formatNumber(value: number, lang: string): string {
  return new Intl.NumberFormat(lang).format(value);
}

/** The number of minor-unit digits of a currency (2 for CNY, 0 for JPY, 3 for KWD). */
export function currencyDigits(currency: string): number {
  try {
    return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions()
      .maximumFractionDigits ?? 2;
  } catch {
    return 2;
  }
}

/** `123450` minor units of CNY → `"1234.50"`, exactly (BigInt, no float). */
export function minorToDecimal(amountMinor: number | bigint, currency: string): string {
  const digits = currencyDigits(currency);
  const n = BigInt(amountMinor);
  const negative = n < 0n;
  const abs = negative ? -n : n;
  const s = abs.toString().padStart(digits + 1, '0');
  const whole = s.slice(0, s.length - digits);
  const frac = digits > 0 ? `.${s.slice(s.length - digits)}` : '';
  return `${negative ? '-' : ''}${whole}${frac}`;
}

export function formatMoney(
  money: { amount_minor: number; currency: string } | null | undefined,
  lang: string,
): string {
  if (!money) return '';
  const decimal = minorToDecimal(money.amount_minor, money.currency);
  try {
    // Intl formats decimal strings exactly (no conversion to a float).
    return new Intl.NumberFormat(lang, { style: 'currency', currency: money.currency }).format(
      decimal as unknown as number,
    );
  } catch {
    return `${decimal} ${money.currency}`;
  }
}
