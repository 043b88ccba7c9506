// A company's editable fields, their labels, how values read, the patch of an edit and
// what changed between two versions (the conflict view). Money stays in minor units: the
// revenue typed as a decimal is turned into them with integer arithmetic only.

import type { Schemas } from '../../../api/client';
import { currencyDigits, minorToDecimal } from '../../../i18n/format';
import { isMasked } from '../../../components/FieldValue';

export { isMasked };

export type Company = Schemas['Company'];
export type CompanyPatch = Schemas['CompanyPatch'];
export type NewCompany = Schemas['NewCompany'];

export const SIZE_BANDS: Schemas['SizeBand'][] = ['1-9', '10-49', '50-249', '250-999', '1000+'];

export const EDITABLE = [
  'name',
  'legal_name',
  'industry',
  'size_band',
  'region',
  'address',
  'website',
  'phone',
  'tags',
  'lifecycle_stage',
  'annual_revenue',
  'notes',
  'custom',
] as const;

export const LABELS: Record<string, string> = {
  name: 'records.companies.name',
  legal_name: 'records.companies.legalName',
  industry: 'records.companies.industry',
  size_band: 'records.companies.size',
  region: 'records.companies.region',
  address: 'records.companies.address',
  website: 'records.companies.website',
  phone: 'records.companies.phone',
  tags: 'records.companies.tags',
  owner_id: 'records.companies.owner',
  lifecycle_stage: 'records.companies.stage',
  annual_revenue: 'records.companies.revenue',
  notes: 'records.companies.notes',
  custom: 'contacts.custom',
};


function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

export function changedFields(before: Partial<Company>, after: Partial<Company>): string[] {
  return EDITABLE.filter((k) => !same(before[k], after[k]));
}

/** Only what the user changed; masked values they left alone are not sent back. */
export function patchOf(original: Company, edited: Partial<Company>): CompanyPatch {
  const patch: Record<string, unknown> = {};
  for (const k of EDITABLE) {
    if (!(k in edited) || (edited[k] === undefined && isMasked(original[k]))) continue;
    if (!same(original[k], edited[k])) patch[k] = edited[k] ?? null;
  }
  return patch as CompanyPatch;
}

/** `"1234.5"` CNY → `123450`; null when it is not a plain decimal with at most the
 * currency's digits. */
export function decimalToMinor(text: string, currency: string): number | null {
  const digits = currencyDigits(currency);
  const m = /^\s*(\d{1,15})(?:[.,](\d*))?\s*$/.exec(text.replace(/[\s,](?=\d{3}\b)/g, ''));
  if (!m) return null;
  const frac = m[2] ?? '';
  if (frac.length > digits) return null;
  const n = BigInt(m[1]!) * 10n ** BigInt(digits) + BigInt(frac.padEnd(digits, '0') || '0');
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) return null;
  return Number(n);
}

/** The form's shape of a company: revenue as a decimal string, region flat. */
export interface CompanyForm {
  name?: string;
  legal_name?: string | null;
  industry?: string | null;
  size_band?: Schemas['SizeBand'] | null;
  region?: { country?: string | null; province?: string | null; city?: string | null; district?: string | null } | null;
  address?: string | null;
  website?: string | null;
  phone?: string | null;
  tags?: string[];
  owner_id?: string | null;
  lifecycle_stage?: Schemas['LifecycleStage'] | null;
  revenue?: string;
  currency?: string;
  notes?: string | null;
  custom?: Record<string, unknown>;
}

export function toForm(c: Company): CompanyForm {
  const v: CompanyForm = {};
  for (const k of ['name', 'legal_name', 'industry', 'size_band', 'region', 'address', 'website', 'phone', 'tags', 'lifecycle_stage', 'notes'] as const) {
    if (k in c && !isMasked(c[k])) (v as Record<string, unknown>)[k] = c[k];
  }
  if (c.custom) v.custom = Object.fromEntries(Object.entries(c.custom as Record<string, unknown>).filter(([, x]) => !isMasked(x)));
  if (c.annual_revenue) {
    v.revenue = minorToDecimal(c.annual_revenue.amount_minor, c.annual_revenue.currency);
    v.currency = c.annual_revenue.currency;
  } else v.currency = 'CNY';
  return v;
}

/** The API's shape of the form: blanks become null, the region drops empty parts, the
 * revenue goes to minor units. Fields the form does not hold stay out. */
export function fromForm(v: CompanyForm): Partial<Company> {
  const out: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(v)) {
    if (k === 'revenue' || k === 'currency' || k === 'custom' || val === undefined) continue;
    out[k] = typeof val === 'string' ? val.trim() || null : val;
  }
  if ('region' in v) {
    const r = Object.fromEntries(Object.entries(v.region ?? {}).filter(([, x]) => typeof x === 'string' && x.trim()).map(([k, x]) => [k, (x as string).trim()]));
    if (typeof r.country === 'string') r.country = r.country.toUpperCase();
    out.region = Object.keys(r).length ? r : null;
  }
  if ('revenue' in v) {
    const currency = (v.currency || 'CNY').toUpperCase();
    const minor = v.revenue?.trim() ? decimalToMinor(v.revenue, currency) : null;
    out.annual_revenue = minor === null ? null : { amount_minor: minor, currency };
  }
  if (v.custom) {
    // A value the user cleared is removed (null, as a merge patch says); untouched ones stay out.
    const custom = Object.fromEntries(
      Object.entries(v.custom)
        .filter(([, x]) => x !== undefined)
        .map(([k, x]) => [k, x === '' || (Array.isArray(x) && x.length === 0) ? null : x]),
    );
    if (Object.keys(custom).length) out.custom = custom;
  }
  if (out.name === null) out.name = '';
  return out as Partial<Company>;
}

/** The region at any level as one line, widest last: 海淀区, 北京, CN. */
export function regionText(r: Company['region'] | undefined): string {
  if (!r) return '';
  return [r.district, r.city, r.province, r.country].filter((x, i, all) => x && all.indexOf(x) === i).join(', ');
}

export function display(value: unknown): string {
  if (value === null || value === undefined || value === '') return '—';
  if (Array.isArray(value)) return value.map((v) => (typeof v === 'object' ? JSON.stringify(v) : String(v))).join(', ');
  if (typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (typeof o.amount_minor === 'number' && typeof o.currency === 'string') return `${minorToDecimal(o.amount_minor, o.currency)} ${o.currency}`;
    return Object.values(o)
      .filter((x) => x !== null && x !== undefined && x !== '')
      .map((x) => (typeof x === 'object' ? JSON.stringify(x) : String(x)))
      .join(', ');
  }
  return String(value);
}
