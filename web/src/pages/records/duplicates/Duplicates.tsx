// The duplicate report (GET /v1/contacts/duplicates, a page examines a slice of contacts,
// so more can be checked on demand) and the side-by-side merge: per field the user picks
// the value that survives, and the confirmation names what will be lost.

import { Alert, App, Button, Card, Drawer, Empty, Flex, Grid, List, Radio, Space, Table, Tag, Typography } from 'antd';
import { useInfiniteQuery, useQueryClient } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { api, ifMatch, unwrap } from '../../../api/client';
import { ApiProblem } from '../../../api/problem';
import { useUserName } from '../../../api/lookups';
import { useProblemText, useReportProblem } from '../../../api/useProblem';
import { can, useMe } from '../../../auth/me';
import { useCustomFields } from '../../../api/lookups';
import { formatDate } from '../../../i18n/format';
import { display, LABELS } from '../../contacts/fields';
import { mergePlan, mergeRows, type Contact, type Side } from './merge';

interface Pair {
  keep: Contact;
  other: Contact;
}

export default function Duplicates() {
  const { t, i18n } = useTranslation();
  const problemText = useProblemText();
  const { data: me } = useMe();
  const [pair, setPair] = useState<Pair | null>(null);
  const d = (k: string, o?: Record<string, unknown>) => t(`records.duplicates.${k}`, o);
  const pages = useInfiniteQuery({
    queryKey: ['contacts', 'duplicate-report'],
    queryFn: ({ pageParam }) => unwrap(api.GET('/v1/contacts/duplicates', { params: { query: { limit: 200, cursor: pageParam } } })),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
  const groups = useMemo(() => pages.data?.pages.flatMap((p) => p.data) ?? [], [pages.data]);
  const mayMerge = can(me, 'contacts', 'update') && can(me, 'contacts', 'delete');
  const summary = (c: Contact) => [c.company_name, c.phones?.[0]?.number, c.emails?.[0]?.address].filter(Boolean).join(' · ');

  return (
    <>
      <Typography.Title level={1} style={{ fontSize: 22 }}>
        {d('title')}
      </Typography.Title>
      <Typography.Paragraph type="secondary">{d('help')}</Typography.Paragraph>
      <List
        loading={pages.isLoading}
        dataSource={groups}
        data-testid="duplicate-groups"
        locale={{ emptyText: <Empty description={pages.isError ? problemText(pages.error) : d('empty')} /> }}
        renderItem={(g) => (
          <List.Item style={{ display: 'block', padding: 0, borderBlockEnd: 0 }}>
          <Card size="small" style={{ marginBottom: 12 }} data-testid="duplicate-group">
            <Flex vertical gap={4}>
              <div>
                <Link to={`/contacts/${g.contact.id}`}>
                  <Typography.Text strong>{g.contact.name}</Typography.Text>
                </Link>{' '}
                <Typography.Text type="secondary">
                  {summary(g.contact)} · {formatDate(g.contact.created_at, i18n.language)}
                </Typography.Text>
              </div>
              {g.matches.map((m) => (
                <Flex key={m.contact.id} wrap align="center" gap={8} style={{ paddingInlineStart: 16 }}>
                  <Link to={`/contacts/${m.contact.id}`}>{m.contact.name}</Link>
                  <Typography.Text type="secondary">{summary(m.contact)}</Typography.Text>
                  {m.reasons.map((r) => (
                    <Tag key={r}>
                      {d(`reasons.${r}`)}
                    </Tag>
                  ))}
                  {mayMerge && (
                    <Button
                      size="small"
                      onClick={() => setPair({ keep: g.contact, other: m.contact })}
                      aria-label={`${d('merge')}: ${g.contact.name ?? ''} ← ${m.contact.name ?? ''}`}
                    >
                      {d('merge')}
                    </Button>
                  )}
                </Flex>
              ))}
            </Flex>
          </Card>
          </List.Item>
        )}
      />
      {pages.hasNextPage && (
        <Flex justify="center">
          <Button onClick={() => void pages.fetchNextPage()} loading={pages.isFetchingNextPage}>
            {d('scanMore')}
          </Button>
        </Flex>
      )}
      {pair && <MergeDrawer pair={pair} onClose={() => setPair(null)} />}
    </>
  );
}

function MergeDrawer({ pair, onClose }: { pair: Pair; onClose: () => void }) {
  const { t } = useTranslation();
  const { modal, message } = App.useApp();
  const queryClient = useQueryClient();
  const report = useReportProblem();
  const userName = useUserName();
  const fields = useCustomFields('contacts');
  const phone = !Grid.useBreakpoint().md;
  const [current, setCurrent] = useState(pair);
  const [choice, setChoice] = useState<Record<string, Side>>({});
  const [stale, setStale] = useState(false);
  const [busy, setBusy] = useState(false);
  const d = (k: string, o?: Record<string, unknown>) => t(`records.duplicates.${k}`, o);
  const { keep, other } = current;
  const rows = mergeRows(keep, other);

  const label = (f: string) =>
    f.startsWith('custom.') ? (fields.data?.find((x) => x.key === f.slice(7))?.label ?? f.slice(7)) : t(LABELS[f] ?? f, { defaultValue: f });
  const show = (f: string, v: unknown) =>
    f === 'owner_id' ? userName(v as string) : f === 'lifecycle_stage' && v ? t(`stages.${String(v)}`) : display(v);

  const run = async () => {
    const plan = mergePlan(rows, choice);
    setBusy(true);
    try {
      await unwrap(
        api.POST('/v1/contacts/{id}/merge', {
          params: { path: { id: keep.id }, header: { 'If-Match': ifMatch(keep.version) } },
          body: { other_id: other.id, take: plan.take },
        }),
      );
      void message.success(d('merged'));
      void queryClient.invalidateQueries({ queryKey: ['contacts'] });
      onClose();
    } catch (e) {
      if (e instanceof ApiProblem && e.status === 412) {
        const [k, o] = await Promise.all([
          unwrap(api.GET('/v1/contacts/{id}', { params: { path: { id: keep.id } } })),
          unwrap(api.GET('/v1/contacts/{id}', { params: { path: { id: other.id } } })),
        ]);
        setCurrent({ keep: k, other: o });
        setChoice({});
        setStale(true);
      } else report(e);
    } finally {
      setBusy(false);
    }
  };

  const confirm = () => {
    const plan = mergePlan(rows, choice);
    modal.confirm({
      title: d('confirmTitle'),
      okText: d('confirm'),
      cancelText: t('common.cancel'),
      content: (
        <div data-testid="merge-confirm">
          <p>{d('confirmDeleted', { name: other.name ?? other.id })}</p>
          {plan.lost.length ? (
            <>
              <p>{d('confirmLost')}</p>
              <ul>
                {plan.lost.map((l) => (
                  <li key={l.field}>
                    {label(l.field)}: {show(l.field, l.value)}
                  </li>
                ))}
              </ul>
            </>
          ) : (
            <p>{d('confirmNothingLost')}</p>
          )}
        </div>
      ),
      onOk: run,
    });
  };

  const cell = (r: (typeof rows)[number], side: Side) => {
    const v = side === 'a' ? r.a : r.b;
    if (!r.choose) return <span>{show(r.field, v)}</span>;
    const picked = (choice[r.field] ?? 'a') === side;
    return (
      <Radio checked={picked} onChange={() => setChoice((c) => ({ ...c, [r.field]: side }))} name={`pick-${r.field}`}>
        {show(r.field, v)}
      </Radio>
    );
  };

  return (
    <Drawer
      open
      onClose={onClose}
      title={d('mergeTitle')}
      size={phone ? '100%' : 820}
      destroyOnHidden
      footer={
        <Flex justify="flex-end" gap={8}>
          <Button onClick={onClose}>{t('common.cancel')}</Button>
          <Button type="primary" loading={busy} onClick={confirm}>
            {d('merge')}
          </Button>
        </Flex>
      }
    >
      <Space direction="vertical" style={{ width: '100%' }} data-testid="merge-view">
        <Alert type="info" showIcon title={d('mergeHelp')} />
        {stale && <Alert type="warning" showIcon title={d('conflict')} />}
        {phone ? (
          <List
            size="small"
            dataSource={rows}
            rowKey="field"
            renderItem={(r) => (
              <List.Item style={{ display: 'block' }}>
                <Typography.Text strong>{label(r.field)}</Typography.Text>
                {r.combined && <Tag style={{ marginInlineStart: 8 }}>{d('combined')}</Tag>}
                <Flex vertical gap={4} style={{ marginTop: 4 }}>
                  <div>
                    <Typography.Text type="secondary">{d('keep')}: </Typography.Text>
                    {cell(r, 'a')}
                  </div>
                  <div>
                    <Typography.Text type="secondary">{d('other')}: </Typography.Text>
                    {cell(r, 'b')}
                  </div>
                </Flex>
              </List.Item>
            )}
          />
        ) : (
        <Table
          size="small"
          rowKey="field"
          pagination={false}
          scroll={{ x: 560 }}
          dataSource={rows}
          columns={[
            { key: 'field', title: d('field'), width: 130, render: (_, r) => label(r.field) },
            { key: 'a', title: `${d('keep')}: ${keep.name ?? ''}`, render: (_, r) => cell(r, 'a') },
            {
              key: 'b',
              title: `${d('other')}: ${other.name ?? ''}`,
              render: (_, r) => (
                <Space>
                  {cell(r, 'b')}
                  {r.combined && <Tag>{d('combined')}</Tag>}
                </Space>
              ),
            },
          ]}
        />
        )}
      </Space>
    </Drawer>
  );
}
