// The records of one custom object: a search box (Chinese text by any part), sort, owner and
// simple field filters as removable chips, columns from the object's fields (a relation
// links to the related record), cursor pages loaded on demand (the shared ListPage); on a
// phone the rows become cards.

import { PlusOutlined, UploadOutlined } from '@ant-design/icons';
import { Breadcrumb, Button, Flex, Form, Result, Select, Skeleton, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useParams } from 'react-router';
import { api, unwrap } from '../../api/client';
import { useUserName, useUsers } from '../../api/lookups';
import { useMe } from '../../auth/me';
import { ListPage, useListParams, type ListColumn } from '../../components/ListPage';
import { formatDate } from '../../i18n/format';
import {
  activeFields,
  canObject,
  canReadTarget,
  labelOf,
  objectFieldRule,
  useObject,
  type ObjectDefinition,
  type ObjectField,
  type ObjectRecord,
} from './definitions';
import { ObjectValue } from './ObjectValue';
import { CreateRecord } from './RecordDrawers';
import { RelationSelect, useRecordName } from './relations';
import { DEFAULT_COLUMNS, filterParams, FILTERABLE } from './list';

/** Records per request; also how many a screen wants before it stops reading. */
const PAGE = 50;

export default function RecordList() {
  const { key = '' } = useParams();
  const { t, i18n } = useTranslation();
  const object = useObject(key);
  if (object.isLoading) return <Skeleton active />;
  if (!object.data) {
    return (
      <Result
        status="404"
        title={t('objects.list.notFound', { key })}
        extra={<Link to="/objects">{t('objects.home.title')}</Link>}
      />
    );
  }
  // A fresh page per object: its filters, columns and drawer are its own.
  return <Records key={key} object={object.data} lang={i18n.language} />;
}

