// A record's field value on a details page: masked values read as masked.

import { Space, Tag } from 'antd';
import { useTranslation } from 'react-i18next';

export function isMasked(value: unknown): boolean {
  return typeof value === 'string' && value.startsWith('****');
}

export function FieldValue({ value, display }: { value: unknown; display: (v: unknown) => string }) {
  const { t } = useTranslation();
  if (isMasked(value)) {
    return (
      <Space>
        <span data-masked="true">{String(value)}</span>
        <Tag>{t('contacts.masked')}</Tag>
      </Space>
    );
  }
  return <>{display(value)}</>;
}
