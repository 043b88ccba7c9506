// A contact's page: header with the key facts, then tabs: the timeline (log a call,
// meeting or note on top), every field the caller may see (masked ones with Reveal for
// those allowed), deals, purchases and tickets.

import { EditOutlined, EyeOutlined } from '@ant-design/icons';
import {
  Button,
  Card,
  Descriptions,
  Empty,
  Flex,
  List,
  Result,
  Skeleton,
  Space,
  Statistic,
  Tabs,
  Tag,
  Typography,
} from 'antd';
import { useQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useParams } from 'react-router';
import { api, unwrap } from '../../api/client';
import { ApiProblem } from '../../api/problem';
import { useCustomFields, useUserName } from '../../api/lookups';
import { useProblemText } from '../../api/useProblem';
import { can, useMe } from '../../auth/me';
import { rememberRecent } from '../../components/recent';
import { formatDate, formatDateTime, formatMoney } from '../../i18n/format';
import { ContactEdit } from './ContactEdit';
import { display, isMasked, LABELS, type Contact } from './fields';
import { FieldValue } from '../../components/FieldValue';
import { RecordTimeline } from '../../components/RecordTimeline';
import { RelatedObjectRecords } from '../objects/related';

export default function ContactDetail() {
  const { id = '' } = useParams();
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const { data: me } = useMe();
  const problemText = useProblemText();
  const userName = useUserName();
  const [reveal, setReveal] = useState(false);
  const [editing, setEditing] = useState(false);
  const contact = useQuery({
    queryKey: ['contacts', id, { reveal }],
    queryFn: () => unwrap(api.GET('/v1/contacts/{id}', { params: { path: { id }, query: reveal ? { reveal: true } : {} } })),
  });

  useEffect(() => {
    if (contact.data) rememberRecent({ kind: 'contact', id, name: contact.data.name ?? id });
  }, [contact.data, id]);

  if (contact.isLoading) return <Skeleton active />;
  if (contact.isError || !contact.data) {
    const notFound = contact.error instanceof ApiProblem && contact.error.status === 404;
    return <Result status={notFound ? '404' : 'error'} title={problemText(contact.error)} />;
  }
  const c = contact.data;
  const masked = Object.entries(c).some(([, v]) => isMasked(v));
  const mayReveal = can(me, 'contacts', 'reveal');
  const mayEdit = can(me, 'contacts', 'update');

  return (
    <>
      <Card style={{ marginBottom: 16 }}>
        <Flex justify="space-between" align="start" wrap gap={8}>
          <div>
            <Typography.Title level={1} style={{ fontSize: 24, margin: 0 }} data-testid="contact-name">
              {c.name}
            </Typography.Title>
            <Typography.Text type="secondary">{[c.title, c.company_name].filter(Boolean).join(' · ')}</Typography.Text>
          </div>
          <Space wrap>
            {masked && mayReveal && !reveal && (
              <Button icon={<EyeOutlined />} onClick={() => setReveal(true)}>
                {t('common.reveal')}
              </Button>
            )}
            {mayEdit && (
              <Button type="primary" icon={<EditOutlined />} onClick={() => setEditing(true)}>
                {t('common.edit')}
              </Button>
            )}
          </Space>
        </Flex>
        <Flex wrap gap={24} style={{ marginTop: 12 }}>
          {'owner_id' in c && (
            <Statistic title={t('contacts.owner')} value={userName(c.owner_id)} valueStyle={{ fontSize: 15 }} />
          )}
          {'lifecycle_stage' in c && (
            <Statistic
              title={t('contacts.stage')}
              value={c.lifecycle_stage ? t(`stages.${c.lifecycle_stage}`) : t('common.none')}
              valueStyle={{ fontSize: 15 }}
            />
          )}
          <Statistic title={t('contacts.updated')} value={formatDateTime(c.updated_at, lang)} valueStyle={{ fontSize: 15 }} />
        </Flex>
      </Card>
      <Card>
        <Tabs
          items={[
            { key: 'timeline', label: t('contacts.timeline'), children: (
                <RecordTimeline
                  resource="contacts"
                  id={id}
                  mayLog={mayEdit}
                  label={(f) => t(LABELS[f] ?? f, { defaultValue: f })}
                />
              ),
            },
            { key: 'details', label: t('contacts.details'), children: <Details contact={c} /> },
            // Related records only for roles that may read them.
            ...(can(me, 'deals', 'read')
              ? [{ key: 'deals', label: t('contacts.deals'), children: <Deals id={id} /> }]
              : []),
            ...(can(me, 'orders', 'read')
              ? [{ key: 'orders', label: t('contacts.orders'), children: <Purchases id={id} /> }]
              : []),
            ...(can(me, 'tickets', 'read')
              ? [{ key: 'tickets', label: t('contacts.tickets'), children: <Tickets id={id} /> }]
              : []),
          ]}
        />
      </Card>
      <RelatedObjectRecords target="contacts" id={id} />
      {editing && <ContactEdit contact={c} onClose={() => setEditing(false)} />}
    </>
  );
}


