// A company's page: header with the key facts, then tabs: the timeline (log a call,
// meeting or note), every field the API returned (a hidden field is absent from the answer
// and so from the screen), its contacts, deals, purchases and tickets.

import { EditOutlined } from '@ant-design/icons';
import { Button, Card, Descriptions, Empty, Flex, List, Result, Skeleton, Statistic, Tabs, Tag, Typography } from 'antd';
import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { useEffect, useMemo, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { api, unwrap } from '../../../api/client';
import { ApiProblem } from '../../../api/problem';
import { useCustomFields, useUserName } from '../../../api/lookups';
import { useProblemText } from '../../../api/useProblem';
import { can, useMe } from '../../../auth/me';
import { rememberRecent } from '../../../components/recent';
import { formatDate, formatDateTime, formatMoney } from '../../../i18n/format';
import { CompanyEdit } from './CompanyEdit';
import { display, isMasked, LABELS, regionText, type Company } from './fields';
import { FieldValue } from '../../../components/FieldValue';
import { RecordTimeline } from '../../../components/RecordTimeline';
import { RelatedObjectRecords } from '../../objects/related';

export default function CompanyDetail() {
  const { id = '' } = useParams();
  const { t, i18n } = useTranslation();
  const { data: me } = useMe();
  const problemText = useProblemText();
  const userName = useUserName();
  const [editing, setEditing] = useState(false);
  const company = useQuery({
    queryKey: ['companies', id],
    queryFn: () => unwrap(api.GET('/v1/companies/{id}', { params: { path: { id } } })),
  });
  const c = (k: string) => t(`records.companies.${k}`);

  useEffect(() => {
    if (company.data) rememberRecent({ kind: 'company', id, name: company.data.name ?? id });
  }, [company.data, id]);

  if (company.isLoading) return <Skeleton active />;
  if (company.isError || !company.data) {
    const notFound = company.error instanceof ApiProblem && company.error.status === 404;
    return <Result status={notFound ? '404' : 'error'} title={problemText(company.error)} />;
  }
  const x = company.data;
  return (
    <>
      <Card style={{ marginBottom: 16 }}>
        <Flex justify="space-between" align="start" wrap gap={8}>
          <div>
            <Typography.Title level={1} style={{ fontSize: 24, margin: 0 }} data-testid="company-name">
              {x.name}
            </Typography.Title>
            <Typography.Text type="secondary">
              {[x.industry, x.size_band ? t('records.companies.employees', { band: x.size_band }) : null, regionText(x.region)].filter(Boolean).join(' · ')}
            </Typography.Text>
          </div>
          {can(me, 'companies', 'update') && (
            <Button type="primary" icon={<EditOutlined />} onClick={() => setEditing(true)}>
              {t('common.edit')}
            </Button>
          )}
        </Flex>
        <Flex wrap gap={24} style={{ marginTop: 12 }}>
          {'owner_id' in x && <Statistic title={c('owner')} value={userName(x.owner_id)} styles={{ content: { fontSize: 15 } }} />}
          {'lifecycle_stage' in x && (
            <Statistic title={c('stage')} value={x.lifecycle_stage ? t(`stages.${x.lifecycle_stage}`) : t('common.none')} styles={{ content: { fontSize: 15 } }} />
          )}
          {'annual_revenue' in x && x.annual_revenue && (
            <Statistic title={c('revenue')} value={formatMoney(x.annual_revenue, i18n.language)} styles={{ content: { fontSize: 15 } }} />
          )}
          <Statistic title={c('updated')} value={formatDateTime(x.updated_at, i18n.language)} styles={{ content: { fontSize: 15 } }} />
        </Flex>
      </Card>
      <Card>
        <Tabs
          items={[
            { key: 'timeline', label: c('timeline'), children: (
                <RecordTimeline
                  resource="companies"
                  id={id}
                  mayLog={can(me, 'companies', 'update')}
                  label={(f) => t(LABELS[f] ?? f, { defaultValue: f })}
                />
              ),
            },
            { key: 'details', label: c('details'), children: <Details company={x} /> },
            { key: 'contacts', label: c('contacts'), children: <Contacts id={id} /> },
            { key: 'deals', label: c('deals'), children: <Deals id={id} /> },
            { key: 'purchases', label: c('purchases'), children: <Purchases id={id} /> },
            { key: 'tickets', label: c('tickets'), children: <Tickets id={id} /> },
          ]}
        />
      </Card>
      <RelatedObjectRecords target="companies" id={id} />
      {editing && <CompanyEdit company={x} onClose={() => setEditing(false)} />}
    </>
  );
}


/** Every field the API returned, and only those. */
function Details({ company }: { company: Company }) {
  const { t, i18n } = useTranslation();
  const userName = useUserName();
  const fields = useCustomFields('companies');
  const c = (k: string) => t(`records.companies.${k}`);
  const rows: { key: string; label: string; value: ReactNode }[] = [];
  const add = (key: keyof Company, label: string, render?: (v: unknown) => ReactNode) => {
    if (!(key in company)) return;
    const v = company[key];
    rows.push({ key, label, value: render && !isMasked(v) ? render(v) : <FieldValue value={v} display={display} /> });
  };
  add('name', c('name'));
  add('legal_name', c('legalName'));
  add('industry', c('industry'));
  add('size_band', c('size'), (v) => (v ? t('records.companies.employees', { band: String(v) }) : t('common.none')));
  add('region', c('region'), (v) => regionText(v as Company['region']) || t('common.none'));
  add('address', c('address'));
  add('phone', c('phone'), (v) => (v ? <a href={`tel:${String(v)}`}>{String(v)}</a> : t('common.none')));
  add('website', c('website'), (v) =>
    v ? (
      <a href={String(v)} target="_blank" rel="noreferrer noopener">
        {String(v)}
      </a>
    ) : (
      t('common.none')
    ),
  );
  add('tags', c('tags'), (v) => ((v as string[] | undefined)?.length ? (v as string[]).map((x) => <Tag key={x}>{x}</Tag>) : t('common.none')));
  add('owner_id', c('owner'), (v) => userName(v as string));
  add('lifecycle_stage', c('stage'), (v) => (v ? t(`stages.${String(v)}`) : t('common.none')));
  add('annual_revenue', c('revenue'), (v) => (v ? formatMoney(v as { amount_minor: number; currency: string }, i18n.language) : t('common.none')));
  add('notes', c('notes'), (v) => <span style={{ whiteSpace: 'pre-wrap' }}>{display(v)}</span>);
  add('created_by', t('contacts.created'), (v) => `${userName(v as string)} · ${formatDateTime(company.created_at, i18n.language)}`);
  const custom = (company.custom ?? {}) as Record<string, unknown>;
  for (const [k, v] of Object.entries(custom)) {
    rows.push({ key: `custom.${k}`, label: fields.data?.find((f) => f.key === k)?.label ?? k, value: <FieldValue value={v} display={display} /> });
  }
  return (
    <Descriptions
      column={{ xs: 1, sm: 1, md: 2 }}
      bordered
      size="small"
      items={rows.map((r) => ({ key: r.key, label: r.label, children: r.value }))}
      data-testid="company-details"
    />
  );
}


function Contacts({ id }: { id: string }) {
  const { t } = useTranslation();
  const pages = useInfiniteQuery({
    queryKey: ['companies', id, 'contacts'],
    queryFn: ({ pageParam }) =>
      unwrap(api.GET('/v1/companies/{id}/contacts', { params: { path: { id }, query: { limit: 50, cursor: pageParam } } })),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
    retry: false,
  });
  const rows = useMemo(() => pages.data?.pages.flatMap((p) => p.data) ?? [], [pages.data]);
  return (
    <>
      <List
        loading={pages.isLoading}
        dataSource={rows}
        data-testid="company-contacts"
        locale={{ emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('records.companies.noContacts')} /> }}
        renderItem={(p) => (
          <List.Item>
            <List.Item.Meta
              title={<Link to={`/contacts/${p.id}`}>{p.name}</Link>}
              description={[p.title, p.phones?.[0]?.number, p.emails?.[0]?.address].filter(Boolean).join(' · ')}
            />
          </List.Item>
        )}
      />
      {pages.hasNextPage && (
        <Flex justify="center">
          <Button onClick={() => void pages.fetchNextPage()} loading={pages.isFetchingNextPage}>
            {t('common.loadMore')}
          </Button>
        </Flex>
      )}
    </>
  );
}

