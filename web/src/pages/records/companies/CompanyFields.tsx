// A company's form fields, shared by the creation page and the edit drawer. A field the
// caller's role hides is not offered; a read-only or masked one is shown disabled.

import { Checkbox, DatePicker, Form, Input, InputNumber, Select, Space } from 'antd';
import dayjs, { type Dayjs } from 'dayjs';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { useCustomFields, useUsers } from '../../../api/lookups';
import { can, fieldRule, useMe } from '../../../auth/me';
import { STAGES } from '../../contacts/stages';
import { SIZE_BANDS } from './fields';

export function CompanyFields({ withOwner = false }: { withOwner?: boolean }) {
  const { t } = useTranslation();
  const { data: me } = useMe();
  const users = useUsers();
  const fields = useCustomFields('companies');
  const hidden = (f: string) => fieldRule(me, 'companies', f) === 'hidden';
  const readOnly = (f: string) => ['read_only', 'masked'].includes(fieldRule(me, 'companies', f) ?? '');
  const item = (name: string, node: ReactNode, label: string, extra?: object) =>
    hidden(name) ? null : (
      <Form.Item name={name} label={label} {...extra}>
        {node}
      </Form.Item>
    );
  const c = (k: string) => t(`records.companies.${k}`);
  return (
    <>
      {item('name', <Input maxLength={200} disabled={readOnly('name')} />, c('name'), {
        rules: [{ required: true, whitespace: true, message: t('common.required') }],
      })}
      {item('legal_name', <Input maxLength={200} disabled={readOnly('legal_name')} />, c('legalName'))}
      <Space.Compact block>
        {!hidden('industry') && (
          <Form.Item name="industry" label={c('industry')} style={{ width: '55%' }}>
            <Input maxLength={100} disabled={readOnly('industry')} />
          </Form.Item>
        )}
        {!hidden('size_band') && (
          <Form.Item name="size_band" label={c('size')} style={{ width: '45%' }}>
            <Select
              allowClear
              disabled={readOnly('size_band')}
              options={SIZE_BANDS.map((b) => ({ value: b, label: t('records.companies.employees', { band: b }) }))}
            />
          </Form.Item>
        )}
      </Space.Compact>
      {item('phone', <Input type="tel" maxLength={40} disabled={readOnly('phone')} />, c('phone'))}
      {item('website', <Input maxLength={200} placeholder="https://" disabled={readOnly('website')} />, c('website'))}
      {!hidden('region') && (
        <Space.Compact block>
          <Form.Item name={['region', 'country']} label={c('country')} style={{ width: '16%' }}>
            <Input maxLength={2} placeholder="CN" disabled={readOnly('region')} />
          </Form.Item>
          <Form.Item name={['region', 'province']} label={c('province')} style={{ width: '28%' }}>
            <Input maxLength={100} disabled={readOnly('region')} />
          </Form.Item>
          <Form.Item name={['region', 'city']} label={c('city')} style={{ width: '28%' }}>
            <Input maxLength={100} disabled={readOnly('region')} />
          </Form.Item>
          <Form.Item name={['region', 'district']} label={c('district')} style={{ width: '28%' }}>
            <Input maxLength={100} disabled={readOnly('region')} />
          </Form.Item>
        </Space.Compact>
      )}
      {item('address', <Input maxLength={200} disabled={readOnly('address')} />, c('address'))}
      {withOwner && can(me, 'companies', 'assign') && users.data && !hidden('owner_id') && (
        <Form.Item name="owner_id" label={c('owner')}>
          <Select allowClear options={users.data.map((u) => ({ value: u.id, label: u.name }))} />
        </Form.Item>
      )}
      {item(
        'lifecycle_stage',
        <Select allowClear disabled={readOnly('lifecycle_stage')} options={STAGES.map((s) => ({ value: s, label: t(`stages.${s}`) }))} />,
        c('stage'),
      )}
      {item('tags', <Select mode="tags" tokenSeparators={[',', '，']} disabled={readOnly('tags')} />, c('tags'))}
      {!hidden('annual_revenue') && (
        <Space.Compact block>
          <Form.Item
            name="revenue"
            label={c('revenue')}
            style={{ width: '70%' }}
            rules={[{ pattern: /^\s*[\d,]*(\.\d{0,3})?\s*$/, message: c('revenue') }]}
          >
            <Input inputMode="decimal" disabled={readOnly('annual_revenue')} />
          </Form.Item>
          <Form.Item name="currency" label={c('currency')} style={{ width: '30%' }}>
            <Select
              disabled={readOnly('annual_revenue')}
              options={['CNY', 'USD', 'EUR', 'HKD', 'JPY', 'GBP'].map((x) => ({ value: x, label: x }))}
            />
          </Form.Item>
        </Space.Compact>
      )}
      {item('notes', <Input.TextArea rows={3} maxLength={10000} disabled={readOnly('notes')} />, c('notes'))}
      {fields.data?.map((f) => (
        <Form.Item
          key={f.key}
          name={['custom', f.key]}
          label={f.label}
          valuePropName={f.type === 'boolean' ? 'checked' : 'value'}
          rules={f.required ? [{ required: true, message: t('common.required') }] : []}
        >
          {f.type === 'boolean' ? (
            <Checkbox />
          ) : f.type === 'number' ? (
            <InputNumber style={{ width: '100%' }} />
          ) : f.type === 'single_select' ? (
            <Select allowClear options={f.options.map((o) => ({ value: o, label: o }))} />
          ) : f.type === 'multi_select' ? (
            <Select mode="multiple" allowClear options={f.options.map((o) => ({ value: o, label: o }))} />
          ) : f.type === 'date' ? (
            <DateString />
          ) : (
            <Input maxLength={1000} />
          )}
        </Form.Item>
      ))}
    </>
  );
}

/** A date picker whose value is the API's `YYYY-MM-DD` string. */
function DateString({ value, onChange }: { value?: string | null; onChange?: (v: string | null) => void }) {
  return (
    <DatePicker
      style={{ width: '100%' }}
      value={value ? dayjs(value, 'YYYY-MM-DD') : null}
      onChange={(d: Dayjs | null) => onChange?.(d ? d.format('YYYY-MM-DD') : null)}
    />
  );
}
