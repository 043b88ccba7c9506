// The company's custom objects (GET /v1/objects) and what the caller's roles allow on them.
// A role grants one object as `objects/<key>` and every object as `objects/*`; `/v1/me`
// lists both as they were granted, so a check looks at either.

import { useQuery } from '@tanstack/react-query';
import { api, unwrap, type Schemas } from '../../api/client';
import { can, fieldRule, type Me } from '../../auth/me';

export type ObjectDefinition = Schemas['ObjectDefinition'];
export type ObjectField = Schemas['CustomField'];
export type ObjectRecord = Schemas['ObjectRecord'];
export type Labels = Schemas['Labels'];

/** Every custom object the caller may see (none when the role may see none). */
export function useObjects() {
  return useQuery({
    queryKey: ['objects', 'definitions'],
    queryFn: () => unwrap(api.GET('/v1/objects')),
    select: (page) => page.data,
    staleTime: 60_000,
    retry: false,
  });
}

/** One object's definition, from the shared list. */
export function useObject(key: string) {
  const objects = useObjects();
  return { ...objects, data: objects.data?.find((o) => o.key === key) };
}

/** A label in the reader's language, else in the other one. */
export function labelOf(labels: Labels | null | undefined, lang: string): string {
  if (!labels) return '';
  const zh = labels['zh-CN'] ?? '';
  const en = labels.en ?? '';
  return (lang.startsWith('zh') ? zh || en : en || zh) || '';
}

/** The fields a form or a list uses: removed ones are gone for users. */
export function activeFields(def: ObjectDefinition | undefined): ObjectField[] {
  return def?.fields.filter((f) => !f.removed) ?? [];
}

/** The role resource of a custom object. */
export function resourceOf(key: string): string {
  return `objects/${key}`;
}

/** Whether the caller may `action` on the object's records (its own grant or `objects/*`). */
export function canObject(me: Me | undefined, key: string, action: string): boolean {
  return can(me, resourceOf(key), action) || can(me, 'objects/*', action);
}

/** How the caller's roles restrict one of the object's fields: `name`, `owner_id`, or a
 * field's key (a custom value, `custom.<key>` in the role). */
export function objectFieldRule(me: Me | undefined, key: string, field: string): string | undefined {
  const name = field === 'name' || field === 'owner_id' ? field : `custom.${field}`;
  return fieldRule(me, resourceOf(key), name) ?? fieldRule(me, 'objects/*', name);
}

/** What a relation field points at: the console path of a record of its target. */
export function recordPath(target: string, id: string): string {
  switch (target) {
    case 'contacts':
      return `/contacts/${id}`;
    case 'companies':
      return `/companies/${id}`;
    case 'deals':
      return `/deals/${id}`;
    default:
      return `/objects/${target}/${id}`;
  }
}

/** The role resource that reading a relation's target needs. */
export function targetResource(target: string): string {
  return target === 'contacts' || target === 'companies' || target === 'deals' ? target : resourceOf(target);
}

export function canReadTarget(me: Me | undefined, target: string): boolean {
  const resource = targetResource(target);
  return resource.startsWith('objects/') ? canObject(me, target, 'read') : can(me, resource, 'read');
}

/** The relation fields of each object that point at `target`, and that the caller may filter
 * on (a hidden field's filter is refused). */
export function relationsTo(
  objects: ObjectDefinition[] | undefined,
  target: string,
  me: Me | undefined,
): { object: ObjectDefinition; field: ObjectField }[] {
  const out: { object: ObjectDefinition; field: ObjectField }[] = [];
  for (const object of objects ?? []) {
    if (!canObject(me, object.key, 'read')) continue;
    for (const field of activeFields(object)) {
      if (field.type !== 'relation' || field.target !== target) continue;
      const rule = objectFieldRule(me, object.key, field.key);
      if (rule === 'hidden' || rule === 'masked') continue;
      out.push({ object, field });
    }
  }
  return out;
}
