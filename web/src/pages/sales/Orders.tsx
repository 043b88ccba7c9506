// The order list, newest first: number, status, total, customer, date; filtered by status,
// cursor pages on demand; cards on a phone.

import { PlusOutlined } from '@ant-design/icons';
import { Button, Card, Empty, Flex, Grid, List, Select, Table, Tag, Typography } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { useInfiniteQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { api, unwrap, type Schemas } from '../../api/client';
import { useUserName } from '../../api/lookups';
import { useProblemText } from '../../api/useProblem';
import { can, useMe } from '../../auth/me';
import { formatDate, formatMoney } from '../../i18n/format';

type Order = Schemas['Order'];
type Status = Schemas['OrderStatus'];
export const ORDER_STATUSES: Status[] = ['draft', 'confirmed', 'paid', 'shipped', 'cancelled', 'refunded'];
export const STATUS_COLOR: Record<Status, string> = {
  draft: 'default',
  confirmed: 'blue',
  paid: '#237804',
  shipped: '#006d75',
  cancelled: 'red',
  refunded: '#ad4e00',
};

export function orderTotal(o: Order, lang: string) {
  return o.total_minor !== undefined && o.currency ? formatMoney({ amount_minor: o.total_minor, currency: o.currency }, lang) : '';
}

export default function Orders() {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const phone = !Grid.useBreakpoint().md;
  const navigate = useNavigate();
  const problemText = useProblemText();
  const userName = useUserName();
  const { data: me } = useMe();
  const [params, setParams] = useSearchParams();
  const status = (ORDER_STATUSES as string[]).includes(params.get('status') ?? '') ? (params.get('status') as Status) : undefined;

  const pages = useInfiniteQuery({
    queryKey: ['orders', 'list', { status }],
    queryFn: ({ pageParam }) => unwrap(api.GET('/v1/orders', { params: { query: { status, limit: 100, cursor: pageParam } } })),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
  const rows = pages.data?.pages.flatMap((p) => p.data) ?? [];

  const columns: ColumnsType<Order> = [
    { key: 'number', title: t('sales.orders.number'), width: 140, render: (_, o) => <Link to={`/orders/${o.id}`}>{o.number ?? o.id}</Link> },
    {
      key: 'status',
      title: t('sales.orders.status'),
      width: 120,
      render: (_, o) => o.status && <Tag color={STATUS_COLOR[o.status]}>{t(`sales.orderStatuses.${o.status}`)}</Tag>,
    },
    { key: 'total', title: t('sales.orders.total'), align: 'right', width: 180, render: (_, o) => orderTotal(o, lang) },
    {
      key: 'contact',
      title: t('sales.deal.contact'),
      render: (_, o) => (o.contact_id ? <Link to={`/contacts/${o.contact_id}`}>{t('sales.deal.openContact')}</Link> : ''),
    },
    { key: 'owner', title: t('sales.deal.owner'), render: (_, o) => userName(o.owner_id), ellipsis: true },
    { key: 'created', title: t('sales.deal.created'), width: 140, render: (_, o) => formatDate(o.created_at, lang) },
  ];
  const empty = <Empty description={pages.isError ? problemText(pages.error) : t('sales.orders.empty')} />;

  return (
    <>
      <Flex justify="space-between" align="center" wrap gap={8} style={{ marginBottom: 12 }}>
        <Typography.Title level={1} style={{ fontSize: 22, margin: 0 }}>
          {t('sales.orders.title')}
        </Typography.Title>
        {can(me, 'orders', 'create') && (
          <Button type="primary" icon={<PlusOutlined />} onClick={() => navigate('/orders/new')}>
            {t('sales.orders.new')}
          </Button>
        )}
      </Flex>
      <Select
        aria-label={t('sales.orders.status')}
        style={{ width: 180, marginBottom: 8 }}
        value={status ?? ''}
        onChange={(v) => setParams(v ? { status: v } : {}, { replace: true })}
        options={[
          { value: '', label: t('sales.orders.anyStatus') },
          ...ORDER_STATUSES.map((s) => ({ value: s, label: t(`sales.orderStatuses.${s}`) })),
        ]}
      />
      {phone ? (
        <List
          loading={pages.isLoading}
          dataSource={rows}
          locale={{ emptyText: empty }}
          renderItem={(o) => (
            <List.Item style={{ display: 'block', padding: 0, border: 0 }}>
              <Card size="small" style={{ marginBottom: 8 }}>
              <Flex justify="space-between">
                <Link to={`/orders/${o.id}`}>
                  <Typography.Text strong>{o.number}</Typography.Text>
                </Link>
                {o.status && <Tag color={STATUS_COLOR[o.status]}>{t(`sales.orderStatuses.${o.status}`)}</Tag>}
              </Flex>
              <div>
                {orderTotal(o, lang)} · {formatDate(o.created_at, lang)}
              </div>
            </Card>
            </List.Item>
          )}
        />
      ) : (
        <Table<Order>
          rowKey="id"
          virtual
          scroll={{ y: 'calc(100vh - 300px)' }}
          loading={pages.isLoading}
          columns={columns}
          dataSource={rows}
          pagination={false}
          locale={{ emptyText: empty }}
          onRow={(o) => ({ onDoubleClick: () => navigate(`/orders/${o.id}`) })}
          data-testid="order-table"
        />
      )}
      <Flex justify="center" align="center" gap={12} style={{ marginTop: 12 }}>
        <Typography.Text type="secondary">{t('common.shown', { count: rows.length })}</Typography.Text>
        {pages.hasNextPage && (
          <Button onClick={() => void pages.fetchNextPage()} loading={pages.isFetchingNextPage}>
            {t('common.loadMore')}
          </Button>
        )}
      </Flex>
    </>
  );
}
