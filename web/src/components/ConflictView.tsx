// Someone else saved first (412): each field either side changed, with what is saved now
// next to the user's own change.

import { Table } from 'antd';
import { useTranslation } from 'react-i18next';

export function ConflictTable<R extends object>({
  original,
  latest,
  patch,
  changedFields,
  labels,
  display,
}: {
  original: R;
  latest: R;
  patch: object;
  changedFields: (before: R, after: R) => string[];
  labels: Record<string, string>;
  display: (value: unknown) => string;
}) {
  const { t } = useTranslation();
  const mine = patch as Record<string, unknown>;
  const keys = [...new Set([...changedFields(original, latest), ...Object.keys(mine)])];
  return (
    <Table
      size="small"
      pagination={false}
      rowKey="key"
      dataSource={keys.map((k) => ({
        key: k,
        field: t(labels[k] ?? k, { defaultValue: k }),
        theirs: display((latest as Record<string, unknown>)[k]),
        yours: k in mine ? display(mine[k]) : '',
      }))}
      columns={[
        { key: 'field', dataIndex: 'field', title: '' },
        { key: 'theirs', dataIndex: 'theirs', title: t('contacts.theirs') },
        { key: 'yours', dataIndex: 'yours', title: t('contacts.yours') },
      ]}
    />
  );
}
