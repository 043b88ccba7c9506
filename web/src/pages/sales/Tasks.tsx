// My to-dos by view (overdue, today, upcoming — the API's views in the reader's time
// zone), a new task with its due time and a reminder, and completing one (If-Match).

import { BellOutlined, PlusOutlined } from '@ant-design/icons';
import {
  App,
  Button,
  Checkbox,
  DatePicker,
  Drawer,
  Empty,
  Flex,
  Form,
  Grid,
  Input,
  List,
  Segmented,
  Select,
  Skeleton,
  Space,
  Tag,
  Typography,
} from 'antd';
import { useInfiniteQuery, useQueryClient } from '@tanstack/react-query';
import type { Dayjs } from 'dayjs';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useSearchParams } from 'react-router';
import { api, ifMatch, unwrap, type Schemas } from '../../api/client';
import { ApiProblem } from '../../api/problem';
import { useProblemText, useReportProblem } from '../../api/useProblem';
import { can, useMe } from '../../auth/me';
import { formatDateTime } from '../../i18n/format';
import { utcOffset } from './queries';

type View = 'overdue' | 'today' | 'upcoming';
type Task = Schemas['Task'];
const VIEWS: View[] = ['overdue', 'today', 'upcoming'];
const PRIORITY_COLOR: Record<string, string> = { urgent: 'red', high: '#ad4e00', normal: 'blue', low: 'default' };

