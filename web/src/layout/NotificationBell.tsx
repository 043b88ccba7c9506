// The bell: unread count polled every 30 s; the list opens in a popover.

import { BellOutlined } from '@ant-design/icons';
import { Badge, Button, Empty, List, Popover, Typography } from 'antd';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api, unwrap } from '../api/client';
import { formatDateTime } from '../i18n/format';

export function NotificationBell() {
  const { t, i18n } = useTranslation();
  const queryClient = useQueryClient();
  const unread = useQuery({
    queryKey: ['notifications', 'unread'],
    queryFn: () => unwrap(api.GET('/v1/notifications', { params: { query: { unread: true, limit: 50 } } })),
    refetchInterval: 30_000,
  });
  const readAll = useMutation({
    mutationFn: () => unwrap(api.POST('/v1/notifications/read-all')),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['notifications'] }),
  });
  const items = unread.data?.data ?? [];
  const count = items.length + (unread.data?.next_cursor ? 1 : 0);
  return (
    <Popover
      trigger="click"
      placement="bottomRight"
      title={
        <Typography.Text strong>
          {t('nav.notifications')}
          {items.length > 0 && (
            <Button type="link" size="small" onClick={() => readAll.mutate()} style={{ float: 'right' }}>
              {t('nav.markAllRead')}
            </Button>
          )}
        </Typography.Text>
      }
      content={
        <div style={{ width: 320, maxWidth: '80vw', maxHeight: 400, overflow: 'auto' }}>
          {items.length === 0 ? (
            <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('nav.noNotifications')} />
          ) : (
            <List
              size="small"
              dataSource={items}
              renderItem={(n) => (
                <List.Item>
                  <List.Item.Meta title={n.title} description={formatDateTime(n.created_at, i18n.language)} />
                </List.Item>
              )}
            />
          )}
        </div>
      }
    >
      <Button type="text" aria-label={`${t('nav.notifications')} (${count})`} data-testid="bell">
        <Badge count={count} overflowCount={50} size="small">
          <BellOutlined style={{ fontSize: 18 }} />
        </Badge>
      </Button>
    </Popover>
  );
}
