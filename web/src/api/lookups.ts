// Small lists many screens need: the company's users (owner names) and custom fields.
// Both may be refused to a role; the screens then show ids or leave the filter out.

import { useQuery } from '@tanstack/react-query';
import { api, unwrap, type Schemas } from './client';
import { can, useMe } from '../auth/me';

export function useUsers() {
  const { data: me } = useMe();
  return useQuery({
    queryKey: ['users'],
    // Only for roles that may list users; others see their own name and ids.
    enabled: can(me, 'users', 'read'),
    queryFn: async () => {
      const users: Schemas['User'][] = [];
      let cursor: string | undefined;
      for (let i = 0; i < 10; i++) {
        const page = await unwrap(api.GET('/v1/users', { params: { query: { limit: 200, cursor } } }));
        users.push(...page.data);
        if (!page.next_cursor) break;
        cursor = page.next_cursor;
      }
      return users;
    },
    staleTime: 5 * 60_000,
    retry: false,
  });
}

export function useUserName() {
  const users = useUsers();
  const { data: me } = useMe();
  return (id: string | null | undefined) => {
    if (!id) return '';
    if (id === me?.user.id) return me.user.name;
    return users.data?.find((u) => u.id === id)?.name ?? id;
  };
}

export function useCustomFields(object: Schemas['CustomObject']) {
  return useQuery({
    queryKey: ['fields', object],
    queryFn: () => unwrap(api.GET('/v1/settings/fields', { params: { query: { object } } })),
    select: (page) => page.data.filter((f) => !f.removed),
    staleTime: 5 * 60_000,
    retry: false,
  });
}
