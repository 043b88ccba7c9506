// The company list: one search box, filters as removable chips (owner, industry, size,
// region at any level, tags, stage), sort, and cursor pages loaded on demand into a
// virtualised table; on a phone the rows become cards.

import { FilterOutlined, ImportOutlined, PlusOutlined, SettingOutlined } from '@ant-design/icons';
import { Button, Card, Checkbox, Empty, Flex, Form, Grid, Input, List, Popover, Select, Space, Table, Tag, Typography } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { useInfiniteQuery } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { api, unwrap, type Schemas } from '../../../api/client';
import { useUserName, useUsers } from '../../../api/lookups';
import { useProblemText } from '../../../api/useProblem';
import { can, fieldRule, useMe } from '../../../auth/me';
import { formatDate } from '../../../i18n/format';
import { STAGES } from '../../contacts/stages';
import { ExportButton } from '../exports/ExportButton';
import { regionText, SIZE_BANDS, type Company } from './fields';

type Sort = 'name' | '-name' | 'created' | '-created' | 'updated' | '-updated';
const FILTERS = ['owner_id', 'industry', 'size_band', 'lifecycle_stage', 'tags', 'country', 'province', 'city', 'district'] as const;
type FilterKey = (typeof FILTERS)[number];
const LABEL: Record<FilterKey, string> = {
  owner_id: 'owner',
  industry: 'industry',
  size_band: 'size',
  lifecycle_stage: 'stage',
  tags: 'tags',
  country: 'country',
  province: 'province',
  city: 'city',
  district: 'district',
};

const COLUMN_KEY = 'crm.companies.columns';
const ALL_COLUMNS = ['industry', 'size', 'region', 'phone', 'website', 'owner', 'stage', 'tags', 'created', 'updated'] as const;
type ColumnKey = (typeof ALL_COLUMNS)[number];
const DEFAULT_COLUMNS: ColumnKey[] = ['industry', 'size', 'region', 'phone', 'owner', 'tags', 'created'];

function storedColumns(): ColumnKey[] {
  try {
    const raw = JSON.parse(localStorage.getItem(COLUMN_KEY) ?? 'null') as unknown;
    if (Array.isArray(raw)) return raw.filter((c): c is ColumnKey => ALL_COLUMNS.includes(c as ColumnKey));
  } catch {
    // fall through
  }
  return DEFAULT_COLUMNS;
}

