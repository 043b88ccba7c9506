// The workbench: my to-dos (overdue, today, upcoming) and what I opened recently.

import { Card, Col, Empty, List, Row, Skeleton, Tag, Typography } from 'antd';
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { api, unwrap } from '../api/client';
import { can, useMe } from '../auth/me';
import { formatDateTime } from '../i18n/format';
import { recentRecords } from '../components/recent';

/** The browser's UTC offset as the API wants it, e.g. `+08:00`. */
export function utcOffset(date = new Date()): string {
  const minutes = -date.getTimezoneOffset();
  const sign = minutes >= 0 ? '+' : '-';
  const abs = Math.abs(minutes);
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

type View = 'overdue' | 'today' | 'upcoming';

function TaskList({ view }: { view: View }) {
  const { t, i18n } = useTranslation();
  const tasks = useQuery({
    queryKey: ['tasks', 'mine', view],
    queryFn: () =>
      unwrap(api.GET('/v1/tasks', { params: { query: { view, utc_offset: utcOffset(), limit: 20 } } })),
  });
  // Solid tags: the pale presets fail WCAG contrast for orange.
  const color = view === 'overdue' ? '#b91c1c' : view === 'today' ? '#b45309' : '#1d4ed8';
  return (
    <Card title={<Tag color={color}>{t(`home.${view}`)}</Tag>} size="small" style={{ height: '100%' }}>
      {tasks.isLoading ? (
        <Skeleton active />
      ) : (tasks.data?.data.length ?? 0) === 0 ? (
        <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('home.noTasks')} />
      ) : (
        <List
          size="small"
          dataSource={tasks.data?.data}
          renderItem={(task) => (
            <List.Item>
              <List.Item.Meta
                title={
                  task.contact_id ? <Link to={`/contacts/${task.contact_id}`}>{task.title}</Link> : task.title
                }
                description={formatDateTime(task.due_at, i18n.language)}
              />
            </List.Item>
          )}
        />
      )}
    </Card>
  );
}

export default function Home() {
  const { t } = useTranslation();
  const { data: me } = useMe();
  const recent = recentRecords();
  return (
    <>
      <Typography.Title level={1} style={{ fontSize: 24 }}>
        {t('home.greeting', { name: me?.user.name ?? '' })}
      </Typography.Title>
      {can(me, 'tasks', 'read') && (
        <>
          <Typography.Title level={2} style={{ fontSize: 18 }}>
            {t('home.myTasks')}
          </Typography.Title>
          <Row gutter={[16, 16]}>
            {(['overdue', 'today', 'upcoming'] as const).map((v) => (
              <Col xs={24} md={8} key={v}>
                <TaskList view={v} />
              </Col>
            ))}
          </Row>
        </>
      )}
      <Typography.Title level={2} style={{ fontSize: 18, marginTop: 24 }}>
        {t('home.recent')}
      </Typography.Title>
      <Card size="small">
        {recent.length === 0 ? (
          <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('home.noRecent')} />
        ) : (
          <List
            size="small"
            dataSource={recent}
            renderItem={(r) => (
              <List.Item>
                <Link to={`/${r.kind === 'company' ? 'companies' : r.kind === 'deal' ? 'deals' : 'contacts'}/${r.id}`}>
                  {r.name}
                </Link>
              </List.Item>
            )}
          />
        )}
      </Card>
    </>
  );
}