export default function Tasks() {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const { message } = App.useApp();
  const problemText = useProblemText();
  const queryClient = useQueryClient();
  const { data: me } = useMe();
  const [params, setParams] = useSearchParams();
  const view = (VIEWS as string[]).includes(params.get('view') ?? '') ? (params.get('view') as View) : 'today';
  const [creating, setCreating] = useState(false);
  const [completing, setCompleting] = useState<string | null>(null);

  const tasks = useInfiniteQuery({
    queryKey: ['tasks', 'mine', view, 'page'],
    queryFn: ({ pageParam }) =>
      unwrap(api.GET('/v1/tasks', { params: { query: { view, utc_offset: utcOffset(), limit: 50, cursor: pageParam } } })),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
  const rows = tasks.data?.pages.flatMap((p) => p.data) ?? [];

  const complete = async (task: Task) => {
    setCompleting(task.id);
    try {
      await unwrap(
        api.PATCH('/v1/tasks/{id}', {
          params: { path: { id: task.id }, header: { 'If-Match': ifMatch(task.version) } },
          body: { status: 'done' },
        }),
      );
      void message.success(t('sales.tasks.completed', { title: task.title ?? '' }));
    } catch (e) {
      if (e instanceof ApiProblem && e.status === 412) void message.warning(t('sales.tasks.conflict'));
      else void message.error(problemText(e));
    } finally {
      setCompleting(null);
      void queryClient.invalidateQueries({ queryKey: ['tasks'] });
    }
  };

  return (
    <>
      <Flex justify="space-between" align="center" wrap gap={8} style={{ marginBottom: 12 }}>
        <Typography.Title level={1} style={{ fontSize: 22, margin: 0 }}>
          {t('sales.tasks.title')}
        </Typography.Title>
        {can(me, 'tasks', 'create') && (
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setCreating(true)}>
            {t('sales.tasks.new')}
          </Button>
        )}
      </Flex>
      <Segmented<View>
        value={view}
        onChange={(v) => setParams({ view: v }, { replace: true })}
        options={VIEWS.map((v) => ({ value: v, label: t(`home.${v}`) }))}
        style={{ marginBottom: 12 }}
      />
      {tasks.isLoading ? (
        <Skeleton active />
      ) : (
        <List
          bordered
          data-testid="task-list"
          dataSource={rows}
          locale={{ emptyText: <Empty description={tasks.isError ? problemText(tasks.error) : t('home.noTasks')} /> }}
          renderItem={(task) => (
            <List.Item
              actions={[
                <Checkbox
                  key="done"
                  checked={task.status === 'done'}
                  disabled={completing === task.id}
                  onChange={() => void complete(task)}
                  aria-label={t('sales.tasks.complete', { title: task.title ?? '' })}
                >
                  {t('sales.tasks.done')}
                </Checkbox>,
              ]}
            >
              <List.Item.Meta
                title={
                  <Space wrap size={4}>
                    {task.contact_id ? <Link to={`/contacts/${task.contact_id}`}>{task.title}</Link> : task.deal_id ? <Link to={`/deals/${task.deal_id}`}>{task.title}</Link> : task.title}
                    {task.kind && <Tag>{t(`sales.taskKinds.${task.kind}`)}</Tag>}
                    {task.priority && task.priority !== 'normal' && <Tag color={PRIORITY_COLOR[task.priority]}>{t(`sales.priorities.${task.priority}`)}</Tag>}
                  </Space>
                }
                description={
                  <Space wrap size={12}>
                    {task.due_at && (
                      <span style={{ color: view === 'overdue' ? '#c41d1d' : undefined }}>
                        {t('sales.tasks.dueAt', { time: formatDateTime(task.due_at, lang) })}
                      </span>
                    )}
                    {task.remind_at && (
                      <span>
                        <BellOutlined aria-hidden /> {formatDateTime(task.remind_at, lang)}
                        {task.reminded_at ? ` (${t('sales.tasks.reminded')})` : ''}
                      </span>
                    )}
                  </Space>
                }
              />
            </List.Item>
          )}
        />
      )}
      {tasks.hasNextPage && (
        <Flex justify="center" style={{ marginTop: 12 }}>
          <Button onClick={() => void tasks.fetchNextPage()} loading={tasks.isFetchingNextPage}>
            {t('common.loadMore')}
          </Button>
        </Flex>
      )}
      {creating && <TaskCreate onClose={() => setCreating(false)} />}
    </>
  );
}

interface TaskValues {
  title: string;
  kind?: Schemas['TaskKind'];
  due_at?: Dayjs | null;
  remind_at?: Dayjs | null;
  remind_by_email?: boolean;
  priority?: Schemas['TaskPriority'];
  notes?: string;
}

function TaskCreate({ onClose }: { onClose: () => void }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const phone = !Grid.useBreakpoint().md;
  const queryClient = useQueryClient();
  const report = useReportProblem();
  const [form] = Form.useForm<TaskValues>();
  const [busy, setBusy] = useState(false);
  const remindAt = Form.useWatch('remind_at', form);

  const submit = async (v: TaskValues) => {
    setBusy(true);
    try {
      await unwrap(
        api.POST('/v1/tasks', {
          body: {
            title: v.title.trim(),
            kind: v.kind ?? null,
            due_at: v.due_at ? v.due_at.second(0).toISOString() : null,
            remind_at: v.remind_at ? v.remind_at.second(0).toISOString() : null,
            ...(v.remind_at ? { remind_by_email: Boolean(v.remind_by_email) } : {}),
            priority: v.priority ?? null,
            notes: v.notes?.trim() || null,
          },
        }),
      );
      void message.success(t('common.created'));
      void queryClient.invalidateQueries({ queryKey: ['tasks'] });
      onClose();
    } catch (e) {
      report(e, form);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Drawer
      open
      title={t('sales.tasks.new')}
      onClose={onClose}
      size={phone ? '100%' : 440}
      footer={
        <Flex gap={8}>
          <Button type="primary" loading={busy} onClick={() => form.submit()}>
            {t('common.create')}
          </Button>
          <Button onClick={onClose}>{t('common.cancel')}</Button>
        </Flex>
      }
    >
      <Form<TaskValues> form={form} layout="vertical" onFinish={(v) => void submit(v)} initialValues={{ kind: 'todo', priority: 'normal' }}>
        <Form.Item name="title" label={t('sales.tasks.taskTitle')} rules={[{ required: true, whitespace: true, message: t('common.required') }]}>
          <Input maxLength={200} autoFocus />
        </Form.Item>
        <Form.Item name="kind" label={t('sales.tasks.kind')}>
          <Select options={(['todo', 'call', 'email', 'meeting'] as const).map((k) => ({ value: k, label: t(`sales.taskKinds.${k}`) }))} />
        </Form.Item>
        <Form.Item name="due_at" label={t('sales.tasks.due')}>
          <DatePicker showTime={{ format: 'HH:mm' }} format="YYYY-MM-DD HH:mm" style={{ width: '100%' }} />
        </Form.Item>
        <Form.Item name="remind_at" label={t('sales.tasks.remind')}>
          <DatePicker showTime={{ format: 'HH:mm' }} format="YYYY-MM-DD HH:mm" style={{ width: '100%' }} />
        </Form.Item>
        {remindAt && (
          <Form.Item name="remind_by_email" valuePropName="checked">
            <Checkbox>{t('sales.tasks.remindByEmail')}</Checkbox>
          </Form.Item>
        )}
        <Form.Item name="priority" label={t('sales.tasks.priority')}>
          <Select options={(['low', 'normal', 'high', 'urgent'] as const).map((k) => ({ value: k, label: t(`sales.priorities.${k}`) }))} />
        </Form.Item>
        <Form.Item name="notes" label={t('sales.tasks.notes')}>
          <Input.TextArea rows={3} maxLength={2000} />
        </Form.Item>
      </Form>
    </Drawer>
  );
}
