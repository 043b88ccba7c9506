// A contact's or company's timeline: a box to log a call, meeting or note on top (for
// those who may change the record), then its activities and changes, newest first, the
// changes in words ("Changed: Job title, Tags").

import { Button, Card, Empty, Flex, Input, List, Segmented, Space, Tag, Typography } from 'antd';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, unwrap, type Schemas } from '../api/client';
import { useReportProblem } from '../api/useProblem';
import { formatDateTime } from '../i18n/format';

type Entry = Schemas['TimelineEntry'];
type Kind = 'call' | 'meeting' | 'note';
type T = (key: string, options?: Record<string, unknown>) => string;

function load(resource: 'contacts' | 'companies', id: string) {
  const params = { params: { path: { id }, query: { limit: 50 } } };
  return unwrap(
    resource === 'contacts'
      ? api.GET('/v1/contacts/{id}/timeline', params)
      : api.GET('/v1/companies/{id}/timeline', params),
  );
}

function log(resource: 'contacts' | 'companies', id: string, kind: Kind, body: string) {
  const request = { params: { path: { id } }, body: { kind, body } };
  return unwrap(
    resource === 'contacts'
      ? api.POST('/v1/contacts/{id}/activities', request)
      : api.POST('/v1/companies/{id}/activities', request),
  );
}

/** What kind of entry: the activity's kind, or the change in words (created, changed). */
function entryKind(e: Entry, t: T): string {
  if (e.kind !== 'change') return t(`contacts.${e.kind}`);
  const verb = e.action?.split('.').pop() ?? '';
  return t(`contacts.change.${verb}`, { defaultValue: e.action ?? '' });
}

export function RecordTimeline({
  resource,
  id,
  mayLog,
  labels,
}: {
  resource: 'contacts' | 'companies';
  id: string;
  mayLog: boolean;
  /** The i18n key of each field's label, to name what a change touched. */
  labels: Record<string, string>;
}) {
  const { t, i18n } = useTranslation();
  const queryClient = useQueryClient();
  const report = useReportProblem();
  const [kind, setKind] = useState<Kind>('call');
  const [text, setText] = useState('');
  const queryKey = [resource, id, 'timeline'];
  const entries = useQuery({ queryKey, queryFn: () => load(resource, id) });
  const logged = useMutation({
    mutationFn: () => log(resource, id, kind, text.trim()),
    onSuccess: () => {
      setText('');
      void queryClient.invalidateQueries({ queryKey });
    },
    onError: (e) => report(e),
  });
  const changed = (fields: string[] | undefined) =>
    (fields ?? []).map((f) => t(labels[f] ?? f, { defaultValue: f })).join(', ');
  return (
    <>
      {mayLog && (
        <Card size="small" style={{ marginBottom: 16, background: '#fafbff' }}>
          <Segmented
            value={kind}
            onChange={(v) => setKind(v as Kind)}
            options={[
              { value: 'call', label: t('contacts.call') },
              { value: 'meeting', label: t('contacts.meeting') },
              { value: 'note', label: t('contacts.note') },
            ]}
            style={{ marginBottom: 8 }}
          />
          <Input.TextArea
            value={text}
            onChange={(e) => setText(e.target.value)}
            placeholder={t('contacts.activityPlaceholder')}
            aria-label={t('contacts.activityPlaceholder')}
            autoSize={{ minRows: 2, maxRows: 6 }}
            maxLength={10000}
          />
          <Flex justify="flex-end" style={{ marginTop: 8 }}>
            <Button type="primary" disabled={!text.trim()} loading={logged.isPending} onClick={() => logged.mutate()}>
              {t('contacts.logActivity')}
            </Button>
          </Flex>
        </Card>
      )}
      <List
        loading={entries.isLoading}
        dataSource={entries.data?.data ?? []}
        locale={{ emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('contacts.noTimeline')} /> }}
        renderItem={(e) => (
          <List.Item>
            <List.Item.Meta
              title={
                <Space wrap>
                  <Tag color={e.kind === 'change' ? 'default' : 'blue'}>{entryKind(e, t)}</Tag>
                  <Typography.Text type="secondary">{formatDateTime(e.occurred_at, i18n.language)}</Typography.Text>
                </Space>
              }
              description={
                <span style={{ whiteSpace: 'pre-wrap' }}>
                  {e.subject ? <strong>{e.subject} </strong> : null}
                  {e.body ?? (e.kind === 'change' && e.action?.endsWith('.updated') ? changed(e.fields) : '')}
                </span>
              }
            />
          </List.Item>
        )}
      />
    </>
  );
}
