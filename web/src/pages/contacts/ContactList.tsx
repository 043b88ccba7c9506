// The contact list: one search box (any part of a Chinese name, the start of other words,
// a phone number), filters as removable chips, sort, a column chooser, and cursor pages
// loaded on demand into a virtualised table, so 100,000 contacts scroll smoothly. On a
// phone the rows become cards.

import {
  DownloadOutlined,
  FilterOutlined,
  MergeCellsOutlined,
  PlusOutlined,
  SettingOutlined,
  UploadOutlined,
} from '@ant-design/icons';
import {
  Button,
  Card,
  Checkbox,
  Empty,
  Flex,
  Form,
  Grid,
  Input,
  List,
  Popover,
  Select,
  Space,
  Table,
  Tag,
  Typography,
} from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { useInfiniteQuery } from '@tanstack/react-query';
import { useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { api, unwrap, type Schemas } from '../../api/client';
import { useCustomFields, useUserName, useUsers } from '../../api/lookups';
import { useProblemText } from '../../api/useProblem';
import { can, useMe } from '../../auth/me';
import { formatDate } from '../../i18n/format';
import { STAGES } from './stages';

type Contact = Schemas['Contact'];
type Sort = 'name' | '-name' | 'created' | '-created' | 'updated' | '-updated';

const FILTERS = ['owner_id', 'lifecycle_stage', 'tags', 'country', 'province', 'city'] as const;
type FilterKey = (typeof FILTERS)[number];
const COLUMN_KEY = 'crm.contacts.columns';
/** Contacts per request; also how many a screen wants before it stops reading. */
const PAGE = 100;
const ALL_COLUMNS = ['email', 'phone', 'company', 'owner', 'stage', 'tags', 'city', 'created'] as const;
type ColumnKey = (typeof ALL_COLUMNS)[number];
const DEFAULT_COLUMNS: ColumnKey[] = ['email', 'phone', 'company', 'owner', 'stage', 'created'];

function storedColumns(): ColumnKey[] {
  try {
    const raw = JSON.parse(localStorage.getItem(COLUMN_KEY) ?? 'null') as unknown;
    if (Array.isArray(raw)) return raw.filter((c): c is ColumnKey => ALL_COLUMNS.includes(c as ColumnKey));
  } catch {
    // fall through
  }
  return DEFAULT_COLUMNS;
}

export default function ContactList() {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const navigate = useNavigate();
  const screens = Grid.useBreakpoint();
  const phone = !screens.md;
  const [params, setParams] = useSearchParams();
  const problemText = useProblemText();
  const userName = useUserName();
  const { data: me } = useMe();
  const users = useUsers();
  const fields = useCustomFields('contacts');
  const [columns, setColumns] = useState<ColumnKey[]>(storedColumns);

  const q = params.get('q') ?? '';
  const sort = (params.get('sort') as Sort | null) ?? undefined;
  const filters: Partial<Record<FilterKey, string>> = {};
  for (const k of FILTERS) {
    const v = params.get(k);
    if (v) filters[k] = v;
  }
  const custom: Record<string, string> = {};
  for (const [k, v] of params.entries()) {
    const m = /^cf\.([a-z][a-z0-9_]*)$/.exec(k);
    if (m?.[1] && v) custom[m[1]] = v;
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
    owner_id: filters.owner_id,
    lifecycle_stage: filters.lifecycle_stage as Schemas['LifecycleStage'] | undefined,
    tags: filters.tags,
    country: filters.country,
    province: filters.province,
    city: filters.city,
    cf: Object.keys(custom).length ? custom : undefined,
  };
  const pages = useInfiniteQuery({
    queryKey: ['contacts', 'list', query],
    queryFn: ({ pageParam }) =>
      unwrap(api.GET('/v1/contacts', { params: { query: { ...query, limit: PAGE, cursor: pageParam } } })),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
  const rows = useMemo(() => pages.data?.pages.flatMap((p) => p.data) ?? [], [pages.data]);
  // A page may come back short (even empty) while more remain: keep reading until a
  // screenful is there, or "load more" asked for, or the list is done.
  const [wanted, setWanted] = useState({ key: '', count: PAGE });
  const queryKey = JSON.stringify(query);
  const want = wanted.key === queryKey ? wanted.count : PAGE;
  const { hasNextPage, isFetching, fetchNextPage } = pages;
  useEffect(() => {
    if (hasNextPage && !isFetching && rows.length < want) void fetchNextPage();
  }, [hasNextPage, isFetching, fetchNextPage, rows.length, want]);

  const stageLabel = (s: string | undefined | null) => (s ? t(`stages.${s}`, { defaultValue: s }) : '');
  const firstEmail = (c: Contact) => c.emails?.[0]?.address ?? '';
  const firstPhone = (c: Contact) => c.phones?.[0]?.number ?? '';

  const defs: Record<ColumnKey, ColumnsType<Contact>[number]> = {
    email: { key: 'email', title: t('contacts.email'), render: (_, c) => firstEmail(c), ellipsis: true },
    phone: { key: 'phone', title: t('contacts.phone'), render: (_, c) => firstPhone(c), width: 170 },
    company: { key: 'company', title: t('contacts.company'), dataIndex: 'company_name', ellipsis: true },
    owner: { key: 'owner', title: t('contacts.owner'), render: (_, c) => userName(c.owner_id), ellipsis: true },
    stage: {
      key: 'stage',
      title: t('contacts.stage'),
      width: 140,
      render: (_, c) => (c.lifecycle_stage ? <Tag>{stageLabel(c.lifecycle_stage)}</Tag> : null),
    },
    tags: {
      key: 'tags',
      title: t('contacts.tags'),
      render: (_, c) => c.tags?.map((tag) => <Tag key={tag}>{tag}</Tag>),
    },
    city: { key: 'city', title: t('contacts.city'), render: (_, c) => c.address?.city ?? '', width: 120 },
    created: {
      key: 'created',
      title: t('contacts.created'),
      width: 140,
      render: (_, c) => formatDate(c.created_at, lang),
    },
  };
  const tableColumns: ColumnsType<Contact> = [
    {
      key: 'name',
      title: t('contacts.name'),
      fixed: 'left',
      width: 180,
      render: (_, c) => <Link to={`/contacts/${c.id}`}>{c.name}</Link>,
    },
    ...columns.map((k) => defs[k]),
  ];

  const chips = [
    ...FILTERS.filter((k) => filters[k]).map((k) => ({
      key: k,
      label: `${t(filterLabel(k))}: ${k === 'owner_id' ? userName(filters[k]) : k === 'lifecycle_stage' ? stageLabel(filters[k]) : filters[k]}`,
    })),
    ...Object.entries(custom).map(([k, v]) => ({
      key: `cf.${k}`,
      label: `${fields.data?.find((f) => f.key === k)?.label ?? k}: ${v}`,
    })),
  ];

  const filterForm = (
    <Form
      layout="vertical"
      style={{ width: 300 }}
      initialValues={{ ...filters, ...Object.fromEntries(Object.entries(custom).map(([k, v]) => [`cf.${k}`, v])) }}
      onFinish={(values: Record<string, string | undefined>) => {
        const next = new URLSearchParams(params);
        for (const [k, v] of Object.entries(values)) {
          if (v) next.set(k, String(v).trim());
          else next.delete(k);
        }
        setParams(next, { replace: true });
      }}
    >
      {users.data && (
        <Form.Item name="owner_id" label={t('contacts.owner')}>
          <Select allowClear options={users.data.map((u) => ({ value: u.id, label: u.name }))} />
        </Form.Item>
      )}
      <Form.Item name="lifecycle_stage" label={t('contacts.stage')}>
        <Select allowClear options={STAGES.map((s) => ({ value: s, label: stageLabel(s) }))} />
      </Form.Item>
      <Form.Item name="tags" label={t('contacts.tags')}>
        <Input placeholder="vip, 展会" />
      </Form.Item>
      <Space.Compact block>
        <Form.Item name="country" label={t('contacts.country')} style={{ width: '30%' }}>
          <Input placeholder="CN" maxLength={2} />
        </Form.Item>
        <Form.Item name="province" label={t('contacts.region')} style={{ width: '35%' }}>
          <Input />
        </Form.Item>
        <Form.Item name="city" label={t('contacts.city')} style={{ width: '35%' }}>
          <Input />
        </Form.Item>
      </Space.Compact>
      {fields.data?.map((f) => (
        <Form.Item key={f.key} name={`cf.${f.key}`} label={f.label}>
          {f.options.length ? (
            <Select allowClear options={f.options.map((o) => ({ value: o, label: o }))} />
          ) : (
            <Input />
          )}
        </Form.Item>
      ))}
      <Button type="primary" htmlType="submit" block>
        {t('common.filters')}
      </Button>
    </Form>
  );

  const columnChooser = (
    <Checkbox.Group
      value={columns}
      onChange={(v) => {
        const next = ALL_COLUMNS.filter((c) => (v as ColumnKey[]).includes(c));
        setColumns(next);
        localStorage.setItem(COLUMN_KEY, JSON.stringify(next));
      }}
    >
      <Space direction="vertical">
        {ALL_COLUMNS.map((c) => (
          <Checkbox key={c} value={c}>
            {defs[c].title as string}
          </Checkbox>
        ))}
      </Space>
    </Checkbox.Group>
  );

  const empty = (
    <Empty
      description={
        pages.isError ? problemText(pages.error) : q || chips.length ? t('contacts.noMatch') : t('contacts.empty')
      }
    />
  );

  return (
    <>
      <Flex justify="space-between" align="center" wrap gap={8} style={{ marginBottom: 12 }}>
        <Typography.Title level={1} style={{ fontSize: 22, margin: 0 }}>
          {t('contacts.title')}
        </Typography.Title>
        <Space wrap>
          {can(me, 'contacts', 'import') && (
            <Button icon={<UploadOutlined />} onClick={() => navigate('/contacts/import')}>
              {t('contacts.import')}
            </Button>
          )}
          {can(me, 'contacts', 'export') && (
            // The export page takes the list's own query: it exports what the list shows.
            <Button icon={<DownloadOutlined />} onClick={() => navigate(`/contacts/export?${params.toString()}`)}>
              {t('contacts.export')}
            </Button>
          )}
          {can(me, 'contacts', 'update') && (
            <Button icon={<MergeCellsOutlined />} onClick={() => navigate('/contacts/duplicates')}>
              {t('contacts.duplicates')}
            </Button>
          )}
          <Button type="primary" icon={<PlusOutlined />} onClick={() => navigate('/contacts/new')}>
            {t('nav.newContact')}
          </Button>
        </Space>
      </Flex>
      <Flex wrap gap={8} style={{ marginBottom: 8 }}>
        <Input.Search
          key={q}
          defaultValue={q}
          placeholder={t('contacts.searchPlaceholder')}
          aria-label={t('contacts.searchPlaceholder')}
          allowClear
          onSearch={(v) => setParam('q', v.trim())}
          style={{ width: phone ? '100%' : 280 }}
          data-testid="contact-search"
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
            <Button icon={<SettingOutlined />} aria-label={t('common.columns')}>
              {t('common.columns')}
            </Button>
          </Popover>
        )}
      </Flex>
      {chips.length > 0 && (
        <Flex wrap gap={4} style={{ marginBottom: 8 }} data-testid="filter-chips">
          {chips.map((c) => (
            <Tag key={c.key} closable onClose={() => setParam(c.key, null)} color="blue">
              {c.label}
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
          renderItem={(c) => (
            <List.Item style={{ padding: 0, border: 0 }}>
              <Card size="small" style={{ marginBottom: 8, width: '100%' }} onClick={() => navigate(`/contacts/${c.id}`)}>
                <Link to={`/contacts/${c.id}`}>
                  <Typography.Text strong>{c.name}</Typography.Text>
                </Link>
                {c.lifecycle_stage && <Tag style={{ marginLeft: 8 }}>{stageLabel(c.lifecycle_stage)}</Tag>}
                <div>{[c.company_name, firstPhone(c), firstEmail(c)].filter(Boolean).join(' · ')}</div>
              </Card>
            </List.Item>
          )}
        />
      ) : (
        <Table<Contact>
          rowKey="id"
          virtual
          size="middle"
          scroll={{ x: 1000, y: 'calc(100vh - 300px)' }}
          loading={pages.isLoading}
          columns={tableColumns}
          dataSource={rows}
          pagination={false}
          locale={{ emptyText: empty }}
          onRow={(c) => ({ onDoubleClick: () => navigate(`/contacts/${c.id}`) })}
          data-testid="contact-table"
        />
      )}
      <Flex justify="center" align="center" gap={12} style={{ marginTop: 12 }}>
        <Typography.Text type="secondary" data-testid="shown-count">
          {t('common.shown', { count: rows.length })}
        </Typography.Text>
        {pages.hasNextPage && (
          <Button onClick={() => setWanted({ key: queryKey, count: rows.length + PAGE })} loading={pages.isFetchingNextPage}>
            {t('common.loadMore')}
          </Button>
        )}
      </Flex>
    </>
  );
}

function filterLabel(k: FilterKey): string {
  switch (k) {
    case 'owner_id':
      return 'contacts.owner';
    case 'lifecycle_stage':
      return 'contacts.stage';
    case 'tags':
      return 'contacts.tags';
    case 'country':
      return 'contacts.country';
    case 'province':
      return 'contacts.region';
    case 'city':
      return 'contacts.city';
  }
}
