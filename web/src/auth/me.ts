// Who is signed in, their company and what their roles allow (GET /v1/me). The console
// hides what the API would refuse; the API still decides.

import { useQuery } from '@tanstack/react-query';
import { api, unwrap, type Schemas } from '../api/client';

export type Me = Schemas['Me'];

export function useMe() {
  return useQuery({
    queryKey: ['me'],
    queryFn: () => unwrap(api.GET('/v1/me')),
    staleTime: 60_000,
  });
}

type Action = 'read' | 'create' | 'update' | 'delete' | string;

/** Whether any scope of `action` on `resource` is granted. */
export function can(me: Me | undefined, resource: string, action: Action): boolean {
  const scope = me?.permissions?.[resource]?.[action as keyof NonNullable<Me['permissions'][string]>];
  return scope !== undefined;
}

/** How the caller's roles restrict a field: `hidden`, `masked`, `read_only` or nothing. */
export function fieldRule(me: Me | undefined, resource: string, field: string): string | undefined {
  return me?.field_rules?.[resource]?.[field] as string | undefined;
}
