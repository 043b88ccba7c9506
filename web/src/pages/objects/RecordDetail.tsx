// A custom record's page: the header with its owner and last change, edit and delete (for
// roles that may), its fields as the API returned them (a field the role hides is absent
// from the answer, and so from the page), and its timeline.

import { DeleteOutlined, EditOutlined } from '@ant-design/icons';
import {
  App,
  Breadcrumb,
  Button,
  Card,
  Col,
  Descriptions,
  Flex,
  Modal,
  Result,
  Row,
  Skeleton,
  Space,
  Statistic,
  Typography,
} from 'antd';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useParams } from 'react-router';
import { api, ifMatch, unwrap } from '../../api/client';
import { ApiProblem } from '../../api/problem';
import { useUserName } from '../../api/lookups';
import { useProblemText, useReportProblem } from '../../api/useProblem';
import { useMe } from '../../auth/me';
import { RecordTimeline } from '../../components/RecordTimeline';
import { formatDateTime } from '../../i18n/format';
import { activeFields, canObject, labelOf, useObject, type ObjectDefinition, type ObjectRecord } from './definitions';
import { ObjectValue } from './ObjectValue';
import { EditRecord } from './RecordDrawers';

export default function RecordDetail() {
  const { key = '', id = '' } = useParams();
  const { t } = useTranslation();
  const problemText = useProblemText();
  const object = useObject(key);
  const record = useQuery({
    queryKey: ['objects', key, 'records', id],
    queryFn: () => unwrap(api.GET('/v1/objects/{key}/records/{id}', { params: { path: { key, id } } })),
    retry: false,
  });

  if (object.isLoading || record.isLoading) return <Skeleton active />;
  if (!object.data || record.isError || !record.data) {
    const notFound = !object.data || (record.error instanceof ApiProblem && record.error.status === 404);
    return (
      <Result
        status={notFound ? '404' : 'error'}
        title={object.data ? problemText(record.error) : t('objects.list.notFound', { key })}
        extra={<Link to={object.data ? `/objects/${key}` : '/objects'}>{t('common.back')}</Link>}
      />
    );
  }
  return <Detail object={object.data} record={record.data} />;
}

function Detail({ object, record: r }: { object: ObjectDefinition; record: ObjectRecord }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const { data: me } = useMe();
  const { message } = App.useApp();
  // The confirmation renders inside this page's theme (its danger colour, below).
  const [modal, modalHolder] = Modal.useModal();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const report = useReportProblem();
  const userName = useUserName();
  const [editing, setEditing] = useState(false);
  const key = object.key;
  const plural = labelOf(object.plural_label, lang) || labelOf(object.label, lang);
  const fields = activeFields(object);
  const custom = (r.custom ?? {}) as Record<string, unknown>;
  const mayEdit = canObject(me, key, 'update');
  const mayDelete = canObject(me, key, 'delete');

  const rows: { key: string; label: string; children: ReactNode }[] = [];
  if ('owner_id' in r) rows.push({ key: 'owner_id', label: t('objects.record.owner'), children: userName(r.owner_id) });
  // Only what the API returned: a missing key is a field this reader may not see.
  for (const f of fields) {
    if (f.key in custom) rows.push({ key: f.key, label: f.label, children: <ObjectValue field={f} value={custom[f.key]} /> });
  }
  rows.push({
    key: 'created',
    label: t('objects.record.created'),
    children: `${userName(r.created_by)} · ${formatDateTime(r.created_at, lang)}`,
  });

  const changedLabel = (field: string) =>
    field === 'name'
      ? t('objects.record.name')
      : field === 'owner_id'
        ? t('objects.record.owner')
        : field === 'custom'
          ? t('objects.record.values')
          : (fields.find((f) => f.key === field || `custom.${f.key}` === field)?.label ?? field);

  const remove = () =>
    modal.confirm({
      title: t('objects.record.deleteTitle', { name: r.name ?? r.id }),
      content: t('objects.record.deleteHelp'),
      okText: t('common.delete'),
      okButtonProps: { danger: true },
      cancelText: t('common.cancel'),
      onOk: async () => {
        try {
          await unwrap(
            api.DELETE('/v1/objects/{key}/records/{id}', {
              params: { path: { key, id: r.id }, header: { 'If-Match': ifMatch(r.version) } },
            }),
          );
          queryClient.removeQueries({ queryKey: ['objects', key, 'records', r.id] });
          void queryClient.invalidateQueries({ queryKey: ['objects', key, 'list'] });
          void queryClient.invalidateQueries({ queryKey: ['objects', 'related'] });
          void message.success(t('objects.record.deleted'));
          navigate(`/objects/${key}`);
        } catch (e) {
          if (e instanceof ApiProblem && e.status === 412) {
            void message.warning(t('objects.record.changedMeanwhile'));
            void queryClient.invalidateQueries({ queryKey: ['objects', key, 'records', r.id] });
          } else {
            report(e);
          }
        }
      },
    });

  return (
    <>
      {modalHolder}
      <Breadcrumb
        style={{ marginBottom: 8 }}
        items={[
          { title: <Link to="/objects">{t('objects.home.title')}</Link> },
          { title: <Link to={`/objects/${key}`}>{plural}</Link> },
          { title: r.name ?? r.id },
        ]}
      />
      <Card style={{ marginBottom: 16 }}>
        <Flex justify="space-between" align="start" wrap gap={8}>
          <div>
            <Typography.Text type="secondary">{labelOf(object.label, lang)}</Typography.Text>
            <Typography.Title level={1} style={{ fontSize: 24, margin: 0 }} data-testid="record-name">
              {r.name ?? r.id}
            </Typography.Title>
          </div>
          <Space wrap>
            {mayEdit && (
              <Button type="primary" icon={<EditOutlined />} onClick={() => setEditing(true)}>
                {t('common.edit')}
              </Button>
            )}
            {mayDelete && (
              <Button danger icon={<DeleteOutlined />} onClick={remove}>
                {t('common.delete')}
              </Button>
            )}
          </Space>
        </Flex>
        <Flex wrap gap={24} style={{ marginTop: 12 }}>
          {'owner_id' in r && (
            <Statistic title={t('objects.record.owner')} value={userName(r.owner_id)} styles={{ content: { fontSize: 15 } }} />
          )}
          <Statistic
            title={t('objects.record.updated')}
            value={formatDateTime(r.updated_at, lang)}
            styles={{ content: { fontSize: 15 } }}
          />
        </Flex>
      </Card>
      <Row gutter={[16, 16]}>
        <Col xs={24} lg={11}>
          <Card title={t('objects.record.details')} size="small">
            <Descriptions column={1} bordered size="small" items={rows} data-testid="record-details" />
          </Card>
        </Col>
        <Col xs={24} lg={13}>
          <Card title={t('objects.record.timeline')} size="small">
            <RecordTimeline resource={`objects/${key}`} id={r.id} mayLog={mayEdit} label={changedLabel} />
          </Card>
        </Col>
      </Row>
      {editing && <EditRecord object={object} record={r} onClose={() => setEditing(false)} />}
    </>
  );
}
