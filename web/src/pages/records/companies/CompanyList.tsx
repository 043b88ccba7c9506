// The company list: one search box, filters as removable chips (owner, industry, size,
// region at any level, tags, stage), sort, and cursor pages loaded on demand (the shared
// ListPage); on a phone the rows become cards.

import { ImportOutlined, PlusOutlined } from '@ant-design/icons';
import { Button, Form, Input, Select, Space, Tag } from 'antd';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router';
import { api, unwrap, type Schemas } from '../../../api/client';
import { useUserName, useUsers } from '../../../api/lookups';
import { can, fieldRule, useMe } from '../../../auth/me';
import { namedFilters } from '../../../components/list';
import { ListPage, useListParams, type ListColumn } from '../../../components/ListPage';
import { formatDate } from '../../../i18n/format';
import { STAGES } from '../../contacts/stages';
import { ExportButton } from '../exports/ExportButton';
import { regionText, SIZE_BANDS, type Company } from './fields';

const FILTERS = ['owner_id', 'industry', 'size_band', 'lifecycle_stage', 'tags', 'country', 'province', 'city', 'district'] as const;
type FilterKey = (typeof FILTERS)[number];
const LABEL: Record<FilterKey, string> = {
  owner_id: 'owner',
  industry: 'industry',
  size_band: 'size',
  lifecycle_stage: 'stage',
  tags: 'tags',
  country: 'country',
  province: 'province',
  city: 'city',
  district: 'district',
};
const DEFAULT_COLUMNS = ['industry', 'size', 'region', 'phone', 'owner', 'tags', 'created'];

