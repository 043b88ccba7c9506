// The records of one custom object: a search box (Chinese text by any part), sort, owner and
// simple field filters as removable chips, columns from the object's fields (a relation
// links to the related record), cursor pages loaded on demand into a virtualised table; on
// a phone the rows become cards.

import { FilterOutlined, PlusOutlined, SettingOutlined, UploadOutlined } from '@ant-design/icons';
import {
  Breadcrumb,
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
  Result,
  Select,
  Skeleton,
  Space,
  Table,
  Tag,
  Typography,
} from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { useInfiniteQuery } from '@tanstack/react-query';
import { useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router';
import { api, unwrap } from '../../api/client';
import { useUserName, useUsers } from '../../api/lookups';
import { useProblemText } from '../../api/useProblem';
import { useMe } from '../../auth/me';
import { formatDate } from '../../i18n/format';
import {
  activeFields,
  canObject,
  canReadTarget,
  labelOf,
  objectFieldRule,
  useObject,
  type ObjectDefinition,
  type ObjectField,
  type ObjectRecord,
} from './definitions';
import { ObjectValue } from './ObjectValue';
import { CreateRecord } from './RecordDrawers';
import { RelationSelect, useRecordName } from './relations';
import { filterParams, FILTERABLE, storedColumns, type Sort } from './list';

/** Records per request; also how many a screen wants before it stops reading. */
const PAGE = 50;

export default function RecordList() {
  const { key = '' } = useParams();
  const { t, i18n } = useTranslation();
  const object = useObject(key);
  if (object.isLoading) return <Skeleton active />;
  if (!object.data) {
    return (
      <Result
        status="404"
        title={t('objects.list.notFound', { key })}
        extra={<Link to="/objects">{t('objects.home.title')}</Link>}
      />
    );
  }
  // A fresh page per object: its filters, columns and drawer are its own.
  return <Records key={key} object={object.data} lang={i18n.language} />;
}

function Records({ object, lang }: { object: ObjectDefinition; lang: string }) {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const screens = Grid.useBreakpoint();
  const phone = !screens.md;
  const [params, setParams] = useSearchParams();
  const problemText = useProblemText();
  const userName = useUserName();
  const { data: me } = useMe();
  const users = useUsers();
  const key = object.key;
  const plural = labelOf(object.plural_label, lang) || labelOf(object.label, lang);
  const single = labelOf(object.label, lang);
  const visible = activeFields(object).filter((f) => objectFieldRule(me, key, f.key) !== 'hidden');
  const filterable = visible.filter(
    (f) =>
      FILTERABLE.includes(f.type) &&
      objectFieldRule(me, key, f.key) === undefined &&
      (f.type !== 'relation' || canReadTarget(me, f.target ?? '')),
  );
  const [columns, setColumns] = useState<string[]>(() => storedColumns(key, visible.map((f) => f.key)));

  const { q, sort, owner, custom } = filterParams(params, filterable);
  const setParam = (name: string, value: string | null | undefined) => {
    const next = new URLSearchParams(params);
    if (value) next.set(name, value);
    else next.delete(name);
    setParams(next, { replace: true });
  };

  // Opened from a related list: the create drawer with the relation filled in.
  const creating = params.get('new') === '1';
  const prefill: Record<string, string> = {};
  for (const [k, v] of params.entries()) {
    const m = /^set\.([a-z][a-z0-9_]*)$/.exec(k);
    if (m?.[1] && v) prefill[m[1]] = v;
  }
  const closeCreate = () => {
    const next = new URLSearchParams(params);
    next.delete('new');
    for (const k of [...next.keys()]) if (k.startsWith('set.')) next.delete(k);
    setParams(next, { replace: true });
  };

  const query = {
    q: q || undefined,
    sort,
    owner_id: owner,
    cf: Object.keys(custom).length ? custom : undefined,
  };
  const pages = useInfiniteQuery({
    queryKey: ['objects', key, 'list', query],
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET('/v1/objects/{key}/records', {
          params: { path: { key }, query: { ...query, limit: PAGE, cursor: pageParam } },
        }),
      ),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
    retry: false,
  });
  const rows = useMemo(() => pages.data?.pages.flatMap((p) => p.data) ?? [], [pages.data]);
  // A page may come back short (even empty) while more remain: keep reading until a
  // screenful is there, or "load more" asked for, or the list is done.
  const [wanted, setWanted] = useState({ key: '', count: PAGE });
  const queryKey = JSON.stringify(query);
  const want = wanted.key === queryKey ? wanted.count : PAGE;
  const { hasNextPage, isFetching, fetchNextPage } = pages;
  useEffect(() => {
    if (hasNextPage && !isFetching && !pages.isError && rows.length < want) void fetchNextPage();
  }, [hasNextPage, isFetching, fetchNextPage, rows.length, want, pages.isError]);

  const valueOf = (r: ObjectRecord, f: ObjectField) => ((r.custom ?? {}) as Record<string, unknown>)[f.key];
  const cell = (r: ObjectRecord, f: ObjectField, inline = false) => {
    const custom = (r.custom ?? {}) as Record<string, unknown>;
    // A value the API left out is not shown (and not shown as empty either).
    return f.key in custom ? <ObjectValue field={f} value={valueOf(r, f)} inline={inline} /> : null;
  };
  const shown = visible.filter((f) => columns.includes(f.key));
  const tableColumns: ColumnsType<ObjectRecord> = [
    {
      key: 'name',
      title: t('objects.record.name'),
      fixed: 'left',
      width: 200,
      render: (_, r) => <Link to={`/objects/${key}/${r.id}`}>{r.name ?? r.id}</Link>,
    },
    ...shown.map((f) => ({
      key: `cf.${f.key}`,
      title: f.label,
      width: f.type === 'text' ? 200 : 150,
      ellipsis: f.type === 'text',
      render: (_: unknown, r: ObjectRecord) => cell(r, f),
    })),
    {
      key: 'owner',
      title: t('objects.record.owner'),
      width: 140,
      ellipsis: true,
      render: (_, r) => ('owner_id' in r ? userName(r.owner_id) : null),
    },
    {
      key: 'updated',
      title: t('objects.record.updated'),
      width: 140,
      render: (_, r) => formatDate(r.updated_at, lang),
    },
  ];

  const filterForm = (
    <Form
      layout="vertical"
      style={{ width: 300, maxWidth: '80vw' }}
      initialValues={{ owner_id: owner, ...Object.fromEntries(Object.entries(custom).map(([k, v]) => [`cf.${k}`, v])) }}
      onFinish={(values: Record<string, string | undefined>) => {
        const next = new URLSearchParams(params);
        for (const [k, v] of Object.entries(values)) {
          if (v !== undefined && v !== null && v !== '') next.set(k, String(v));
          else next.delete(k);
        }
        setParams(next, { replace: true });
      }}
    >
      {users.data && (
        <Form.Item name="owner_id" label={t('objects.record.owner')}>
          <Select
            allowClear
            showSearch={{ optionFilterProp: 'label' }}
            options={users.data.map((u) => ({ value: u.id, label: u.name }))}
          />
        </Form.Item>
      )}
      {filterable.map((f) => (
        <Form.Item key={f.key} name={`cf.${f.key}`} label={f.label}>
          {f.type === 'boolean' ? (
            <Select
              allowClear
              options={[
                { value: 'true', label: t('objects.record.yes') },
                { value: 'false', label: t('objects.record.no') },
              ]}
            />
          ) : f.type === 'relation' ? (
            <RelationSelect target={f.target ?? 'contacts'} />
          ) : (
            <Select allowClear options={f.options.map((o) => ({ value: o, label: o }))} />
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
        const next = visible.map((f) => f.key).filter((k) => (v as string[]).includes(k));
        setColumns(next);
        localStorage.setItem(`crm.objects.${key}.columns`, JSON.stringify(next));
      }}
    >
      <Space direction="vertical">
        {visible.map((f) => (
          <Checkbox key={f.key} value={f.key}>
            {f.label}
          </Checkbox>
        ))}
      </Space>
    </Checkbox.Group>
  );

  const chips = [
    ...(owner ? [{ key: 'owner_id', label: `${t('objects.record.owner')}: ${userName(owner)}` }] : []),
    ...Object.entries(custom).map(([k, v]) => {
      const f = filterable.find((x) => x.key === k)!;
      return { key: `cf.${k}`, label: <FilterChip field={f} value={v} /> };
    }),
  ];
  const filtered = Boolean(q) || chips.length > 0;
  const empty = (
    <Empty
      description={
        pages.isError ? problemText(pages.error) : filtered ? t('objects.list.noMatch') : t('objects.list.empty', { label: plural })
      }
    />
  );
  const mayCreate = canObject(me, key, 'create');

  return (
    <>
      <Breadcrumb
        style={{ marginBottom: 8 }}
        items={[{ title: <Link to="/objects">{t('objects.home.title')}</Link> }, { title: plural }]}
      />
      <Flex justify="space-between" align="center" wrap gap={8} style={{ marginBottom: 12 }}>
        <Typography.Title level={1} style={{ fontSize: 22, margin: 0 }} data-testid="object-title">
          {plural}
        </Typography.Title>
        {mayCreate && (
          <Space wrap>
            <Button icon={<UploadOutlined />} onClick={() => navigate(`/objects/${key}/import`)}>
              {t('objects.list.import')}
            </Button>
            <Button type="primary" icon={<PlusOutlined />} onClick={() => setParam('new', '1')}>
              {t('objects.list.new', { label: single })}
            </Button>
          </Space>
        )}
      </Flex>
      <Flex wrap gap={8} style={{ marginBottom: 8 }}>
        <Input.Search
          key={q}
          defaultValue={q}
          placeholder={t('objects.list.search')}
          aria-label={t('objects.list.search')}
          allowClear
          onSearch={(v) => setParam('q', v.trim())}
          style={{ width: phone ? '100%' : 280 }}
          data-testid="object-search"
        />
        <Select<Sort | ''>
          aria-label={t('objects.list.sort')}
          value={sort ?? ''}
          style={{ width: 150 }}
          onChange={(v) => setParam('sort', v)}
          options={[
            { value: '', label: q ? t('objects.list.sortBest') : t('objects.list.sortNewest') },
            { value: 'created', label: t('objects.list.sortOldest') },
            { value: 'name', label: t('objects.list.sortName') },
            { value: '-updated', label: t('objects.list.sortUpdated') },
          ]}
        />
        <Popover trigger="click" content={filterForm} placement="bottomLeft" destroyOnHidden>
          <Button icon={<FilterOutlined />}>{t('common.filters')}</Button>
        </Popover>
        {!phone && visible.length > 0 && (
          <Popover trigger="click" content={columnChooser} placement="bottomLeft">
            <Button icon={<SettingOutlined />}>{t('common.columns')}</Button>
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
          data-testid="record-cards"
          renderItem={(r) => (
            <List.Item style={{ padding: 0, border: 0 }}>
              <Card size="small" style={{ marginBottom: 8, width: '100%' }} onClick={() => navigate(`/objects/${key}/${r.id}`)}>
                <Link to={`/objects/${key}/${r.id}`}>
                  <Typography.Text strong>{r.name ?? r.id}</Typography.Text>
                </Link>
                <Flex vertical gap={2} style={{ marginTop: 4 }}>
                  {shown.slice(0, 4).map((f) =>
                    f.key in ((r.custom ?? {}) as object) ? (
                      <div key={f.key}>
                        <Typography.Text type="secondary">{f.label}: </Typography.Text>
                        {cell(r, f, true)}
                      </div>
                    ) : null,
                  )}
                </Flex>
              </Card>
            </List.Item>
          )}
        />
      ) : rows.length === 0 && !pages.isLoading ? (
        // No empty table: its wide, scrolling body would hold nothing to focus or read.
        <Card data-testid="record-table">{empty}</Card>
      ) : (
        <Table<ObjectRecord>
          rowKey="id"
          virtual
          size="middle"
          scroll={{ x: 400 + shown.length * 170, y: 'calc(100vh - 320px)' }}
          loading={pages.isLoading}
          columns={tableColumns}
          dataSource={rows}
          pagination={false}
          locale={{ emptyText: empty }}
          onRow={(r) => ({ onDoubleClick: () => navigate(`/objects/${key}/${r.id}`) })}
          data-testid="record-table"
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
      {creating && mayCreate && <CreateRecord object={object} prefill={prefill} onClose={closeCreate} />}
    </>
  );
}

/** A filter as a chip: the field's label and the value as it reads. */
function FilterChip({ field, value }: { field: ObjectField; value: string }) {
  const { t } = useTranslation();
  const name = useRecordName(field.target ?? '', field.type === 'relation' ? value : null);
  const text =
    field.type === 'boolean'
      ? value === 'true'
        ? t('objects.record.yes')
        : t('objects.record.no')
      : field.type === 'relation'
        ? (name ?? value)
        : value;
  return (
    <>
      {field.label}: {text}
    </>
  );
}
