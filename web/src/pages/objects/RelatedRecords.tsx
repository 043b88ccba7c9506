// On a contact's or company's page: for each custom object with a relation field pointing
// at that kind of record, the object's records whose relation is this record, with "+ add"
// opening the object's create form with the relation filled in.

import { PlusOutlined } from '@ant-design/icons';
import { Button, Card, Empty, Flex, List, Typography } from 'antd';
import { useInfiniteQuery } from '@tanstack/react-query';
import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { api, unwrap } from '../../api/client';
import { useProblemText } from '../../api/useProblem';
import { useMe } from '../../auth/me';
import { formatDate } from '../../i18n/format';
import { activeFields, canObject, labelOf, relationsTo, useObjects, type ObjectDefinition, type ObjectField } from './definitions';
import { valueText } from './ObjectValue';

export interface RelatedProps {
  /** What kind of record the page shows. */
  target: 'contacts' | 'companies';
  id: string;
}

export default function RelatedRecords({ target, id }: RelatedProps) {
  const { data: me } = useMe();
  const objects = useObjects();
  const relations = relationsTo(objects.data, target, me);
  if (relations.length === 0) return null;
  // An object with two relations to contacts (a client and a supervisor) lists both.
  const perObject = new Map<string, number>();
  for (const r of relations) perObject.set(r.object.key, (perObject.get(r.object.key) ?? 0) + 1);
  return (
    <Flex vertical gap={16} style={{ marginTop: 16 }} data-testid="related-objects">
      {relations.map(({ object, field }) => (
        <Related
          key={`${object.key}.${field.key}`}
          object={object}
          field={field}
          id={id}
          named={(perObject.get(object.key) ?? 0) > 1}
        />
      ))}
    </Flex>
  );
}

function Related({
  object,
  field,
  id,
  named,
}: {
  object: ObjectDefinition;
  field: ObjectField;
  id: string;
  /** Whether to name the relation field in the title. */
  named: boolean;
}) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const { data: me } = useMe();
  const problemText = useProblemText();
  const key = object.key;
  const pages = useInfiniteQuery({
    queryKey: ['objects', 'related', key, field.key, id],
    queryFn: ({ pageParam }) =>
      unwrap(
        api.GET('/v1/objects/{key}/records', {
          params: { path: { key }, query: { cf: { [field.key]: id }, limit: 20, cursor: pageParam } },
        }),
      ),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
    retry: false,
  });
  const rows = useMemo(() => pages.data?.pages.flatMap((p) => p.data) ?? [], [pages.data]);
  const plural = labelOf(object.plural_label, lang) || labelOf(object.label, lang);
  const single = labelOf(object.label, lang);
  const title = named ? t('objects.related.title', { label: plural, field: field.label }) : plural;
  // The first other field, as a hint under each record's name.
  const hint = activeFields(object).find((f) => f.key !== field.key && f.type !== 'relation');
  return (
    <Card
      size="small"
      title={
        <Typography.Title level={2} style={{ fontSize: 15, margin: 0 }}>
          {title}
        </Typography.Title>
      }
      data-testid={`related-${key}-${field.key}`}
      extra={
        canObject(me, key, 'create') ? (
          <Link
            to={`/objects/${key}?new=1&set.${field.key}=${encodeURIComponent(id)}`}
            aria-label={t('objects.related.addLabel', { label: single })}
          >
            <PlusOutlined /> {t('objects.related.add')}
          </Link>
        ) : null
      }
    >
      <List
        size="small"
        loading={pages.isLoading}
        dataSource={rows}
        locale={{
          emptyText: (
            <Empty
              image={Empty.PRESENTED_IMAGE_SIMPLE}
              description={pages.isError ? problemText(pages.error) : t('objects.related.empty')}
            />
          ),
        }}
        renderItem={(r) => {
          const custom = (r.custom ?? {}) as Record<string, unknown>;
          return (
            <List.Item extra={<Typography.Text type="secondary">{formatDate(r.updated_at, lang)}</Typography.Text>}>
              <List.Item.Meta
                title={<Link to={`/objects/${key}/${r.id}`}>{r.name ?? r.id}</Link>}
                description={hint && hint.key in custom ? `${hint.label}: ${valueText(hint, custom[hint.key], lang, t)}` : null}
              />
            </List.Item>
          );
        }}
      />
      {pages.hasNextPage && (
        <Flex justify="center">
          <Button size="small" onClick={() => void pages.fetchNextPage()} loading={pages.isFetchingNextPage}>
            {t('common.loadMore')}
          </Button>
        </Flex>
      )}
    </Card>
  );
}
