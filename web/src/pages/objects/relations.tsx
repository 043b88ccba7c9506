// Relation fields: the related record's name as a link to its page, and a search-select over
// the target's list (contacts, companies, deals or another custom object's records).

import { Select, Typography } from 'antd';
import { useQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { api, unwrap } from '../../api/client';
import { useMe } from '../../auth/me';
import { canReadTarget, recordPath } from './definitions';

interface Found {
  id: string;
  name: string;
  hint?: string;
}

/** The query of one related record (sharing the cache of the record's own page). */
function nameQuery(target: string, id: string) {
  switch (target) {
    case 'contacts':
      return {
        queryKey: ['contacts', id, { reveal: false }],
        queryFn: () => unwrap(api.GET('/v1/contacts/{id}', { params: { path: { id } } })),
      };
    case 'companies':
      return {
        queryKey: ['companies', id],
        queryFn: () => unwrap(api.GET('/v1/companies/{id}', { params: { path: { id } } })),
      };
    case 'deals':
      return {
        queryKey: ['deals', id],
        queryFn: () => unwrap(api.GET('/v1/deals/{id}', { params: { path: { id } } })),
      };
    default:
      return {
        queryKey: ['objects', target, 'records', id],
        queryFn: () => unwrap(api.GET('/v1/objects/{key}/records/{id}', { params: { path: { key: target, id } } })),
      };
  }
}

function nameOf(record: unknown): string | undefined {
  if (!record || typeof record !== 'object') return undefined;
  const r = record as { name?: string; title?: string };
  return r.name ?? r.title;
}

/** A related record's name, or undefined while unknown (or when the caller may not read it). */
export function useRecordName(target: string, id: string | null | undefined): string | undefined {
  const { data: me } = useMe();
  const q = nameQuery(target, id ?? '');
  const record = useQuery({
    queryKey: q.queryKey,
    queryFn: q.queryFn as () => Promise<unknown>,
    enabled: Boolean(id) && canReadTarget(me, target),
    staleTime: 60_000,
    retry: false,
  });
  return nameOf(record.data);
}

/** The related record as a link to its page, named when the caller may read it. */
export function RelationLink({ target, id, inline }: { target: string; id: string; inline?: boolean }) {
  const name = useRecordName(target, id);
  const { data: me } = useMe();
  if (!canReadTarget(me, target)) return <Typography.Text type="secondary">{id}</Typography.Text>;
  return (
    // Within a line of text a link is underlined: its colour alone does not tell it apart.
    <Link to={recordPath(target, id)} onClick={(e) => e.stopPropagation()} style={inline ? { textDecoration: 'underline' } : undefined}>
      {name ?? id}
    </Link>
  );
}

async function search(target: string, q: string): Promise<Found[]> {
  const text = q.trim() || undefined;
  switch (target) {
    case 'contacts': {
      const page = await unwrap(api.GET('/v1/contacts', { params: { query: { q: text, limit: 20 } } }));
      return page.data.map((c) => ({ id: c.id, name: c.name ?? c.id, hint: c.company_name ?? undefined }));
    }
    case 'companies': {
      const page = await unwrap(api.GET('/v1/companies', { params: { query: { q: text, limit: 20 } } }));
      return page.data.map((c) => ({ id: c.id, name: c.name ?? c.id }));
    }
    case 'deals': {
      // Deals have no search parameter: the latest ones, narrowed here by their title.
      const page = await unwrap(api.GET('/v1/deals', { params: { query: { limit: 100 } } }));
      const needle = text?.toLowerCase();
      return page.data
        .filter((d) => !needle || (d.title ?? '').toLowerCase().includes(needle))
        .slice(0, 20)
        .map((d) => ({ id: d.id, name: d.title ?? d.id }));
    }
    default: {
      const page = await unwrap(
        api.GET('/v1/objects/{key}/records', { params: { path: { key: target }, query: { q: text, limit: 20 } } }),
      );
      return page.data.map((r) => ({ id: r.id, name: r.name ?? r.id }));
    }
  }
}

/** A search-select of one record of `target`; its value is the record's id. */
export function RelationSelect({
  target,
  value,
  onChange,
  id,
  disabled,
  'aria-label': ariaLabel,
}: {
  target: string;
  value?: string | null;
  onChange?: (v: string | null) => void;
  id?: string;
  disabled?: boolean;
  'aria-label'?: string;
}) {
  const { t } = useTranslation();
  const { data: me } = useMe();
  // A relation must name a record the caller can read: without reading the target there
  // is nothing to pick (the value already set stays as it is).
  const off = disabled || !canReadTarget(me, target);
  const [typed, setTyped] = useState('');
  const [q, setQ] = useState('');
  useEffect(() => {
    const timer = setTimeout(() => setQ(typed), 250);
    return () => clearTimeout(timer);
  }, [typed]);
  const found = useQuery({
    queryKey: ['objects', 'pick', target, q],
    queryFn: () => search(target, q),
    enabled: !off,
    retry: false,
    staleTime: 10_000,
  });
  const current = useRecordName(target, value);
  const options = (found.data ?? []).map((r) => ({
    value: r.id,
    label: [r.name, r.hint].filter(Boolean).join(' · '),
  }));
  if (value && !options.some((o) => o.value === value)) options.unshift({ value, label: current ?? value });
  return (
    <Select
      id={id}
      aria-label={ariaLabel}
      disabled={off}
      showSearch={{ filterOption: false, onSearch: setTyped }}
      allowClear
      placeholder={t('objects.record.pick')}
      value={value ?? undefined}
      onChange={(v) => onChange?.(v ?? null)}
      options={options}
      loading={found.isFetching}
      notFoundContent={null}
    />
  );
}
