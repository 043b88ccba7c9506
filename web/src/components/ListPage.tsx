// The one record list of the console (contacts, companies, a custom object's records): a
// title with the page's actions, one search box, sort, filters in a popover and as removable
// chips, a column chooser, and cursor pages loaded on demand into a virtualised table, so
// 100,000 records scroll smoothly; on a phone the rows become cards. Its state lives in the
// address (see ./list.ts). Each list brings its own columns, filters, chips and cards.

import { FilterOutlined, SettingOutlined } from '@ant-design/icons';
import { Button, Card, Checkbox, Empty, Flex, Form, Grid, Input, List, Popover, Select, Space, Table, Tag, Typography } from 'antd';
import type { ColumnsType, ColumnType } from 'antd/es/table';
import { useInfiniteQuery } from '@tanstack/react-query';
import { useEffect, useMemo, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { useProblemText } from '../api/useProblem';
import { sortOf, storeColumns, storedColumns, withFilters, withoutFilters, type Sort } from './list';

/** The list's address: the search, the sort and the filters, and how to change one. */
export function useListParams() {
  const [params, setParams] = useSearchParams();
  const replace = (next: URLSearchParams) => setParams(next, { replace: true });
  const setParam = (key: string, value: string | null | undefined) => {
    const next = new URLSearchParams(params);
    if (value) next.set(key, value);
    else next.delete(key);
    replace(next);
  };
  return { params, q: params.get('q') ?? '', sort: sortOf(params), setParam, replace };
}

interface CursorPage<R> {
  data: R[];
  next_cursor?: string | null;
}

/** What a list reads: its query's cache key, one page from a cursor, and a page's size
 * (also how many rows a screen wants before it stops reading). */
export interface ListSource<R> {
  key: readonly unknown[];
  page: (cursor: string | undefined) => Promise<CursorPage<R>>;
  size: number;
}

function useCursorRows<R>({ key, page, size }: ListSource<R>) {
  const pages = useInfiniteQuery({
    queryKey: key,
    queryFn: ({ pageParam }) => page(pageParam),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
  const rows = useMemo(() => pages.data?.pages.flatMap((p) => p.data) ?? [], [pages.data]);
  // A page may come back short (even empty) while more remain: keep reading until a
  // screenful is there, or "load more" asked for, or the list is done.
  const [wanted, setWanted] = useState({ key: '', count: size });
  const queryKey = JSON.stringify(key);
  const want = wanted.key === queryKey ? wanted.count : size;
  const { hasNextPage, isFetching, isError, fetchNextPage } = pages;
  useEffect(() => {
    if (hasNextPage && !isFetching && !isError && rows.length < want) void fetchNextPage();
  }, [hasNextPage, isFetching, isError, fetchNextPage, rows.length, want]);
  return { pages, rows, loadMore: () => setWanted({ key: queryKey, count: rows.length + size }) };
}

/** A column the user may show or hide. */
export interface ListColumn<R> extends Omit<ColumnType<R>, 'key' | 'title'> {
  key: string;
  title: string;
  /** A column of a field the caller's role hides: neither shown nor offered. */
  hidden?: boolean;
}

export function ListPage<R extends { id: string }>({
  breadcrumb,
  title,
  actions,
  searchPlaceholder,
  testIds,
  source,
  filters,
  filterValues,
  chips,
  name,
  path,
  columns,
  defaultColumns,
  columnsKey,
  trailing = [],
  scrollX,
  card,
  empty,
  noMatch,
}: {
  breadcrumb?: ReactNode;
  title: string;
  actions?: ReactNode;
  searchPlaceholder: string;
  testIds: { title?: string; search: string; table: string; cards?: string };
  source: ListSource<R>;
  /** The filter form's items; each named after its address parameter. */
  filters: ReactNode;
  /** The filter form's values now (from the address). */
  filterValues: Record<string, unknown>;
  /** The filters in force, each removable: the key is its address parameter. */
  chips: { key: string; label: ReactNode }[];
  /** The first column (fixed on the left) and a card's heading: the record's name. */
  name: { title: string; width: number; text: (r: R) => ReactNode };
  /** A record's page. */
  path: (r: R) => string;
  /** The columns the user chooses from, in their order. */
  columns: ListColumn<R>[];
  defaultColumns: readonly string[];
  /** Where this browser remembers the chosen columns. */
  columnsKey: string;
  /** Columns always shown after the chosen ones. */
  trailing?: ColumnsType<R>;
  /** The table's scrolling width, given the chosen columns. */
  scrollX: number | ((shown: ListColumn<R>[]) => number);
  /** A card's lines under the name (on a phone), given the chosen columns. */
  card: (r: R, shown: ListColumn<R>[]) => ReactNode;
  /** What an empty list says, unfiltered and filtered. */
  empty: string;
  noMatch: string;
}) {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const phone = !Grid.useBreakpoint().md;
  const problemText = useProblemText();
  const { params, q, sort, setParam, replace } = useListParams();
  const { pages, rows, loadMore } = useCursorRows(source);
  const [chosen, setChosen] = useState<string[]>(() =>
    storedColumns(
      columnsKey,
      columns.map((c) => c.key),
      defaultColumns,
    ),
  );

  const offered = columns.filter((c) => !c.hidden);
  const shown = offered.filter((c) => chosen.includes(c.key));
  const tableColumns: ColumnsType<R> = [
    {
      key: 'name',
      title: name.title,
      fixed: 'left',
      width: name.width,
      render: (_, r) => <Link to={path(r)}>{name.text(r)}</Link>,
    },
    // Keyed apart from the name and trailing columns (a custom field may be called `owner`).
    ...shown.map(({ hidden: _hidden, ...column }) => ({ ...column, key: `chosen.${column.key}` })),
    ...trailing,
  ];

  const filterForm = (
    <Form
      layout="vertical"
      style={{ width: 300, maxWidth: '80vw' }}
      initialValues={filterValues}
      onFinish={(values: Record<string, unknown>) => replace(withFilters(params, values))}
    >
      {filters}
      <Button type="primary" htmlType="submit" block>
        {t('common.filters')}
      </Button>
    </Form>
  );

  const columnChooser = (
    <Checkbox.Group
      value={chosen}
      onChange={(v) => {
        const next = offered.map((c) => c.key).filter((k) => (v as string[]).includes(k));
        setChosen(next);
        storeColumns(columnsKey, next);
      }}
    >
      <Space orientation="vertical">
        {offered.map((c) => (
          <Checkbox key={c.key} value={c.key}>
            {c.title}
          </Checkbox>
        ))}
      </Space>
    </Checkbox.Group>
  );

  const emptyView = (
    <Empty description={pages.isError ? problemText(pages.error) : q || chips.length ? noMatch : empty} />
  );

  return (
    <>
      {breadcrumb}
      <Flex justify="space-between" align="center" wrap gap={8} style={{ marginBottom: 12 }}>
        <Typography.Title level={1} style={{ fontSize: 22, margin: 0 }} data-testid={testIds.title}>
          {title}
        </Typography.Title>
        {actions && <Space wrap>{actions}</Space>}
      </Flex>
      <Flex wrap gap={8} style={{ marginBottom: 8 }}>
        <Input.Search
          key={q}
          defaultValue={q}
          placeholder={searchPlaceholder}
          aria-label={searchPlaceholder}
          allowClear
          onSearch={(v) => setParam('q', v.trim())}
          style={{ width: phone ? '100%' : 280 }}
          data-testid={testIds.search}
        />
        <Select<Sort | ''>
          aria-label={t('common.sort')}
          value={sort ?? ''}
          style={{ width: 160 }}
          onChange={(v) => setParam('sort', v)}
          options={[
            { value: '', label: q ? t('common.sortBest') : t('common.sortNewest') },
            { value: 'created', label: t('common.sortOldest') },
            { value: 'name', label: t('common.sortName') },
            { value: '-updated', label: t('common.sortUpdated') },
          ]}
        />
        <Popover trigger="click" content={filterForm} placement="bottomLeft" destroyOnHidden>
          <Button icon={<FilterOutlined />}>{t('common.filters')}</Button>
        </Popover>
        {!phone && offered.length > 0 && (
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
          <Button type="link" size="small" onClick={() => replace(withoutFilters(params))}>
            {t('common.clearAll')}
          </Button>
        </Flex>
      )}
      {phone ? (
        <List
          loading={pages.isLoading}
          dataSource={rows}
          locale={{ emptyText: emptyView }}
          data-testid={testIds.cards}
          renderItem={(r) => (
            <List.Item style={{ padding: 0, border: 0 }}>
              <Card size="small" style={{ marginBottom: 8, width: '100%' }} onClick={() => navigate(path(r))}>
                <Link to={path(r)}>
                  <Typography.Text strong>{name.text(r)}</Typography.Text>
                </Link>
                {card(r, shown)}
              </Card>
            </List.Item>
          )}
        />
      ) : rows.length === 0 && !pages.isLoading ? (
        // No empty table: its wide, scrolling body would hold nothing to focus or read.
        <Card data-testid={testIds.table}>{emptyView}</Card>
      ) : (
        <Table<R>
          rowKey="id"
          virtual
          size="middle"
          scroll={{
            x: typeof scrollX === 'number' ? scrollX : scrollX(shown),
            y: breadcrumb ? 'calc(100vh - 320px)' : 'calc(100vh - 300px)',
          }}
          loading={pages.isLoading}
          columns={tableColumns}
          dataSource={rows}
          pagination={false}
          locale={{ emptyText: emptyView }}
          onRow={(r) => ({ onDoubleClick: () => navigate(path(r)) })}
          data-testid={testIds.table}
        />
      )}
      <Flex justify="center" align="center" gap={12} style={{ marginTop: 12 }}>
        <Typography.Text type="secondary" data-testid="shown-count">
          {t('common.shown', { count: rows.length })}
        </Typography.Text>
        {pages.hasNextPage && (
          <Button onClick={loadMore} loading={pages.isFetchingNextPage}>
            {t('common.loadMore')}
          </Button>
        )}
      </Flex>
    </>
  );
}