export default function CompanyList() {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const navigate = useNavigate();
  const { params, q, sort } = useListParams();
  const userName = useUserName();
  const users = useUsers();
  const { data: me } = useMe();
  const c = (k: string) => t(`records.companies.${k}`);
  // The API refuses a filter on a field the role hides or masks, and leaves hidden fields
  // out of its answer: such filters are not offered and such columns not shown.
  const rule = (f: string) => fieldRule(me, 'companies', f);
  const hides = (f: string) => rule(f) === 'hidden';
  const mayFilter = (f: string) => !['hidden', 'masked'].includes(rule(f) ?? '');

  const filters = namedFilters(params, FILTERS);
  const query = {
    q: q || undefined,
    sort,
    ...filters,
    size_band: filters.size_band as Schemas['SizeBand'] | undefined,
    lifecycle_stage: filters.lifecycle_stage as Schemas['LifecycleStage'] | undefined,
  };

  const stageLabel = (s: string | null | undefined) => (s ? t(`stages.${s}`, { defaultValue: s }) : '');
  const employees = (band: string) => t('records.companies.employees', { band });
  const chipValue = (k: FilterKey, v: string) =>
    k === 'owner_id' ? userName(v) : k === 'lifecycle_stage' ? stageLabel(v) : k === 'size_band' ? employees(v) : v;
  const chips = FILTERS.filter((k) => filters[k]).map((k) => ({ key: k, label: `${c(LABEL[k])}: ${chipValue(k, filters[k]!)}` }));

  const columns: ListColumn<Company>[] = [
    { key: 'industry', title: c('industry'), dataIndex: 'industry', width: 140, ellipsis: true, hidden: hides('industry') },
    { key: 'size', title: c('size'), width: 150, render: (_, x) => (x.size_band ? employees(x.size_band) : ''), hidden: hides('size_band') },
    { key: 'region', title: c('region'), ellipsis: true, render: (_, x) => regionText(x.region), hidden: hides('region') },
    { key: 'phone', title: c('phone'), dataIndex: 'phone', width: 160, hidden: hides('phone') },
    { key: 'website', title: c('website'), dataIndex: 'website', ellipsis: true, hidden: hides('website') },
    { key: 'owner', title: c('owner'), width: 130, ellipsis: true, render: (_, x) => userName(x.owner_id), hidden: hides('owner_id') },
    {
      key: 'stage',
      title: c('stage'),
      width: 140,
      render: (_, x) => (x.lifecycle_stage ? <Tag>{stageLabel(x.lifecycle_stage)}</Tag> : null),
      hidden: hides('lifecycle_stage'),
    },
    { key: 'tags', title: c('tags'), render: (_, x) => x.tags?.map((tag) => <Tag key={tag}>{tag}</Tag>), hidden: hides('tags') },
    { key: 'created', title: c('created'), width: 130, render: (_, x) => formatDate(x.created_at, lang), hidden: hides('created_at') },
    { key: 'updated', title: c('updated'), width: 130, render: (_, x) => formatDate(x.updated_at, lang), hidden: hides('updated_at') },
  ];

  const filterItems = (
    <>
      {users.data && mayFilter('owner_id') && (
        <Form.Item name="owner_id" label={c('owner')}>
          <Select allowClear options={users.data.map((u) => ({ value: u.id, label: u.name }))} />
        </Form.Item>
      )}
      {mayFilter('industry') && (
        <Form.Item name="industry" label={c('industry')}>
          <Input />
        </Form.Item>
      )}
      {mayFilter('size_band') && (
        <Form.Item name="size_band" label={c('size')}>
          <Select allowClear options={SIZE_BANDS.map((b) => ({ value: b, label: employees(b) }))} />
        </Form.Item>
      )}
      {mayFilter('lifecycle_stage') && (
        <Form.Item name="lifecycle_stage" label={c('stage')}>
          <Select allowClear options={STAGES.map((s) => ({ value: s, label: stageLabel(s) }))} />
        </Form.Item>
      )}
      {mayFilter('tags') && (
        <Form.Item name="tags" label={c('tags')}>
          <Input placeholder="vip, 展会" />
        </Form.Item>
      )}
      {mayFilter('region') && (
        <>
          <Space.Compact block>
            <Form.Item name="country" label={c('country')} style={{ width: '50%' }}>
              <Input placeholder="CN" maxLength={2} />
            </Form.Item>
            <Form.Item name="province" label={c('province')} style={{ width: '50%' }}>
              <Input />
            </Form.Item>
          </Space.Compact>
          <Space.Compact block>
            <Form.Item name="city" label={c('city')} style={{ width: '50%' }}>
              <Input />
            </Form.Item>
            <Form.Item name="district" label={c('district')} style={{ width: '50%' }}>
              <Input />
            </Form.Item>
          </Space.Compact>
        </>
      )}
    </>
  );

  return (
    <ListPage<Company>
      title={c('title')}
      actions={
        <>
          {can(me, 'companies', 'create') && (
            <Button icon={<ImportOutlined />} onClick={() => navigate('/companies/import')}>
              {t('records.imports.stepRun')}
            </Button>
          )}
          <ExportButton resource="companies" filters={query} />
          {can(me, 'companies', 'create') && (
            <Button type="primary" icon={<PlusOutlined />} onClick={() => navigate('/companies/new')}>
              {c('new')}
            </Button>
          )}
        </>
      }
      searchPlaceholder={c('searchPlaceholder')}
      testIds={{ search: 'company-search', table: 'company-table' }}
      source={{
        key: ['companies', 'list', query],
        page: (cursor) => unwrap(api.GET('/v1/companies', { params: { query: { ...query, limit: 100, cursor } } })),
        size: 100,
      }}
      filters={filterItems}
      filterValues={filters}
      chips={chips}
      name={{ title: c('name'), width: 220, text: (x) => x.name }}
      path={(x) => `/companies/${x.id}`}
      columns={columns}
      defaultColumns={DEFAULT_COLUMNS}
      columnsKey="crm.companies.columns"
      scrollX={1100}
      card={(x) => (
        <>
          {x.size_band && <Tag style={{ marginLeft: 8 }}>{employees(x.size_band)}</Tag>}
          <div>{[x.industry, regionText(x.region), x.phone].filter(Boolean).join(' · ')}</div>
        </>
      )}
      empty={c('empty')}
      noMatch={c('noMatch')}
    />
  );
}