/** Every field the API returned: a hidden field is absent from the answer, so it is absent
 * here too. */
function Details({ contact }: { contact: Contact }) {
  const { t, i18n } = useTranslation();
  const userName = useUserName();
  const fields = useCustomFields('contacts');
  const rows: { key: string; label: string; value: React.ReactNode }[] = [];
  const add = (key: keyof Contact, label: string, render?: (v: unknown) => React.ReactNode) => {
    if (!(key in contact)) return;
    const v = contact[key];
    rows.push({ key, label, value: render ? render(v) : <FieldValue value={v} display={display} /> });
  };
  add('name', t('contacts.name'));
  add('emails', t('contacts.email'));
  add('phones', t('contacts.phone'));
  add('company_name', t('contacts.company'));
  add('title', t('contacts.jobTitle'));
  add('owner_id', t('contacts.owner'), (v) => userName(v as string));
  add('lifecycle_stage', t('contacts.stage'), (v) => (v ? t(`stages.${String(v)}`) : t('common.none')));
  add('tags', t('contacts.tags'), (v) => (v as string[] | undefined)?.map((x) => <Tag key={x}>{x}</Tag>));
  add('address', t('contacts.city'));
  add('source', t('contacts.source'));
  add('national_id', t('contacts.nationalId'));
  add('date_of_birth', t('contacts.dateOfBirth'));
  add('notes', t('contacts.notes'), (v) => <span style={{ whiteSpace: 'pre-wrap' }}>{display(v)}</span>);
  add('created_at', t('contacts.created'), (v) => formatDateTime(v as string, i18n.language));
  const custom = (contact.custom ?? {}) as Record<string, unknown>;
  for (const [k, v] of Object.entries(custom)) {
    const label = fields.data?.find((f) => f.key === k)?.label ?? k;
    rows.push({ key: `custom.${k}`, label, value: <FieldValue value={v} display={display} /> });
  }
  return (
    <Descriptions
      column={{ xs: 1, sm: 1, md: 2 }}
      bordered
      size="small"
      items={rows.map((r) => ({ key: r.key, label: r.label, children: r.value }))}
      data-testid="contact-details"
    />
  );
}


function Deals({ id }: { id: string }) {
  const { t, i18n } = useTranslation();
  const deals = useQuery({
    queryKey: ['deals', { contact_id: id }],
    queryFn: () => unwrap(api.GET('/v1/deals', { params: { query: { contact_id: id, limit: 50 } } })),
    retry: false,
  });
  return (
    <List
      loading={deals.isLoading}
      dataSource={deals.data?.data ?? []}
      locale={{ emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} /> }}
      renderItem={(d) => (
        <List.Item extra={formatMoney(d.amount, i18n.language)}>
          <List.Item.Meta title={d.title} description={`${t('contacts.updated')}: ${formatDate(d.updated_at, i18n.language)}`} />
        </List.Item>
      )}
    />
  );
}

function Purchases({ id }: { id: string }) {
  const { i18n } = useTranslation();
  const history = useQuery({
    queryKey: ['contacts', id, 'purchases'],
    queryFn: () => unwrap(api.GET('/v1/contacts/{id}/purchases', { params: { path: { id } } })),
    retry: false,
  });
  if (history.isLoading) return <Skeleton active />;
  if (!history.data || history.data.order_count === 0) return <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} />;
  const h = history.data;
  return (
    <Flex wrap gap={32}>
      <Statistic title="#" value={h.order_count} />
      {h.lifetime_value.map((v) => (
        <Statistic key={v.currency} title={v.currency} value={formatMoney(v, i18n.language)} />
      ))}
      <Statistic title="↗" value={formatDate(h.last_purchase_at, i18n.language)} />
    </Flex>
  );
}

function Tickets({ id }: { id: string }) {
  const { i18n } = useTranslation();
  const tickets = useQuery({
    queryKey: ['tickets', { contact_id: id }],
    queryFn: () => unwrap(api.GET('/v1/tickets', { params: { query: { contact_id: id, limit: 50 } } })),
    retry: false,
  });
  return (
    <List
      loading={tickets.isLoading}
      dataSource={tickets.data?.data ?? []}
      locale={{ emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} /> }}
      renderItem={(tk) => (
        <List.Item extra={<Tag>{tk.status}</Tag>}>
          <List.Item.Meta title={`#${tk.number} ${tk.subject ?? ''}`} description={formatDate(tk.created_at, i18n.language)} />
        </List.Item>
      )}
    />
  );
}
