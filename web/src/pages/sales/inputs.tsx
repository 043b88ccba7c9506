// Inputs the sales forms share: an amount typed as a decimal with its currency (kept as
// text, turned into minor units by BigInt), and a contact picker that searches as you type.

import { Input, Select, Space } from 'antd';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, unwrap } from '../../api/client';
import { minorToDecimal } from '../../i18n/format';
import { CURRENCIES } from './queries';
import { decimalToMinor } from './totals';

export interface MoneyValue {
  amount?: string;
  currency?: string;
}

export function MoneyInput({
  value,
  onChange,
  id,
  'aria-label': ariaLabel,
}: {
  value?: MoneyValue;
  onChange?: (v: MoneyValue) => void;
  id?: string;
  'aria-label'?: string;
}) {
  const { t } = useTranslation();
  const currency = value?.currency ?? 'CNY';
  return (
    <Space.Compact block>
      <Input
        id={id}
        aria-label={ariaLabel}
        inputMode="decimal"
        value={value?.amount ?? ''}
        onChange={(e) => onChange?.({ currency, amount: e.target.value })}
        placeholder="0.00"
      />
      <Select
        aria-label={t('sales.common.currency')}
        style={{ width: 96 }}
        value={currency}
        onChange={(c) => onChange?.({ amount: value?.amount ?? '', currency: c })}
        options={CURRENCIES.map((c) => ({ value: c, label: c }))}
      />
    </Space.Compact>
  );
}

/** An antd rule: the amount is empty or a valid amount of its currency. */
export function moneyRule(message: string) {
  return {
    validator: async (_: unknown, v?: MoneyValue) => {
      if (!v?.amount?.trim()) return;
      if (decimalToMinor(v.amount, v.currency ?? 'CNY') === null) throw new Error(message);
    },
  };
}

/** The API's `Money` of a typed value; null when empty. */
export function toMoney(v?: MoneyValue): { amount_minor: number; currency: string } | null {
  if (!v?.amount?.trim()) return null;
  const currency = v.currency ?? 'CNY';
  const minor = decimalToMinor(v.amount, currency);
  return minor === null ? null : { amount_minor: Number(minor), currency };
}

export function fromMoney(m?: { amount_minor: number; currency: string } | null): MoneyValue {
  return m ? { amount: minorToDecimal(m.amount_minor, m.currency), currency: m.currency } : { currency: 'CNY' };
}

export function ContactPicker({
  value,
  onChange,
  id,
  initialLabel,
}: {
  value?: string | null;
  onChange?: (v: string | null) => void;
  id?: string;
  initialLabel?: string;
}) {
  const { t } = useTranslation();
  const [q, setQ] = useState('');
  const found = useQuery({
    queryKey: ['contacts', 'pick', q],
    queryFn: () => unwrap(api.GET('/v1/contacts', { params: { query: { q: q || undefined, limit: 20 } } })),
    retry: false,
  });
  const options = (found.data?.data ?? []).map((c) => ({
    value: c.id,
    label: [c.name, c.company_name].filter(Boolean).join(' · '),
  }));
  const listed = Boolean(value && options.some((o) => o.value === value));
  const current = useContactName(listed ? null : value);
  if (value && !listed) options.unshift({ value, label: current ?? initialLabel ?? value });
  return (
    <Select
      id={id}
      showSearch={{ filterOption: false, onSearch: setQ }}
      allowClear
      value={value ?? undefined}
      onChange={(v) => onChange?.(v ?? null)}
      options={options}
      loading={found.isFetching}
      aria-description={t('sales.common.searchContact')}
      notFoundContent={null}
    />
  );
}

/** A contact's name (the cache the contact page fills), or undefined while unknown. */
export function useContactName(id: string | null | undefined): string | undefined {
  const contact = useQuery({
    queryKey: ['contacts', id, { reveal: false }],
    queryFn: () => unwrap(api.GET('/v1/contacts/{id}', { params: { path: { id: id! } } })),
    enabled: Boolean(id),
    retry: false,
    staleTime: 60_000,
  });
  return contact.data?.name;
}
