// A record's timeline (a contact's, a company's or a custom object's record): a box to log a
// call, meeting or note on top (for those who may change the record), then its activities
// and changes, newest first, the changes in words ("Changed: Job title, Tags"); a change of
// a related record links to it. Older entries load page by page (the API's next cursor).

import { Button, Card, Empty, Flex, Input, List, Segmented, Space, Tag, Typography } from 'antd';
import { useInfiniteQuery, useMutation, useQueryClient } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { api, unwrap, type Schemas } from '../api/client';
import { useReportProblem } from '../api/useProblem';
import { formatDateTime } from '../i18n/format';
import { recordPath } from '../pages/objects/definitions';

type Entry = Schemas['TimelineEntry'];
type Kind = 'call' | 'meeting' | 'note';
/** Whose timeline: a contact's, a company's, or a record of the custom object `objects/<key>`
 * (the kinds a timeline entry names a related record by). */
export type TimelineOf = 'contacts' | 'companies' | `objects/${string}`;

const PAGE = 50;

/** Where a record's timeline is cached; what a change of the record refreshes. */
export function timelineKey(resource: TimelineOf, id: string): string[] {
  return resource === 'contacts' || resource === 'companies'
    ? [resource, id, 'timeline']
    : ['objects', objectKeyOf(resource), 'records', id, 'timeline'];
}

function objectKeyOf(resource: `objects/${string}`): string {
  return resource.slice('objects/'.length);
}

function load(resource: TimelineOf, id: string, cursor: string | undefined) {
  const query = { limit: PAGE, cursor };
  if (resource === 'contacts') return unwrap(api.GET('/v1/contacts/{id}/timeline', { params: { path: { id }, query } }));
  if (resource === 'companies') return unwrap(api.GET('/v1/companies/{id}/timeline', { params: { path: { id }, query } }));
  return unwrap(
    api.GET('/v1/objects/{key}/records/{id}/timeline', { params: { path: { key: objectKeyOf(resource), id }, query } }),
  );
}

function log(resource: TimelineOf, id: string, kind: Kind, body: string) {
  const activity = { body: { kind, body } };
  if (resource === 'contacts') return unwrap(api.POST('/v1/contacts/{id}/activities', { params: { path: { id } }, ...activity }));
  if (resource === 'companies') return unwrap(api.POST('/v1/companies/{id}/activities', { params: { path: { id } }, ...activity }));
  return unwrap(
    api.POST('/v1/objects/{key}/records/{id}/activities', {
      params: { path: { key: objectKeyOf(resource), id } },
      ...activity,
    }),
  );
}

export function RecordTimeline({
  resource,
  id,
  mayLog,
  label,
}: {
  resource: TimelineOf;
  id: string;
  mayLog: boolean;
  /** A changed field's label in the reader's language (`name`, `owner_id`, `custom`, …). */
  label: (field: string) => string;
}) {
  const { t, i18n } = useTranslation();
  const queryClient = useQueryClient();
  const report = useReportProblem();
  const [kind, setKind] = useState<Kind>('call');
  const [text, setText] = useState('');
  const queryKey = timelineKey(resource, id);
  const pages = useInfiniteQuery({
    queryKey,
    queryFn: ({ pageParam }) => load(resource, id, pageParam),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
  const entries = useMemo(() => pages.data?.pages.flatMap((p) => p.data) ?? [], [pages.data]);
  const logged = useMutation({
    mutationFn: () => log(resource, id, kind, text.trim()),
    onSuccess: () => {
      setText('');
      void queryClient.invalidateQueries({ queryKey });
    },
    onError: (e) => report(e),
  });

  /** What kind of entry: the activity's kind, or the change in words (created, changed). */
  const entryKind = (e: Entry) => {
    if (e.kind !== 'change') return t(`contacts.${e.kind}`);
    const verb = e.action?.split('.').pop() ?? '';
    return t(`contacts.change.${verb}`, { defaultValue: e.action ?? '' });
  };
  /** A change of a related record (a deal of the contact, a record pointing here): a link. */
  const related = (e: Entry) => {
    if (!e.resource || !e.record_id) return null;
    const target = e.resource.startsWith('objects/') ? e.resource.slice('objects/'.length) : e.resource;
    return (
      <>
        {/* Underlined: a link inside a line of text is told apart by more than its colour. */}
        <Link to={recordPath(target, e.record_id)} style={{ textDecoration: 'underline' }}>
          {e.subject ?? e.record_id}
        </Link>{' '}
      </>
    );
  };

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
        loading={pages.isLoading}
        dataSource={entries}
        data-testid="record-timeline"
        locale={{ emptyText: <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('contacts.noTimeline')} /> }}
        renderItem={(e) => (
          <List.Item>
            <List.Item.Meta
              title={
                <Space wrap>
                  <Tag color={e.kind === 'change' ? 'default' : 'blue'}>{entryKind(e)}</Tag>
                  <Typography.Text type="secondary">{formatDateTime(e.occurred_at, i18n.language)}</Typography.Text>
                </Space>
              }
              description={
                <span style={{ whiteSpace: 'pre-wrap' }}>
                  {related(e) ?? (e.subject ? <strong>{e.subject} </strong> : null)}
                  {e.body ??
                    (e.kind === 'change' && e.action?.endsWith('.updated') ? (e.fields ?? []).map(label).join(', ') : '')}
                </span>
              }
            />
          </List.Item>
        )}
      />
      {pages.hasNextPage && (
        <Flex justify="center">
          <Button onClick={() => void pages.fetchNextPage()} loading={pages.isFetchingNextPage}>
            {t('common.loadMore')}
          </Button>
        </Flex>
      )}
    </>
  );
}
