// One value of a custom object's field as its type reads: money and numbers in the reader's
// locale, a date as a calendar day, options as tags, a relation as a link to the record.

import { Space, Tag } from 'antd';
import { useTranslation } from 'react-i18next';
import { FieldValue, isMasked } from '../../components/FieldValue';
import { formatDate, formatMoney, formatNumber } from '../../i18n/format';
import type { ObjectField } from './definitions';
import { RelationLink } from './relations';
import { dayOf, isMoney } from './values';

type T = (key: string) => string;

/** A value as one line of text (conflicts, cards); relations as their ids. */
export function valueText(field: Pick<ObjectField, 'type'>, value: unknown, lang: string, t: T): string {
  if (value === null || value === undefined || value === '') return '—';
  if (isMasked(value)) return String(value);
  switch (field.type) {
    case 'money':
      return isMoney(value) ? formatMoney(value, lang) : String(value);
    case 'number':
      return typeof value === 'number' ? formatNumber(value, lang) : String(value);
    case 'date': {
      const d = typeof value === 'string' ? dayOf(value) : null;
      return d ? formatDate(d, lang) : String(value);
    }
    case 'boolean':
      return value ? t('objects.record.yes') : t('objects.record.no');
    case 'multi_select':
      return Array.isArray(value) ? value.join(', ') : String(value);
    default:
      return typeof value === 'object' ? JSON.stringify(value) : String(value);
  }
}

/** `inline`: the value sits in a line of text (a card), where a link is underlined. */
export function ObjectValue({ field, value, inline }: { field: ObjectField; value: unknown; inline?: boolean }) {
  const { t, i18n } = useTranslation();
  if (value === null || value === undefined || value === '') return <>{t('common.none')}</>;
  if (isMasked(value)) return <FieldValue value={value} display={String} />;
  switch (field.type) {
    case 'relation':
      return typeof value === 'string' && field.target ? <RelationLink target={field.target} id={value} inline={inline} /> : <>{String(value)}</>;
    case 'single_select':
      return <Tag>{String(value)}</Tag>;
    case 'multi_select':
      return Array.isArray(value) ? (
        <Space size={4} wrap>
          {value.map((v) => (
            <Tag key={String(v)}>{String(v)}</Tag>
          ))}
        </Space>
      ) : (
        <>{String(value)}</>
      );
    case 'text':
      return <span style={{ whiteSpace: 'pre-wrap' }}>{String(value)}</span>;
    default:
      return <>{valueText(field, value, i18n.language, t)}</>;
  }
}
