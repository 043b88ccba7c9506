// The form of a custom object's record, generated from its definition: a control per field
// type. A field the caller's role hides is not offered; a read-only one is shown disabled.

import { Checkbox, DatePicker, Form, Input, InputNumber, Select, Space } from 'antd';
import dayjs, { type Dayjs } from 'dayjs';
import { useTranslation } from 'react-i18next';
import { useUsers } from '../../api/lookups';
import { currencyDigits } from '../../i18n/format';
import { useMe } from '../../auth/me';
import { activeFields, canObject, objectFieldRule, type ObjectDefinition, type ObjectField } from './definitions';
import { RelationSelect } from './relations';
import { CURRENCIES, decimalToMinor, type MoneyText } from './values';

/** What the caller may do with each part of the record. */
export function useFieldAccess(key: string) {
  const { data: me } = useMe();
  const rule = (f: string) => objectFieldRule(me, key, f);
  return {
    hidden: (f: string) => rule(f) === 'hidden',
    writable: (f: string) => rule(f) === undefined,
    mayAssign: canObject(me, key, 'assign'),
  };
}

export function ObjectFields({ object, editing }: { object: ObjectDefinition; editing: boolean }) {
  const { t } = useTranslation();
  const access = useFieldAccess(object.key);
  const users = useUsers();
  const required = { required: true, whitespace: true, message: t('common.required') };
  return (
    <>
      {!access.hidden('name') && (
        <Form.Item name="name" label={t('objects.record.name')} rules={[required]}>
          <Input maxLength={200} disabled={!access.writable('name')} />
        </Form.Item>
      )}
      {access.mayAssign && users.data && !access.hidden('owner_id') && (
        <Form.Item name="owner_id" label={t('objects.record.owner')}>
          <Select
            disabled={!access.writable('owner_id')}
            allowClear={!editing}
            showSearch={{ optionFilterProp: 'label' }}
            options={users.data.filter((u) => u.status === 'active').map((u) => ({ value: u.id, label: u.name }))}
          />
        </Form.Item>
      )}
      {activeFields(object)
        .filter((f) => !access.hidden(f.key))
        .map((f) => (
          <FieldItem key={f.key} field={f} disabled={!access.writable(f.key)} />
        ))}
    </>
  );
}

function FieldItem({ field: f, disabled }: { field: ObjectField; disabled: boolean }) {
  const { t } = useTranslation();
  // A money value is an object even when empty: its own rule checks presence and digits.
  const rules: object[] =
    f.type === 'money'
      ? [
          {
            validator: async (_: unknown, v?: MoneyText) => {
              const currency = v?.currency ?? 'CNY';
              if (f.required && !v?.amount?.trim()) throw new Error(t('common.required'));
              if (v?.amount?.trim() && decimalToMinor(v.amount, currency) === null) {
                throw new Error(t('objects.record.badAmount', { digits: currencyDigits(currency) }));
              }
            },
          },
        ]
      : f.required
        ? [{ required: true, message: t('common.required') }]
        : [];
  return (
    <Form.Item
      name={['custom', f.key]}
      label={f.label}
      valuePropName={f.type === 'boolean' ? 'checked' : 'value'}
      rules={rules}
      required={f.required}
    >
      {control(f, disabled, t)}
    </Form.Item>
  );
}

function control(f: ObjectField, disabled: boolean, t: (k: string) => string) {
  const options = f.options.map((o) => ({ value: o, label: o }));
  switch (f.type) {
    case 'boolean':
      return <Checkbox disabled={disabled}>{t('objects.record.yes')}</Checkbox>;
    case 'number':
      return <InputNumber style={{ width: '100%' }} disabled={disabled} />;
    case 'money':
      return <MoneyInput disabled={disabled} />;
    case 'date':
      return <DateString disabled={disabled} />;
    case 'single_select':
      return <Select allowClear options={options} disabled={disabled} />;
    case 'multi_select':
      return <Select mode="multiple" allowClear options={options} disabled={disabled} />;
    case 'relation':
      return <RelationSelect target={f.target ?? 'contacts'} disabled={disabled} />;
    default:
      return <Input maxLength={1000} disabled={disabled} />;
  }
}

/** An amount typed as a decimal with its currency; minor units are worked out on saving. */
function MoneyInput({
  value,
  onChange,
  id,
  disabled,
}: {
  value?: MoneyText;
  onChange?: (v: MoneyText) => void;
  id?: string;
  disabled?: boolean;
}) {
  const { t } = useTranslation();
  const currency = value?.currency ?? 'CNY';
  const currencies: string[] = [...CURRENCIES];
  if (!currencies.includes(currency)) currencies.unshift(currency);
  return (
    <Space.Compact block>
      <Input
        id={id}
        inputMode="decimal"
        disabled={disabled}
        value={value?.amount ?? ''}
        onChange={(e) => onChange?.({ currency, amount: e.target.value })}
        placeholder="0.00"
      />
      <Select
        aria-label={t('objects.record.currency')}
        style={{ width: 96 }}
        disabled={disabled}
        value={currency}
        onChange={(c) => onChange?.({ amount: value?.amount ?? '', currency: c })}
        options={currencies.map((c) => ({ value: c, label: c }))}
      />
    </Space.Compact>
  );
}

/** A date picker whose value is the API's `YYYY-MM-DD`. */
function DateString({
  value,
  onChange,
  id,
  disabled,
}: {
  value?: string | null;
  onChange?: (v: string | null) => void;
  id?: string;
  disabled?: boolean;
}) {
  return (
    <DatePicker
      id={id}
      style={{ width: '100%' }}
      disabled={disabled}
      value={value ? dayjs(value, 'YYYY-MM-DD') : null}
      onChange={(d: Dayjs | null) => onChange?.(d ? d.format('YYYY-MM-DD') : null)}
    />
  );
}