function Deals({ id }: { id: string }) {
  const { t, i18n } = useTranslation();
  const deals = useQuery({
    queryKey: ['deals', { company_id: id }],
    queryFn: () => unwrap(api.GET('/v1/deals', { params: { query: { company_id: id, limit: 50 } } })),
    retry: false,
  });
  return (
    <List
      loading={deals.isLoading}
      dataSource={deals.data?.data ?? []}
      locale={{ emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} /> }}
      renderItem={(d) => (
        <List.Item extra={formatMoney(d.amount, i18n.language)}>
          <List.Item.Meta title={d.title} description={`${t('records.companies.updated')}: ${formatDate(d.updated_at, i18n.language)}`} />
        </List.Item>
      )}
    />
  );
}

function Purchases({ id }: { id: string }) {
  const { t, i18n } = useTranslation();
  const history = useQuery({
    queryKey: ['companies', id, 'purchases'],
    queryFn: () => unwrap(api.GET('/v1/companies/{id}/purchases', { params: { path: { id } } })),
    retry: false,
  });
  if (history.isLoading) return <Skeleton active />;
  if (!history.data || history.data.order_count === 0) return <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} />;
  const h = history.data;
  return (
    <Flex wrap gap={32}>
      <Statistic title={t('records.companies.orderCount')} value={h.order_count} />
      {h.lifetime_value.map((v) => (
        <Statistic key={v.currency} title={v.currency} value={formatMoney(v, i18n.language)} />
      ))}
      <Statistic title={t('records.companies.lastPurchase')} value={formatDate(h.last_purchase_at, i18n.language)} />
    </Flex>
  );
}

function Tickets({ id }: { id: string }) {
  const { i18n } = useTranslation();
  const tickets = useQuery({
    queryKey: ['tickets', { company_id: id }],
    queryFn: () => unwrap(api.GET('/v1/tickets', { params: { query: { company_id: id, limit: 50 } } })),
    retry: false,
  });
  return (
    <List
      loading={tickets.isLoading}
      dataSource={tickets.data?.data ?? []}
      locale={{ emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} /> }}
      renderItem={(tk) => (
        <List.Item extra={<Tag>{tk.status}</Tag>}>
          <List.Item.Meta title={`#${tk.number} ${tk.subject ?? ''}`} description={formatDate(tk.created_at, i18n.language)} />
        </List.Item>
      )}
    />
  );
}