export default function CompanyList() {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const navigate = useNavigate();
  const phone = !Grid.useBreakpoint().md;
  const [params, setParams] = useSearchParams();
  const problemText = useProblemText();
  const userName = useUserName();
  const users = useUsers();
  const { data: me } = useMe();
  const c = (k: string) => t(`records.companies.${k}`);
  const [shown, setShown] = useState<ColumnKey[]>(storedColumns);
  // The API refuses a filter on a field the role hides or masks, and leaves hidden fields
  // out of its answer: such filters are not offered and such columns not shown.
  const rule = (f: string) => fieldRule(me, 'companies', f);
  const hides = (f: string) => rule(f) === 'hidden';
  const mayFilter = (f: string) => !['hidden', 'masked'].includes(rule(f) ?? '');
  const FIELD_OF: Record<ColumnKey, string> = {
    industry: 'industry',
    size: 'size_band',
    region: 'region',
    phone: 'phone',
    website: 'website',
    owner: 'owner_id',
    stage: 'lifecycle_stage',
    tags: 'tags',
    created: 'created_at',
    updated: 'updated_at',
  };

  const q = params.get('q') ?? '';
  const sort = (params.get('sort') as Sort | null) ?? undefined;
  const filters: Partial<Record<FilterKey, string>> = {};
  for (const k of FILTERS) {
    const v = params.get(k);
    if (v) filters[k] = v;
  }
  const setParam = (key: string, value: string | null | undefined) => {
    const next = new URLSearchParams(params);
    if (value) next.set(key, value);
    else next.delete(key);
    setParams(next, { replace: true });
  };

  const query = {
    q: q || undefined,
    sort,
    ...filters,
    size_band: filters.size_band as Schemas['SizeBand'] | undefined,
    lifecycle_stage: filters.lifecycle_stage as Schemas['LifecycleStage'] | undefined,
  };
  const pages = useInfiniteQuery({
    queryKey: ['companies', 'list', query],
    queryFn: ({ pageParam }) =>
      unwrap(api.GET('/v1/companies', { params: { query: { ...query, limit: 100, cursor: pageParam } } })),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
  const rows = useMemo(() => pages.data?.pages.flatMap((p) => p.data) ?? [], [pages.data]);

  const stageLabel = (s: string | null | undefined) => (s ? t(`stages.${s}`, { defaultValue: s }) : '');
  const chipValue = (k: FilterKey, v: string) =>
    k === 'owner_id' ? userName(v) : k === 'lifecycle_stage' ? stageLabel(v) : k === 'size_band' ? t('records.companies.employees', { band: v }) : v;
  const chips = FILTERS.filter((k) => filters[k]).map((k) => ({ key: k, label: `${c(LABEL[k])}: ${chipValue(k, filters[k]!)}` }));

  const defs: Record<ColumnKey, ColumnsType<Company>[number]> = {
    industry: { key: 'industry', title: c('industry'), dataIndex: 'industry', width: 140, ellipsis: true },
    size: { key: 'size', title: c('size'), width: 150, render: (_, x) => (x.size_band ? t('records.companies.employees', { band: x.size_band }) : '') },
    region: { key: 'region', title: c('region'), ellipsis: true, render: (_, x) => regionText(x.region) },
    phone: { key: 'phone', title: c('phone'), dataIndex: 'phone', width: 160 },
    website: { key: 'website', title: c('website'), dataIndex: 'website', ellipsis: true },
    owner: { key: 'owner', title: c('owner'), width: 130, ellipsis: true, render: (_, x) => userName(x.owner_id) },
    stage: { key: 'stage', title: c('stage'), width: 140, render: (_, x) => (x.lifecycle_stage ? <Tag>{stageLabel(x.lifecycle_stage)}</Tag> : null) },
    tags: { key: 'tags', title: c('tags'), render: (_, x) => x.tags?.map((tag) => <Tag key={tag}>{tag}</Tag>) },
    created: { key: 'created', title: c('created'), width: 130, render: (_, x) => formatDate(x.created_at, lang) },
    updated: { key: 'updated', title: c('updated'), width: 130, render: (_, x) => formatDate(x.updated_at, lang) },
  };
  const columns: ColumnsType<Company> = [
    { key: 'name', title: c('name'), fixed: 'left', width: 220, render: (_, x) => <Link to={`/companies/${x.id}`}>{x.name}</Link> },
    ...shown.filter((k) => !hides(FIELD_OF[k])).map((k) => defs[k]),
  ];
  const columnChooser = (
    <Checkbox.Group
      value={shown}
      onChange={(v) => {
        const next = ALL_COLUMNS.filter((k) => (v as ColumnKey[]).includes(k));
        setShown(next);
        localStorage.setItem(COLUMN_KEY, JSON.stringify(next));
      }}
    >
      <Space direction="vertical">
        {ALL_COLUMNS.map((k) => (
          <Checkbox key={k} value={k}>
            {defs[k].title as string}
          </Checkbox>
        ))}
      </Space>
    </Checkbox.Group>
  );

  const filterForm = (
    <Form
      layout="vertical"
      style={{ width: 300 }}
      initialValues={filters}
      onFinish={(values: Record<string, string | undefined>) => {
        const next = new URLSearchParams(params);
        for (const [k, v] of Object.entries(values)) {
          if (v && String(v).trim()) next.set(k, String(v).trim());
          else next.delete(k);
        }
        setParams(next, { replace: true });
      }}
    >
      {users.data && mayFilter('owner_id') && (
        <Form.Item name="owner_id" label={c('owner')}>
          <Select allowClear options={users.data.map((u) => ({ value: u.id, label: u.name }))} />
        </Form.Item>
      )}
      {mayFilter('industry') && (
        <Form.Item name="industry" label={c('industry')}>
          <Input />
        </Form.Item>
      )}
      {mayFilter('size_band') && (
        <Form.Item name="size_band" label={c('size')}>
          <Select allowClear options={SIZE_BANDS.map((b) => ({ value: b, label: t('records.companies.employees', { band: b }) }))} />
        </Form.Item>
      )}
      {mayFilter('lifecycle_stage') && (
        <Form.Item name="lifecycle_stage" label={c('stage')}>
          <Select allowClear options={STAGES.map((s) => ({ value: s, label: stageLabel(s) }))} />
        </Form.Item>
      )}
      {mayFilter('tags') && (
        <Form.Item name="tags" label={c('tags')}>
          <Input placeholder="vip, 展会" />
        </Form.Item>
      )}
      {mayFilter('region') && (
        <>
          <Space.Compact block>
            <Form.Item name="country" label={c('country')} style={{ width: '50%' }}>
              <Input placeholder="CN" maxLength={2} />
            </Form.Item>
            <Form.Item name="province" label={c('province')} style={{ width: '50%' }}>
              <Input />
            </Form.Item>
          </Space.Compact>
          <Space.Compact block>
            <Form.Item name="city" label={c('city')} style={{ width: '50%' }}>
              <Input />
            </Form.Item>
            <Form.Item name="district" label={c('district')} style={{ width: '50%' }}>
              <Input />
            </Form.Item>
          </Space.Compact>
        </>
      )}
      <Button type="primary" htmlType="submit" block>
        {t('common.filters')}
      </Button>
    </Form>
  );

  const empty = <Empty description={pages.isError ? problemText(pages.error) : q || chips.length ? c('noMatch') : c('empty')} />;

  return (
    <>
      <Flex justify="space-between" align="center" wrap gap={8} style={{ marginBottom: 12 }}>
        <Typography.Title level={1} style={{ fontSize: 22, margin: 0 }}>
          {c('title')}
        </Typography.Title>
        <Space wrap>
          {can(me, 'companies', 'create') && (
            <Button icon={<ImportOutlined />} onClick={() => navigate('/companies/import')}>
              {t('records.imports.stepRun')}
            </Button>
          )}
          <ExportButton resource="companies" filters={query} />
          {can(me, 'companies', 'create') && (
            <Button type="primary" icon={<PlusOutlined />} onClick={() => navigate('/companies/new')}>
              {c('new')}
            </Button>
          )}
        </Space>
      </Flex>
      <Flex wrap gap={8} style={{ marginBottom: 8 }}>
        <Input.Search
          key={q}
          defaultValue={q}
          placeholder={c('searchPlaceholder')}
          aria-label={c('searchPlaceholder')}
          allowClear
          onSearch={(v) => setParam('q', v.trim())}
          style={{ width: phone ? '100%' : 280 }}
          data-testid="company-search"
        />
        <Select<Sort | ''>
          aria-label="sort"
          value={sort ?? ''}
          style={{ width: 160 }}
          onChange={(v) => setParam('sort', v)}
          options={[
            { value: '', label: q ? t('common.all') : t('contacts.sortNewest') },
            { value: 'created', label: t('contacts.sortOldest') },
            { value: 'name', label: t('contacts.sortName') },
            { value: '-updated', label: t('contacts.sortUpdated') },
          ]}
        />
        <Popover trigger="click" content={filterForm} placement="bottomLeft" destroyOnHidden>
          <Button icon={<FilterOutlined />}>{t('common.filters')}</Button>
        </Popover>
        {!phone && (
          <Popover trigger="click" content={columnChooser} placement="bottomLeft">
            <Button icon={<SettingOutlined />}>{t('common.columns')}</Button>
          </Popover>
        )}
      </Flex>
      {chips.length > 0 && (
        <Flex wrap gap={4} style={{ marginBottom: 8 }} data-testid="filter-chips">
          {chips.map((chip) => (
            <Tag key={chip.key} closable onClose={() => setParam(chip.key, null)} color="blue">
              {chip.label}
            </Tag>
          ))}
          <Button
            type="link"
            size="small"
            onClick={() => {
              const next = new URLSearchParams();
              if (q) next.set('q', q);
              if (sort) next.set('sort', sort);
              setParams(next, { replace: true });
            }}
          >
            {t('common.clearAll')}
          </Button>
        </Flex>
      )}
      {phone ? (
        <List
          loading={pages.isLoading}
          dataSource={rows}
          locale={{ emptyText: empty }}
          renderItem={(x) => (
            <List.Item style={{ display: 'block', padding: 0, borderBlockEnd: 0 }}>
            <Card size="small" style={{ marginBottom: 8 }} onClick={() => navigate(`/companies/${x.id}`)}>
              <Link to={`/companies/${x.id}`}>
                <Typography.Text strong>{x.name}</Typography.Text>
              </Link>
              {x.size_band && <Tag style={{ marginLeft: 8 }}>{t('records.companies.employees', { band: x.size_band })}</Tag>}
              <div>{[x.industry, regionText(x.region), x.phone].filter(Boolean).join(' · ')}</div>
            </Card>
            </List.Item>
          )}
        />
      ) : (
        <Table<Company>
          rowKey="id"
          virtual
          size="middle"
          scroll={{ x: 1100, y: 'calc(100vh - 300px)' }}
          loading={pages.isLoading}
          columns={columns}
          dataSource={rows}
          pagination={false}
          locale={{ emptyText: empty }}
          onRow={(x) => ({ onDoubleClick: () => navigate(`/companies/${x.id}`) })}
          data-testid="company-table"
        />
      )}
      <Flex justify="center" align="center" gap={12} style={{ marginTop: 12 }}>
        <Typography.Text type="secondary" data-testid="shown-count">
          {t('common.shown', { count: rows.length })}
        </Typography.Text>
        {pages.hasNextPage && (
          <Button onClick={() => void pages.fetchNextPage()} loading={pages.isFetchingNextPage}>
            {t('common.loadMore')}
          </Button>
        )}
      </Flex>
    </>
  );
}
