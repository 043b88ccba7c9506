// Someone else saved first (412): what they changed meanwhile and what the user changed,
// field by field (what is saved now next to the user's own change), and a choice: apply the
// user's change on top of the latest version, or drop it. Contacts, companies and custom
// objects' records show it in their edit drawers.

import { Alert, Button, Flex, Table } from 'antd';
import { useTranslation } from 'react-i18next';

export function ConflictView({
  title,
  changed,
  mine,
  theirs,
  label,
  text,
  busy,
  onReapply,
  onDiscard,
}: {
  /** "Someone else changed this contact". */
  title: string;
  /** The fields someone else changed since the user's version. */
  changed: string[];
  /** The user's change, field by field. */
  mine: Record<string, unknown>;
  /** What is saved now in a field. */
  theirs: (field: string) => unknown;
  /** A field's label in the reader's language. */
  label: (field: string) => string;
  /** A field's value as one line of text. */
  text: (field: string, value: unknown) => string;
  busy: boolean;
  onReapply: () => void;
  onDiscard: () => void;
}) {
  const { t } = useTranslation();
  const keys = [...new Set([...changed, ...Object.keys(mine)])];
  return (
    <div data-testid="conflict">
      <Alert type="warning" showIcon title={title} description={t('contacts.conflictHelp')} style={{ marginBottom: 16 }} />
      <Table
        size="small"
        pagination={false}
        rowKey="key"
        dataSource={keys.map((k) => ({
          key: k,
          field: label(k),
          theirs: text(k, theirs(k)),
          yours: k in mine ? text(k, mine[k]) : '',
        }))}
        columns={[
          { key: 'field', dataIndex: 'field', title: t('common.field') },
          { key: 'theirs', dataIndex: 'theirs', title: t('contacts.theirs') },
          { key: 'yours', dataIndex: 'yours', title: t('contacts.yours') },
        ]}
      />
      <Flex justify="flex-end" gap={8} style={{ marginTop: 16 }} wrap>
        <Button onClick={onDiscard}>{t('contacts.discard')}</Button>
        <Button type="primary" loading={busy} onClick={onReapply}>
          {t('contacts.reapply')}
        </Button>
      </Flex>
    </div>
  );
}
