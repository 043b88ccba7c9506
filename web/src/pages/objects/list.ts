// A record list's state in its address (so a filtered list can be shared and reloaded):
// `q`, `sort`, `owner_id` and `cf.<field>` for the simple filters.

import type { Schemas } from '../../api/client';
import type { ObjectField } from './definitions';

export type Sort = 'name' | '-name' | 'created' | '-created' | 'updated' | '-updated';
const SORTS: Sort[] = ['name', '-name', 'created', '-created', 'updated', '-updated'];

/** The field types a list filters on with one pick (an option, yes/no, a record). */
export const FILTERABLE: Schemas['CustomFieldType'][] = ['single_select', 'multi_select', 'boolean', 'relation'];

/** How many field columns a list shows before the user chooses. */
export const DEFAULT_COLUMNS = 6;

export function filterParams(params: URLSearchParams, filterable: Pick<ObjectField, 'key'>[]) {
  const raw = params.get('sort');
  const sort = SORTS.includes(raw as Sort) ? (raw as Sort) : undefined;
  const custom: Record<string, string> = {};
  for (const f of filterable) {
    const v = params.get(`cf.${f.key}`);
    if (v) custom[f.key] = v;
  }
  return {
    q: params.get('q') ?? '',
    sort,
    owner: params.get('owner_id') || undefined,
    custom,
  };
}

/** The columns the user chose for this object in this browser, else its first fields. */
export function storedColumns(key: string, fields: string[]): string[] {
  try {
    const raw = JSON.parse(localStorage.getItem(`crm.objects.${key}.columns`) ?? 'null') as unknown;
    if (Array.isArray(raw)) return fields.filter((f) => raw.includes(f));
  } catch {
    // fall through
  }
  return fields.slice(0, DEFAULT_COLUMNS);
}