function Records({ object, lang }: { object: ObjectDefinition; lang: string }) {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const { params, setParam, replace } = useListParams();
  const userName = useUserName();
  const { data: me } = useMe();
  const users = useUsers();
  const key = object.key;
  const plural = labelOf(object.plural_label, lang) || labelOf(object.label, lang);
  const single = labelOf(object.label, lang);
  const fields = activeFields(object);
  const filterable = fields.filter(
    (f) =>
      FILTERABLE.includes(f.type) &&
      objectFieldRule(me, key, f.key) === undefined &&
      (f.type !== 'relation' || canReadTarget(me, f.target ?? '')),
  );
  const { q, sort, owner, custom } = filterParams(params, filterable);

  // Opened from a related list: the create drawer with the relation filled in.
  const creating = params.get('new') === '1';
  const prefill: Record<string, string> = {};
  for (const [k, v] of params.entries()) {
    const m = /^set\.([a-z][a-z0-9_]*)$/.exec(k);
    if (m?.[1] && v) prefill[m[1]] = v;
  }
  const closeCreate = () => {
    const next = new URLSearchParams(params);
    next.delete('new');
    for (const k of [...next.keys()]) if (k.startsWith('set.')) next.delete(k);
    replace(next);
  };

  const query = {
    q: q || undefined,
    sort,
    owner_id: owner,
    cf: Object.keys(custom).length ? custom : undefined,
  };

  const cell = (r: ObjectRecord, f: ObjectField, inline = false) => {
    const values = (r.custom ?? {}) as Record<string, unknown>;
    // A value the API left out is not shown (and not shown as empty either).
    return f.key in values ? <ObjectValue field={f} value={values[f.key]} inline={inline} /> : null;
  };
  const columns: ListColumn<ObjectRecord>[] = fields.map((f) => ({
    key: f.key,
    title: f.label,
    width: f.type === 'text' ? 200 : 150,
    ellipsis: f.type === 'text',
    render: (_: unknown, r: ObjectRecord) => cell(r, f),
    hidden: objectFieldRule(me, key, f.key) === 'hidden',
  }));
  const visible = columns.filter((c) => !c.hidden).map((c) => c.key);

  const filterItems = (
    <>
      {users.data && (
        <Form.Item name="owner_id" label={t('objects.record.owner')}>
          <Select
            allowClear
            showSearch={{ optionFilterProp: 'label' }}
            options={users.data.map((u) => ({ value: u.id, label: u.name }))}
          />
        </Form.Item>
      )}
      {filterable.map((f) => (
        <Form.Item key={f.key} name={`cf.${f.key}`} label={f.label}>
          {f.type === 'boolean' ? (
            <Select
              allowClear
              options={[
                { value: 'true', label: t('objects.record.yes') },
                { value: 'false', label: t('objects.record.no') },
              ]}
            />
          ) : f.type === 'relation' ? (
            <RelationSelect target={f.target ?? 'contacts'} />
          ) : (
            <Select allowClear options={f.options.map((o) => ({ value: o, label: o }))} />
          )}
        </Form.Item>
      ))}
    </>
  );

  const chips = [
    ...(owner ? [{ key: 'owner_id', label: `${t('objects.record.owner')}: ${userName(owner)}` }] : []),
    ...Object.entries(custom).map(([k, v]) => {
      const f = filterable.find((x) => x.key === k)!;
      return { key: `cf.${k}`, label: <FilterChip field={f} value={v} /> };
    }),
  ];
  const mayCreate = canObject(me, key, 'create');

  return (
    <>
      <ListPage<ObjectRecord>
        breadcrumb={
          <Breadcrumb
            style={{ marginBottom: 8 }}
            items={[{ title: <Link to="/objects">{t('objects.home.title')}</Link> }, { title: plural }]}
          />
        }
        title={plural}
        actions={
          mayCreate && (
            <>
              <Button icon={<UploadOutlined />} onClick={() => navigate(`/objects/${key}/import`)}>
                {t('objects.list.import')}
              </Button>
              <Button type="primary" icon={<PlusOutlined />} onClick={() => setParam('new', '1')}>
                {t('objects.list.new', { label: single })}
              </Button>
            </>
          )
        }
        searchPlaceholder={t('objects.list.search')}
        testIds={{ title: 'object-title', search: 'object-search', table: 'record-table', cards: 'record-cards' }}
        source={{
          key: ['objects', key, 'list', query],
          page: (cursor) =>
            unwrap(api.GET('/v1/objects/{key}/records', { params: { path: { key }, query: { ...query, limit: PAGE, cursor } } })),
          size: PAGE,
        }}
        filters={filterItems}
        filterValues={{ owner_id: owner, ...Object.fromEntries(Object.entries(custom).map(([k, v]) => [`cf.${k}`, v])) }}
        chips={chips}
        name={{ title: t('objects.record.name'), width: 200, text: (r) => r.name ?? r.id }}
        path={(r) => `/objects/${key}/${r.id}`}
        columns={columns}
        defaultColumns={visible.slice(0, DEFAULT_COLUMNS)}
        columnsKey={`crm.objects.${key}.columns`}
        trailing={[
          {
            key: 'owner',
            title: t('objects.record.owner'),
            width: 140,
            ellipsis: true,
            render: (_, r) => ('owner_id' in r ? userName(r.owner_id) : null),
          },
          {
            key: 'updated',
            title: t('objects.record.updated'),
            width: 140,
            render: (_, r) => formatDate(r.updated_at, lang),
          },
        ]}
        scrollX={(shown) => 400 + shown.length * 170}
        card={(r, shown) => (
          <Flex vertical gap={2} style={{ marginTop: 4 }}>
            {shown.slice(0, 4).map((c) => {
              const f = fields.find((x) => x.key === c.key)!;
              return f.key in ((r.custom ?? {}) as object) ? (
                <div key={f.key}>
                  <Typography.Text type="secondary">{f.label}: </Typography.Text>
                  {cell(r, f, true)}
                </div>
              ) : null;
            })}
          </Flex>
        )}
        empty={t('objects.list.empty', { label: plural })}
        noMatch={t('objects.list.noMatch')}
      />
      {creating && mayCreate && <CreateRecord object={object} prefill={prefill} onClose={closeCreate} />}
    </>
  );
}

/** A filter as a chip: the field's label and the value as it reads. */
function FilterChip({ field, value }: { field: ObjectField; value: string }) {
  const { t } = useTranslation();
  const name = useRecordName(field.target ?? '', field.type === 'relation' ? value : null);
  const text =
    field.type === 'boolean'
      ? value === 'true'
        ? t('objects.record.yes')
        : t('objects.record.no')
      : field.type === 'relation'
        ? (name ?? value)
        : value;
  return (
    <>
      {field.label}: {text}
    </>
  );
}
