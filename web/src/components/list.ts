// A record list's state (contacts, companies, a custom object's records), kept in its address
// so a filtered list can be shared and reloaded: `q` (the search), `sort`, and one parameter
// a filter (`owner_id`, `tags`, `cf.<field>` for a custom field, …). The columns a user chose
// are remembered in this browser.

export type Sort = 'name' | '-name' | 'created' | '-created' | 'updated' | '-updated';
const SORTS: Sort[] = ['name', '-name', 'created', '-created', 'updated', '-updated'];

/** The list's sort, if the address names one the API knows. */
export function sortOf(params: URLSearchParams): Sort | undefined {
  const raw = params.get('sort');
  return SORTS.includes(raw as Sort) ? (raw as Sort) : undefined;
}

/** The list's own filters in force (each an address parameter of the same name). */
export function namedFilters<K extends string>(params: URLSearchParams, keys: readonly K[]): Partial<Record<K, string>> {
  const filters: Partial<Record<K, string>> = {};
  for (const k of keys) {
    const v = params.get(k);
    if (v) filters[k] = v;
  }
  return filters;
}

/** The custom-field filters (`cf.<field>=<value>`), of the given fields only if named. */
export function customFilters(params: URLSearchParams, fields?: readonly string[]): Record<string, string> {
  const custom: Record<string, string> = {};
  for (const [k, v] of params.entries()) {
    const m = /^cf\.([a-z][a-z0-9_]*)$/.exec(k);
    if (m?.[1] && v && (!fields || fields.includes(m[1]))) custom[m[1]] = v;
  }
  return custom;
}

/** The address after the filter form: a value set (trimmed), an emptied one removed. */
export function withFilters(params: URLSearchParams, values: Record<string, unknown>): URLSearchParams {
  const next = new URLSearchParams(params);
  for (const [k, v] of Object.entries(values)) {
    const text = v === undefined || v === null ? '' : String(v).trim();
    if (text) next.set(k, text);
    else next.delete(k);
  }
  return next;
}

/** The address without its filters: the search and the sort stay. */
export function withoutFilters(params: URLSearchParams): URLSearchParams {
  const next = new URLSearchParams();
  for (const k of ['q', 'sort']) {
    const v = params.get(k);
    if (v) next.set(k, v);
  }
  return next;
}

/** The columns the user chose for this list in this browser (in the list's order, among
 * those it still has), else its defaults. */
export function storedColumns(storageKey: string, all: readonly string[], defaults: readonly string[]): string[] {
  try {
    const raw = JSON.parse(localStorage.getItem(storageKey) ?? 'null') as unknown;
    if (Array.isArray(raw)) return all.filter((c) => raw.includes(c));
  } catch {
    // fall through
  }
  return [...defaults];
}

export function storeColumns(storageKey: string, columns: readonly string[]) {
  localStorage.setItem(storageKey, JSON.stringify(columns));
}
