// A deal's page: its fields (only those the API answered), the stage history (every stage
// it entered and how long it stayed), and editing with If-Match: when someone else saved
// first (412) the page says so and shows their version to start again from.

import { EditOutlined } from '@ant-design/icons';
import {
  App,
  Button,
  Card,
  Col,
  DatePicker,
  Descriptions,
  Drawer,
  Empty,
  Flex,
  Form,
  Grid,
  Input,
  Result,
  Row,
  Select,
  Skeleton,
  Tag,
  Timeline,
  Typography,
} from 'antd';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import dayjs, { type Dayjs } from 'dayjs';
import { useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { api, ifMatch, unwrap, type Schemas } from '../../api/client';
import { useUserName, useUsers } from '../../api/lookups';
import { ApiProblem } from '../../api/problem';
import { useProblemText, useReportProblem } from '../../api/useProblem';
import { can, useMe } from '../../auth/me';
import { formatDate, formatDateTime, formatMoney } from '../../i18n/format';
import { ContactPicker, fromMoney, useContactName, MoneyInput, moneyRule, toMoney, type MoneyValue } from './inputs';
import { usePipelines } from './queries';

type Deal = Schemas['Deal'];

/** `93784` seconds → `1d 2h` (en) / `1天2小时` (zh). */
export function duration(seconds: number, t: (k: string, o?: Record<string, unknown>) => string): string {
  const d = Math.floor(seconds / 86_400);
  const h = Math.floor((seconds % 86_400) / 3_600);
  const m = Math.floor((seconds % 3_600) / 60);
  if (d) return t('sales.deal.daysHours', { d, h });
  if (h) return t('sales.deal.hoursMinutes', { h, m });
  return t('sales.deal.minutes', { m: Math.max(m, seconds > 0 ? 1 : 0) });
}

export default function DealDetail() {
  const { id = '' } = useParams();
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const problemText = useProblemText();
  const userName = useUserName();
  const { data: me } = useMe();
  const pipelines = usePipelines();
  const [editing, setEditing] = useState(false);
  const deal = useQuery({
    queryKey: ['deals', id],
    queryFn: () => unwrap(api.GET('/v1/deals/{id}', { params: { path: { id } } })),
  });
  const history = useQuery({
    queryKey: ['deals', id, 'history'],
    queryFn: () => unwrap(api.GET('/v1/deals/{id}/stage-history', { params: { path: { id }, query: { limit: 100 } } })),
  });

  const stageName = (stageId: string | null | undefined) => {
    if (!stageId) return t('sales.deal.hiddenStage');
    for (const p of pipelines.data ?? []) {
      const s = p.stages.find((x) => x.id === stageId);
      if (s) return (pipelines.data?.length ?? 0) > 1 ? `${p.name} · ${s.name}` : s.name;
    }
    return stageId;
  };

  if (deal.isLoading) return <Skeleton active />;
  if (deal.isError || !deal.data) {
    const notFound = deal.error instanceof ApiProblem && deal.error.status === 404;
    return <Result status={notFound ? '404' : 'error'} title={problemText(deal.error)} />;
  }
  const d = deal.data;
  const statusColor = d.status === 'won' ? '#237804' : d.status === 'lost' ? 'red' : 'blue';
  type Item = { key: string; label: string; children: ReactNode };
  const maybe: (Item | false | null | undefined | '')[] = [
    'amount' in d && { key: 'amount', label: t('sales.deal.amount'), children: formatMoney(d.amount, lang) || t('common.none') },
    'stage_id' in d && { key: 'stage', label: t('sales.deal.stage'), children: stageName(d.stage_id) },
    'status' in d && { key: 'status', label: t('sales.deal.status'), children: <Tag color={statusColor}>{t(`sales.kinds.${d.status}`)}</Tag> },
    'owner_id' in d && { key: 'owner', label: t('sales.deal.owner'), children: userName(d.owner_id) },
    'expected_close_date' in d && {
      key: 'close',
      label: t('sales.deal.expectedClose'),
      children: d.expected_close_date ? formatDate(`${d.expected_close_date}T00:00:00`, lang) : t('common.none'),
    },
    'contact_id' in d && {
      key: 'contact',
      label: t('sales.deal.contact'),
      children: d.contact_id ? <ContactLink id={d.contact_id} /> : t('common.none'),
    },
    'source' in d && { key: 'source', label: t('sales.deal.source'), children: d.source || t('common.none') },
    'lost_reason' in d && d.lost_reason && { key: 'lost', label: t('sales.deal.lostReason'), children: d.lost_reason },
    'stage_entered_at' in d && { key: 'entered', label: t('sales.deal.stageEntered'), children: formatDateTime(d.stage_entered_at, lang) },
    'closed_at' in d && d.closed_at && { key: 'closed', label: t('sales.deal.closedAt'), children: formatDateTime(d.closed_at, lang) },
    { key: 'created', label: t('sales.deal.created'), children: formatDateTime(d.created_at, lang) },
    { key: 'updated', label: t('sales.deal.updated'), children: formatDateTime(d.updated_at, lang) },
  ];
  const items = maybe.filter((x): x is Item => Boolean(x));

  return (
    <>
      <Card style={{ marginBottom: 16 }}>
        <Flex justify="space-between" align="start" wrap gap={8}>
          <div>
            <Typography.Text type="secondary">
              <Link to={`/deals${d.pipeline_id ? `?pipeline=${d.pipeline_id}` : ''}`}>{t('sales.board.title')}</Link>
            </Typography.Text>
            <Typography.Title level={1} style={{ fontSize: 24, margin: 0 }} data-testid="deal-title">
              {d.title ?? d.id}
            </Typography.Title>
          </div>
          {can(me, 'deals', 'update') && (
            <Button icon={<EditOutlined />} onClick={() => setEditing(true)}>
              {t('common.edit')}
            </Button>
          )}
        </Flex>
      </Card>
      <Row gutter={[16, 16]}>
        <Col xs={24} lg={14}>
          <Card title={t('sales.deal.details')}>
            <Descriptions column={1} items={items} data-testid="deal-fields" />
          </Card>
        </Col>
        <Col xs={24} lg={10}>
          <Card title={t('sales.deal.history')}>
            {history.isLoading ? (
              <Skeleton active />
            ) : history.isError ? (
              <Empty description={problemText(history.error)} />
            ) : (
              <Timeline
                data-testid="stage-history"
                items={(history.data?.data ?? []).map((c, i) => ({
                  key: c.id,
                  color: i === (history.data?.data.length ?? 0) - 1 ? 'blue' : 'gray',
                  content: (
                    <>
                      <div>
                        {c.from_stage_id
                          ? t('sales.deal.movedFromTo', { from: stageName(c.from_stage_id), to: stageName(c.to_stage_id) })
                          : t('sales.deal.createdIn', { stage: stageName(c.to_stage_id) })}
                      </div>
                      <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                        {formatDateTime(c.at, lang)} · {userName(c.by)}
                        {c.seconds_in_from_stage != null && ` · ${t('sales.deal.spent', { time: duration(c.seconds_in_from_stage, t) })}`}
                      </Typography.Text>
                    </>
                  ),
                }))}
              />
            )}
          </Card>
        </Col>
      </Row>
      {editing && <DealEdit deal={d} onClose={() => setEditing(false)} />}
    </>
  );
}

interface EditValues {
  title?: string;
  amount?: MoneyValue;
  contact_id?: string | null;
  expected_close_date?: Dayjs | null;
  stage_id?: string;
  owner_id?: string;
  source?: string | null;
  lost_reason?: string | null;
}

function DealEdit({ deal, onClose }: { deal: Deal; onClose: () => void }) {
  const { t } = useTranslation();
  const { message, modal } = App.useApp();
  const phone = !Grid.useBreakpoint().md;
  const queryClient = useQueryClient();
  const report = useReportProblem();
  const pipelines = usePipelines();
  const users = useUsers();
  const { data: me } = useMe();
  const [form] = Form.useForm<EditValues>();
  const [busy, setBusy] = useState(false);
  const stages = pipelines.data?.find((p) => p.id === deal.pipeline_id)?.stages ?? [];

  const initial: EditValues = {
    title: deal.title,
    amount: fromMoney(deal.amount),
    contact_id: deal.contact_id ?? null,
    expected_close_date: deal.expected_close_date ? dayjs(deal.expected_close_date) : null,
    stage_id: deal.stage_id,
    owner_id: deal.owner_id,
    source: deal.source ?? null,
    lost_reason: deal.lost_reason ?? null,
  };

  const submit = async () => {
    const touched = (k: keyof EditValues) => form.isFieldTouched(k) && k in deal;
    const v = form.getFieldsValue();
    const patch: Schemas['DealPatch'] = {};
    if (touched('title') && v.title) patch.title = v.title.trim();
    if (touched('amount')) patch.amount = toMoney(v.amount);
    if (touched('contact_id')) patch.contact_id = v.contact_id ?? null;
    if (touched('expected_close_date')) patch.expected_close_date = v.expected_close_date ? v.expected_close_date.format('YYYY-MM-DD') : null;
    if (touched('stage_id') && v.stage_id) patch.stage_id = v.stage_id;
    if (touched('owner_id') && v.owner_id) patch.owner_id = v.owner_id;
    if (touched('source')) patch.source = v.source?.trim() || null;
    if (touched('lost_reason')) patch.lost_reason = v.lost_reason?.trim() || null;
    if (Object.keys(patch).length === 0) return onClose();
    setBusy(true);
    try {
      const saved = await unwrap(
        api.PATCH('/v1/deals/{id}', { params: { path: { id: deal.id }, header: { 'If-Match': ifMatch(deal.version) } }, body: patch }),
      );
      queryClient.setQueryData(['deals', deal.id], saved);
      void queryClient.invalidateQueries({ queryKey: ['deals'] });
      void message.success(t('common.saved'));
      onClose();
    } catch (e) {
      if (e instanceof ApiProblem && e.status === 412) {
        await queryClient.invalidateQueries({ queryKey: ['deals', deal.id] });
        onClose();
        modal.warning({ title: t('sales.deal.conflictTitle'), content: t('sales.deal.conflict') });
      } else {
        report(e, form);
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <Drawer
      open
      title={t('sales.deal.edit')}
      onClose={onClose}
      size={phone ? '100%' : 480}
      footer={
        <Flex gap={8}>
          <Button type="primary" loading={busy} onClick={() => form.submit()}>
            {t('common.save')}
          </Button>
          <Button onClick={onClose}>{t('common.cancel')}</Button>
        </Flex>
      }
    >
      <Form form={form} layout="vertical" initialValues={initial} onFinish={() => void submit()}>
        {'title' in deal && (
          <Form.Item name="title" label={t('sales.deal.title')} rules={[{ required: true, whitespace: true, message: t('common.required') }]}>
            <Input maxLength={200} />
          </Form.Item>
        )}
        {'amount' in deal && (
          <Form.Item name="amount" label={t('sales.deal.amount')} rules={[moneyRule(t('sales.common.badAmount'))]}>
            <MoneyInput />
          </Form.Item>
        )}
        {'stage_id' in deal && stages.length > 0 && (
          <Form.Item name="stage_id" label={t('sales.deal.stage')}>
            <Select options={stages.map((s) => ({ value: s.id, label: s.name }))} />
          </Form.Item>
        )}
        {'contact_id' in deal && (
          <Form.Item name="contact_id" label={t('sales.deal.contact')}>
            <ContactPicker initialLabel={t('sales.deal.currentContact')} />
          </Form.Item>
        )}
        {'expected_close_date' in deal && (
          <Form.Item name="expected_close_date" label={t('sales.deal.expectedClose')}>
            <DatePicker style={{ width: '100%' }} />
          </Form.Item>
        )}
        {'owner_id' in deal && users.data && can(me, 'deals', 'assign') && (
          <Form.Item name="owner_id" label={t('sales.deal.owner')}>
            <Select options={users.data.map((u) => ({ value: u.id, label: u.name }))} />
          </Form.Item>
        )}
        {'source' in deal && (
          <Form.Item name="source" label={t('sales.deal.source')}>
            <Input maxLength={100} />
          </Form.Item>
        )}
        {'lost_reason' in deal && (
          <Form.Item name="lost_reason" label={t('sales.deal.lostReason')}>
            <Input maxLength={200} />
          </Form.Item>
        )}
      </Form>
    </Drawer>
  );
}

function ContactLink({ id }: { id: string }) {
  const { t } = useTranslation();
  const name = useContactName(id);
  return <Link to={`/contacts/${id}`}>{name ?? t('sales.deal.openContact')}</Link>;
}
