// While a new contact's name, phone or email is typed, the contacts that already match it
// (search by name, exact phone, exact email), each with owner, last change and its latest
// history, so the user opens the existing record instead of making a duplicate.

import { Alert, Button, Card, List, Space, Tag, Typography } from 'antd';
import { useQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { api, type Schemas } from '../../api/client';
import { useUserName } from '../../api/lookups';
import { formatDate } from '../../i18n/format';

type Contact = Schemas['Contact'];

export interface Probe {
  name?: string;
  phone?: string;
  email?: string;
}

function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const id = setTimeout(() => setV(value), ms);
    return () => clearTimeout(id);
  }, [value, ms]);
  return v;
}

/** One lookup; a refused or invalid probe (a half-typed phone) simply finds nothing. */
async function lookup(query: { q?: string; phone?: string; email?: string }): Promise<Contact[]> {
  const { data } = await api.GET('/v1/contacts', { params: { query: { ...query, limit: 5 } } });
  return data?.data ?? [];
}

export function useDuplicates(probe: Probe) {
  const p = useDebounced(probe, 350);
  const name = p.name?.trim() ?? '';
  const phone = p.phone?.trim() ?? '';
  const email = p.email?.trim() ?? '';
  return useQuery({
    queryKey: ['contacts', 'duplicates', name, phone, email],
    enabled: name.length >= 2 || phone.length >= 6 || email.includes('@'),
    queryFn: async () => {
      const found = await Promise.all([
        name.length >= 2 ? lookup({ q: name }) : [],
        phone.length >= 6 ? lookup({ phone }) : [],
        email.includes('@') ? lookup({ email }) : [],
      ]);
      const seen = new Map<string, Contact>();
      for (const c of found.flat()) seen.set(c.id, c);
      return [...seen.values()];
    },
    placeholderData: (prev) => prev,
  });
}

function History({ id }: { id: string }) {
  const { i18n } = useTranslation();
  const entries = useQuery({
    queryKey: ['contacts', id, 'timeline', 'peek'],
    queryFn: async () => (await api.GET('/v1/contacts/{id}/timeline', { params: { path: { id }, query: { limit: 3 } } })).data?.data ?? [],
  });
  if (!entries.data?.length) return null;
  return (
    <ul style={{ margin: '4px 0 0', paddingInlineStart: 18 }}>
      {entries.data.map((e) => (
        <li key={e.id}>
          <Typography.Text type="secondary">
            {formatDate(e.occurred_at, i18n.language)} · {e.subject ?? e.body ?? e.action ?? e.kind}
          </Typography.Text>
        </li>
      ))}
    </ul>
  );
}

export function DuplicateMatches({ matches }: { matches: Contact[] }) {
  const { t, i18n } = useTranslation();
  const userName = useUserName();
  if (!matches.length) return null;
  return (
    <Card size="small" style={{ marginBottom: 16, borderColor: '#faad14' }} data-testid="duplicate-warning">
      <Alert type="warning" showIcon title={t('contacts.duplicatesTitle')} description={t('contacts.duplicatesHelp')} style={{ marginBottom: 8 }} />
      <List
        size="small"
        dataSource={matches}
        renderItem={(c) => (
          <List.Item
            actions={[
              <Link key="open" to={`/contacts/${c.id}`}>
                <Button size="small">{t('common.open')}</Button>
              </Link>,
            ]}
          >
            <List.Item.Meta
              title={
                <Space wrap>
                  <span>{c.name}</span>
                  {c.lifecycle_stage && <Tag>{t(`stages.${c.lifecycle_stage}`)}</Tag>}
                </Space>
              }
              description={
                <>
                  {[c.company_name, c.phones?.[0]?.number, c.emails?.[0]?.address].filter(Boolean).join(' · ')}
                  <div>
                    {t('contacts.owner')}: {userName(c.owner_id)} · {t('contacts.updated')}: {formatDate(c.updated_at, i18n.language)}
                  </div>
                  <History id={c.id} />
                </>
              }
            />
          </List.Item>
        )}
      />
    </Card>
  );
}
