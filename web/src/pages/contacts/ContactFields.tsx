// The contact's form fields, shared by the guided creation and the edit drawer. A field
// the caller's role hides is not offered; a read-only one is shown disabled.

import { MinusCircleOutlined, PlusOutlined } from '@ant-design/icons';
import { Button, Checkbox, DatePicker, Form, Input, InputNumber, Select, Space } from 'antd';
import dayjs, { type Dayjs } from 'dayjs';
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { useCustomFields } from '../../api/lookups';
import { fieldRule, useMe } from '../../auth/me';
import { STAGES } from './stages';

export type Section = 'who' | 'reach' | 'more';

function useRules() {
  const { data: me } = useMe();
  return {
    hidden: (f: string) => fieldRule(me, 'contacts', f) === 'hidden',
    readOnly: (f: string) => {
      const r = fieldRule(me, 'contacts', f);
      return r === 'read_only' || r === 'masked';
    },
  };
}

export function ContactFields({ sections }: { sections: Section[] }) {
  const { t } = useTranslation();
  const rules = useRules();
  const fields = useCustomFields('contacts');
  const show = (s: Section) => sections.includes(s);
  const item = (name: string, node: ReactNode, label: string, extra?: object) =>
    rules.hidden(name) ? null : (
      <Form.Item name={name} label={label} {...extra}>
        {node}
      </Form.Item>
    );

  return (
    <>
      {show('who') && (
        <>
          {item('name', <Input maxLength={200} disabled={rules.readOnly('name')} />, t('contacts.name'), {
            rules: [{ required: true, whitespace: true, message: t('common.required') }],
          })}
          {item('company_name', <Input maxLength={200} disabled={rules.readOnly('company_name')} />, t('contacts.company'))}
          {item('title', <Input maxLength={100} disabled={rules.readOnly('title')} />, t('contacts.jobTitle'))}
        </>
      )}
      {show('reach') && (
        <>
          {!rules.hidden('phones') && (
            <ListOf name="phones" sub="number" label={t('contacts.phone')} disabled={rules.readOnly('phones')} type="tel" />
          )}
          {!rules.hidden('emails') && (
            <ListOf name="emails" sub="address" label={t('contacts.email')} disabled={rules.readOnly('emails')} type="email" />
          )}
          {!rules.hidden('address') && (
            <Space.Compact block>
              <Form.Item name={['address', 'country']} label={t('contacts.country')} style={{ width: '20%' }}>
                <Input maxLength={2} placeholder="CN" />
              </Form.Item>
              <Form.Item name={['address', 'region']} label={t('contacts.region')} style={{ width: '40%' }}>
                <Input maxLength={100} />
              </Form.Item>
              <Form.Item name={['address', 'city']} label={t('contacts.city')} style={{ width: '40%' }}>
                <Input maxLength={100} />
              </Form.Item>
            </Space.Compact>
          )}
          {!rules.hidden('address') && (
            <Form.Item name={['address', 'street']} label={t('contacts.street')}>
              <Input maxLength={200} />
            </Form.Item>
          )}
        </>
      )}
      {show('more') && (
        <>
          {item(
            'lifecycle_stage',
            <Select allowClear options={STAGES.map((s) => ({ value: s, label: t(`stages.${s}`) }))} disabled={rules.readOnly('lifecycle_stage')} />,
            t('contacts.stage'),
          )}
          {item('tags', <Select mode="tags" tokenSeparators={[',', '，']} disabled={rules.readOnly('tags')} />, t('contacts.tags'))}
          {item('source', <Input maxLength={100} disabled={rules.readOnly('source')} />, t('contacts.source'))}
          {item('national_id', <Input maxLength={40} autoComplete="off" />, t('contacts.nationalId'))}
          {item('notes', <Input.TextArea rows={3} maxLength={10000} disabled={rules.readOnly('notes')} />, t('contacts.notes'))}
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
      )}
    </>
  );
}

/** A date picker whose value is the API's `YYYY-MM-DD` string. */
function DateString({ value, onChange }: { value?: string | null; onChange?: (v: string | null) => void }) {
  return (
    <DatePicker
      style={{ width: '100%' }}
      value={value ? dayjsOf(value) : null}
      onChange={(d: Dayjs | null) => onChange?.(d ? d.format('YYYY-MM-DD') : null)}
    />
  );
}

function dayjsOf(v: string) {
  return dayjs(v, 'YYYY-MM-DD');
}

function ListOf({
  name,
  sub,
  label,
  disabled,
  type,
}: {
  name: string;
  sub: string;
  label: string;
  disabled: boolean;
  type: string;
}) {
  const { t } = useTranslation();
  return (
    <Form.List name={name}>
      {(items, { add, remove }) => (
        <Form.Item label={label} style={{ marginBottom: 8 }}>
          {items.map((field, i) => (
            <Space key={field.key} align="baseline" style={{ display: 'flex' }}>
              <Form.Item name={[field.name, sub]} style={{ marginBottom: 8, flex: 1 }}>
                <Input type={type} disabled={disabled} aria-label={`${label} ${i + 1}`} style={{ width: 260, maxWidth: '60vw' }} />
              </Form.Item>
              {!disabled && (
                <Button type="text" icon={<MinusCircleOutlined />} onClick={() => remove(field.name)} aria-label={t('common.delete')} />
              )}
            </Space>
          ))}
          {!disabled && (
            <Button type="dashed" onClick={() => add({ [sub]: '' })} icon={<PlusOutlined />} aria-label={`+ ${label}`}>
              {label}
            </Button>
          )}
        </Form.Item>
      )}
    </Form.List>
  );
}

/** Drops empty rows of emails/phones and blank optional texts before sending. */
export function cleanValues<T extends Record<string, unknown>>(values: T): T {
  const out: Record<string, unknown> = { ...values };
  for (const [list, sub] of [
    ['emails', 'address'],
    ['phones', 'number'],
  ] as const) {
    const v = out[list];
    if (Array.isArray(v)) out[list] = v.filter((e: Record<string, unknown>) => typeof e?.[sub] === 'string' && (e[sub] as string).trim());
  }
  for (const k of ['company_name', 'title', 'source', 'notes', 'national_id']) {
    if (out[k] === '') out[k] = null;
  }
  if (out.address && typeof out.address === 'object') {
    const a = Object.fromEntries(
      Object.entries(out.address as Record<string, unknown>).filter(([, v]) => v !== '' && v !== undefined && v !== null),
    );
    if (typeof a.country === 'string') a.country = a.country.toUpperCase();
    out.address = Object.keys(a).length ? a : null;
  }
  if (out.custom && typeof out.custom === 'object') {
    const c = Object.fromEntries(Object.entries(out.custom as Record<string, unknown>).filter(([, v]) => v !== undefined && v !== ''));
    out.custom = Object.keys(c).length ? c : undefined;
  }
  return out as T;
}
