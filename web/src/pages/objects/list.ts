// A custom object's list in its address (see components/list.ts): `q`, `sort`, `owner_id`
// and `cf.<field>` for the simple filters, of the object's filterable fields only.

import type { Schemas } from '../../api/client';
import { customFilters, sortOf } from '../../components/list';
import type { ObjectField } from './definitions';

/** The field types a list filters on with one pick (an option, yes/no, a record). */
export const FILTERABLE: Schemas['CustomFieldType'][] = ['single_select', 'multi_select', 'boolean', 'relation'];

/** How many field columns a list shows before the user chooses. */
export const DEFAULT_COLUMNS = 6;

export function filterParams(params: URLSearchParams, filterable: Pick<ObjectField, 'key'>[]) {
  return {
    q: params.get('q') ?? '',
    sort: sortOf(params),
    owner: params.get('owner_id') || undefined,
    custom: customFilters(
      params,
      filterable.map((f) => f.key),
    ),
  };
}
