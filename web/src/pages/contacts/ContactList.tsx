// The contact list: one search box (any part of a Chinese name, the start of other words,
// a phone number), filters as removable chips, sort, a column chooser, and cursor pages
// loaded on demand (the shared ListPage); on a phone the rows become cards.

import { DownloadOutlined, MergeCellsOutlined, PlusOutlined, UploadOutlined } from '@ant-design/icons';
import { Button, Form, Input, Select, Space, Tag } from 'antd';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router';
import { api, unwrap, type Schemas } from '../../api/client';
import { useCustomFields, useUserName, useUsers } from '../../api/lookups';
import { can, fieldRule, useMe } from '../../auth/me';
import { customFilters, namedFilters } from '../../components/list';
import { ListPage, useListParams, type ListColumn } from '../../components/ListPage';
import { formatDate } from '../../i18n/format';
import { STAGES } from './stages';

type Contact = Schemas['Contact'];

const FILTERS = ['owner_id', 'lifecycle_stage', 'tags', 'country', 'province', 'city'] as const;
type FilterKey = (typeof FILTERS)[number];
const LABEL: Record<FilterKey, string> = {
  owner_id: 'contacts.owner',
  lifecycle_stage: 'contacts.stage',
  tags: 'contacts.tags',
  country: 'contacts.country',
  province: 'contacts.region',
  city: 'contacts.city',
};
const DEFAULT_COLUMNS = ['email', 'phone', 'company', 'owner', 'stage', 'created'];

export default function ContactList() {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const navigate = useNavigate();
  const { params, q, sort } = useListParams();
  const userName = useUserName();
  const { data: me } = useMe();
  const users = useUsers();
  const fields = useCustomFields('contacts');
  // A column of a field the role hides would stay empty (the API leaves the field out).
  const hides = (f: string) => fieldRule(me, 'contacts', f) === 'hidden';

  const filters = namedFilters(params, FILTERS);
  const custom = customFilters(params);
  const query = {
    q: q || undefined,
    sort,
    ...filters,
    lifecycle_stage: filters.lifecycle_stage as Schemas['LifecycleStage'] | undefined,
    cf: Object.keys(custom).length ? custom : undefined,
  };

  const stageLabel = (s: string | undefined | null) => (s ? t(`stages.${s}`, { defaultValue: s }) : '');
  const firstEmail = (c: Contact) => c.emails?.[0]?.address ?? '';
  const firstPhone = (c: Contact) => c.phones?.[0]?.number ?? '';

  const columns: ListColumn<Contact>[] = [
    { key: 'email', title: t('contacts.email'), render: (_, c) => firstEmail(c), ellipsis: true, hidden: hides('emails') },
    { key: 'phone', title: t('contacts.phone'), render: (_, c) => firstPhone(c), width: 170, hidden: hides('phones') },
    { key: 'company', title: t('contacts.company'), dataIndex: 'company_name', ellipsis: true, hidden: hides('company_name') },
    { key: 'owner', title: t('contacts.owner'), render: (_, c) => userName(c.owner_id), ellipsis: true, hidden: hides('owner_id') },
    {
      key: 'stage',
      title: t('contacts.stage'),
      width: 140,
      render: (_, c) => (c.lifecycle_stage ? <Tag>{stageLabel(c.lifecycle_stage)}</Tag> : null),
      hidden: hides('lifecycle_stage'),
    },
    { key: 'tags', title: t('contacts.tags'), render: (_, c) => c.tags?.map((tag) => <Tag key={tag}>{tag}</Tag>), hidden: hides('tags') },
    { key: 'city', title: t('contacts.city'), render: (_, c) => c.address?.city ?? '', width: 120, hidden: hides('address') },
    { key: 'created', title: t('contacts.created'), width: 140, render: (_, c) => formatDate(c.created_at, lang) },
  ];

  const chips = [
    ...FILTERS.filter((k) => filters[k]).map((k) => ({
      key: k,
      label: `${t(LABEL[k])}: ${k === 'owner_id' ? userName(filters[k]) : k === 'lifecycle_stage' ? stageLabel(filters[k]) : filters[k]}`,
    })),
    ...Object.entries(custom).map(([k, v]) => ({
      key: `cf.${k}`,
      label: `${fields.data?.find((f) => f.key === k)?.label ?? k}: ${v}`,
    })),
  ];

  const filterItems = (
    <>
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
          {f.options.length ? <Select allowClear options={f.options.map((o) => ({ value: o, label: o }))} /> : <Input />}
        </Form.Item>
      ))}
    </>
  );

  return (
    <ListPage<Contact>
      title={t('contacts.title')}
      actions={
        <>
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
        </>
      }
      searchPlaceholder={t('contacts.searchPlaceholder')}
      testIds={{ search: 'contact-search', table: 'contact-table' }}
      source={{
        key: ['contacts', 'list', query],
        page: (cursor) => unwrap(api.GET('/v1/contacts', { params: { query: { ...query, limit: 100, cursor } } })),
        size: 100,
      }}
      filters={filterItems}
      filterValues={{ ...filters, ...Object.fromEntries(Object.entries(custom).map(([k, v]) => [`cf.${k}`, v])) }}
      chips={chips}
      name={{ title: t('contacts.name'), width: 180, text: (c) => c.name }}
      path={(c) => `/contacts/${c.id}`}
      columns={columns}
      defaultColumns={DEFAULT_COLUMNS}
      columnsKey="crm.contacts.columns"
      scrollX={1000}
      card={(c) => (
        <>
          {c.lifecycle_stage && <Tag style={{ marginLeft: 8 }}>{stageLabel(c.lifecycle_stage)}</Tag>}
          <div>{[c.company_name, firstPhone(c), firstEmail(c)].filter(Boolean).join(' · ')}</div>
        </>
      )}
      empty={t('contacts.empty')}
      noMatch={t('contacts.noMatch')}
    />
  );
}
