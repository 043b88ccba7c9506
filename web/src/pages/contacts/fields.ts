// The contact's editable fields, how they read, and the difference of two versions (what
// the conflict dialog shows).

import type { Schemas } from '../../api/client';
import { isMasked } from '../../components/FieldValue';

export { isMasked };

export type Contact = Schemas['Contact'];
export type ContactPatch = Schemas['ContactPatch'];

/** Fields the edit form covers, in display order. */
export const EDITABLE = [
  'name',
  'emails',
  'phones',
  'company_name',
  'title',
  'lifecycle_stage',
  'tags',
  'address',
  'source',
  'notes',
  'national_id',
  'custom',
] as const;
export type Editable = (typeof EDITABLE)[number];

export const LABELS: Record<string, string> = {
  name: 'contacts.name',
  emails: 'contacts.email',
  phones: 'contacts.phone',
  company_name: 'contacts.company',
  title: 'contacts.jobTitle',
  lifecycle_stage: 'contacts.stage',
  tags: 'contacts.tags',
  address: 'contacts.city',
  source: 'contacts.source',
  notes: 'contacts.notes',
  custom: 'contacts.custom',
  owner_id: 'contacts.owner',
  national_id: 'contacts.nationalId',
  date_of_birth: 'contacts.dateOfBirth',
};


function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/** The fields whose values differ between two versions of a contact. */
export function changedFields(before: Partial<Contact>, after: Partial<Contact>, keys: readonly string[] = EDITABLE) {
  return keys.filter((k) => same(before[k as keyof Contact], after[k as keyof Contact]) === false);
}

/** Only what the user changed, as a patch: untouched fields stay out, so a re-applied
 * change never overwrites someone else's edit of another field. */
export function patchOf(original: Contact, edited: Partial<Contact>): ContactPatch {
  const patch: Record<string, unknown> = {};
  for (const k of EDITABLE) {
    // A masked value the user left alone is not theirs to send back.
    if (!(k in edited) || (edited[k] === undefined && isMasked(original[k]))) continue;
    if (!same(original[k], edited[k])) patch[k] = edited[k] ?? null;
  }
  return patch as ContactPatch;
}

/** A value as one line of text, for the conflict dialog and the properties. */
export function display(value: unknown): string {
  if (value === null || value === undefined || value === '') return '—';
  if (Array.isArray(value)) {
    return value
      .map((v) => (typeof v === 'object' && v ? ((v as { address?: string; number?: string }).address ?? (v as { number?: string }).number ?? JSON.stringify(v)) : String(v)))
      .join(', ');
  }
  if (typeof value === 'object') {
    return Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== null && v !== undefined && v !== '')
      .map(([, v]) => (typeof v === 'object' ? JSON.stringify(v) : String(v)))
      .join(', ');
  }
  return String(value);
}
