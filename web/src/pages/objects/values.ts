// A custom object's values between the API and a form: money typed as a decimal and sent in
// minor units (BigInt, never a float), dates as `YYYY-MM-DD`, empty inputs as "no value";
// and the merge patch of an edit, holding only what the user changed.

import { currencyDigits, minorToDecimal } from '../../i18n/format';
import { isMasked } from '../../components/FieldValue';
import type { ObjectField, ObjectRecord } from './definitions';

export interface Money {
  amount_minor: number;
  currency: string;
}

/** A money input's value: the amount as typed, and its currency. */
export interface MoneyText {
  amount?: string;
  currency?: string;
}

export const CURRENCIES = ['CNY', 'USD', 'EUR', 'HKD', 'JPY', 'GBP', 'TWD', 'SGD'] as const;

/** `"1,234.50"` CNY → `123450n`; null when it is no amount of that currency (too many
 * decimals, letters, a sign). Exact: the digits are joined as text, then read by BigInt. */
export function decimalToMinor(text: string, currency: string): bigint | null {
  const clean = text.replace(/[,\s，]/g, '');
  const m = /^(\d+)(?:\.(\d*))?$/.exec(clean) ?? /^()\.(\d+)$/.exec(clean);
  if (!m) return null;
  const digits = currencyDigits(currency);
  const whole = m[1] || '0';
  const frac = m[2] ?? '';
  if (frac.length > digits) return null;
  return BigInt(whole + frac.padEnd(digits, '0'));
}

export function isMoney(v: unknown): v is Money {
  return typeof v === 'object' && v !== null && 'amount_minor' in v && 'currency' in v;
}

type FormCustom = Record<string, unknown>;

/** The form's value of one stored value. */
export function toFormValue(field: ObjectField, value: unknown): unknown {
  if (value === null || value === undefined) return undefined;
  if (field.type === 'money' && isMoney(value)) {
    return { amount: minorToDecimal(value.amount_minor, value.currency), currency: value.currency } satisfies MoneyText;
  }
  return value;
}

/** The API's value of one form value; null when the input is empty, `undefined` when it
 * cannot be read (a bad amount: the form's rule says so before this runs). */
export function fromFormValue(field: ObjectField, value: unknown): unknown {
  if (value === undefined || value === null) return null;
  switch (field.type) {
    case 'text': {
      const s = String(value).trim();
      return s ? s : null;
    }
    case 'money': {
      const m = value as MoneyText;
      if (!m.amount?.trim()) return null;
      const currency = m.currency ?? 'CNY';
      const minor = decimalToMinor(m.amount, currency);
      return minor === null ? undefined : { amount_minor: Number(minor), currency };
    }
    case 'multi_select':
      return Array.isArray(value) && value.length ? value : null;
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? value : null;
    case 'single_select':
    case 'relation':
    case 'date':
      return value === '' ? null : value;
    default:
      return value;
  }
}

/** The form's initial values of a record: only what the API returned, masked values left
 * out (they are not the user's to send back). */
export function toForm(record: ObjectRecord | null, fields: ObjectField[]) {
  const custom: FormCustom = {};
  const stored = (record?.custom ?? {}) as Record<string, unknown>;
  for (const f of fields) {
    if (f.key in stored && !isMasked(stored[f.key])) custom[f.key] = toFormValue(f, stored[f.key]);
  }
  return { name: record?.name, owner_id: record?.owner_id, custom };
}

export interface FormValues {
  name?: string;
  owner_id?: string | null;
  custom?: FormCustom;
}

/** The body of a new record: empty values left out. */
export function newRecordBody(values: FormValues, fields: ObjectField[]) {
  const custom: Record<string, unknown> = {};
  for (const f of fields) {
    const v = fromFormValue(f, values.custom?.[f.key]);
    if (v !== null && v !== undefined) custom[f.key] = v;
  }
  return {
    name: (values.name ?? '').trim(),
    ...(values.owner_id ? { owner_id: values.owner_id } : {}),
    ...(Object.keys(custom).length ? { custom } : {}),
  };
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

export interface RecordPatch {
  name?: string;
  owner_id?: string;
  custom?: Record<string, unknown>;
}

/** Only what the user changed, as a merge patch: a cleared value is `null`, untouched
 * values stay out, so re-applying it after a conflict keeps another person's edits.
 * `writable` names what the user may change (read-only and hidden fields are never sent). */
export function patchOf(
  original: ObjectRecord,
  values: FormValues,
  fields: ObjectField[],
  writable: (field: string) => boolean,
): RecordPatch {
  const patch: RecordPatch = {};
  const name = values.name?.trim();
  if (writable('name') && name && name !== original.name) patch.name = name;
  if (writable('owner_id') && values.owner_id && values.owner_id !== original.owner_id) patch.owner_id = values.owner_id;
  const stored = (original.custom ?? {}) as Record<string, unknown>;
  const custom: Record<string, unknown> = {};
  for (const f of fields) {
    if (!writable(f.key) || !values.custom || !(f.key in values.custom)) continue;
    // A masked value the user left alone stays as it is.
    if (isMasked(stored[f.key]) && values.custom[f.key] === undefined) continue;
    const v = fromFormValue(f, values.custom[f.key]);
    if (v === undefined) continue;
    if (!same(stored[f.key], v)) custom[f.key] = v;
  }
  if (Object.keys(custom).length) patch.custom = custom;
  return patch;
}

/** The fields (`name`, `owner_id`, field keys) whose values differ between two versions. */
export function changedKeys(before: ObjectRecord, after: ObjectRecord, fields: ObjectField[]): string[] {
  const out: string[] = [];
  if (!same(before.name, after.name)) out.push('name');
  if (!same(before.owner_id, after.owner_id)) out.push('owner_id');
  const a = (before.custom ?? {}) as Record<string, unknown>;
  const b = (after.custom ?? {}) as Record<string, unknown>;
  for (const f of fields) if (!same(a[f.key], b[f.key])) out.push(f.key);
  return out;
}

/** A `YYYY-MM-DD` date as a local calendar day (no time zone shift). */
export function dayOf(value: string): Date | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  return m ? new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : null;
}
