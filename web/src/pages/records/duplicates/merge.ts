// What a merge of two contacts keeps and loses, as the server does it
// (POST /v1/contacts/{id}/merge): the kept contact keeps its values except the fields
// named in `take`, its empty fields are filled from the other, emails, phones and tags are
// combined, and the other contact is deleted.

import type { Schemas } from '../../../api/client';

export type Contact = Schemas['Contact'];
export type Side = 'a' | 'b';

/** Single-valued fields a merge chooses between, in display order. */
export const CHOOSABLE = [
  'name',
  'company_name',
  'title',
  'owner_id',
  'lifecycle_stage',
  'address',
  'source',
  'notes',
  'national_id',
  'card_number',
  'bank_account',
  'date_of_birth',
] as const;
/** Lists whose items are combined. */
export const COMBINED = ['emails', 'phones', 'tags'] as const;

export interface MergeRow {
  field: string;
  a: unknown;
  b: unknown;
  /** Both hold a value and they differ: the user chooses. */
  choose: boolean;
  /** A list of both, combined. */
  combined: boolean;
}

export function isEmpty(v: unknown): boolean {
  return (
    v === undefined ||
    v === null ||
    v === '' ||
    (Array.isArray(v) && v.length === 0) ||
    (typeof v === 'object' && !Array.isArray(v) && Object.values(v as object).every((x) => x === null || x === undefined || x === ''))
  );
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

function get(c: Contact, field: string): unknown {
  if (field.startsWith('custom.')) return (c.custom as Record<string, unknown> | undefined)?.[field.slice(7)];
  return (c as Record<string, unknown>)[field];
}

function present(c: Contact, field: string): boolean {
  if (field.startsWith('custom.')) return !!c.custom && field.slice(7) in (c.custom as object);
  return field in c;
}

/** The rows of the side-by-side view: every field either contact shows (a field the
 * caller's role hides is absent from both answers, so it is left out). */
export function mergeRows(a: Contact, b: Contact): MergeRow[] {
  const customKeys = [...new Set([...Object.keys(a.custom ?? {}), ...Object.keys(b.custom ?? {})])].sort();
  const fields = [...CHOOSABLE, ...COMBINED, ...customKeys.map((k) => `custom.${k}`)];
  return fields
    .filter((f) => present(a, f) || present(b, f))
    .map((field) => {
      const va = get(a, field);
      const vb = get(b, field);
      const combined = (COMBINED as readonly string[]).includes(field);
      return { field, a: va, b: vb, combined, choose: !combined && !isEmpty(va) && !isEmpty(vb) && !same(va, vb) };
    })
    .filter((r) => !isEmpty(r.a) || !isEmpty(r.b));
}

export interface MergePlan {
  /** The fields to take from the other contact (the request's `take`). */
  take: string[];
  /** The values that will not survive. */
  lost: { field: string; value: unknown }[];
}

/** The request and its losses for the user's choice per field (default: the kept one). */
export function mergePlan(rows: MergeRow[], choice: Record<string, Side>): MergePlan {
  const take: string[] = [];
  const lost: MergePlan['lost'] = [];
  for (const r of rows) {
    if (!r.choose) continue;
    if (choice[r.field] === 'b') {
      take.push(r.field);
      lost.push({ field: r.field, value: r.a });
    } else {
      lost.push({ field: r.field, value: r.b });
    }
  }
  return { take, lost };
}
