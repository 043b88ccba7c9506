// Exporting a filtered list: POST /v1/exports with the list's filters, poll the job, then
// offer the download link the API gives (valid for ten minutes).

import { DownloadOutlined } from '@ant-design/icons';
import { Alert, Button, Descriptions, Flex, Progress, Radio, Tag, Typography } from 'antd';
import { useMutation, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, unwrap } from '../../../api/client';
import { useReportProblem } from '../../../api/useProblem';

export type ExportObject = 'contacts' | 'companies';
/** The list's query parameters as text; custom-field conditions under `cf`. */
export type ExportFilters = Record<string, string | number | boolean | null | undefined | Record<string, string>>;

/** The filters as the API wants them: no empty values, no paging. */
export function cleanFilters(filters: ExportFilters | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(filters ?? {})) {
    if (k === 'limit' || k === 'cursor' || v === undefined || v === null || v === '') continue;
    if (typeof v === 'object') {
      const inner = Object.fromEntries(Object.entries(v).filter(([, x]) => x !== '' && x !== undefined));
      if (Object.keys(inner).length) out[k] = inner;
    } else out[k] = String(v);
  }
  return out;
}

/** A list page's URL parameters as export filters (`cf.<key>` → `cf: {key}`). */
export function filtersFromParams(params: URLSearchParams): ExportFilters {
  const out: ExportFilters = {};
  const cf: Record<string, string> = {};
  for (const [k, v] of params.entries()) {
    const m = /^cf\.([a-z][a-z0-9_]*)$/.exec(k);
    if (m?.[1]) cf[m[1]] = v;
    else out[k] = v;
  }
  if (Object.keys(cf).length) out.cf = cf;
  return out;
}

export function ExportPanel({ object, filters }: { object: ExportObject; filters?: ExportFilters }) {
  const { t } = useTranslation();
  const report = useReportProblem();
  const [format, setFormat] = useState<'csv' | 'json'>('csv');
  const [id, setId] = useState<string>();
  const e = (k: string, o?: Record<string, unknown>) => t(`records.exports.${k}`, o);
  const sent = cleanFilters(filters);

  const start = useMutation({
    mutationFn: () => unwrap(api.POST('/v1/exports', { body: { object, format, filters: sent as never } })),
    onSuccess: (job) => setId(job.id),
    onError: (err) => report(err),
  });
  const job = useQuery({
    queryKey: ['exports', id],
    enabled: !!id,
    queryFn: () => unwrap(api.GET('/v1/exports/{id}', { params: { path: { id: id! } } })),
    refetchInterval: (q) => (q.state.data && ['succeeded', 'failed'].includes(q.state.data.status) ? false : 500),
  });
  const j = job.data;
  const entries = Object.entries(sent);

  return (
    <Flex vertical gap={12} data-testid="export-panel">
      <Descriptions
        size="small"
        column={1}
        items={[
          {
            key: 'filters',
            label: e('filtersUsed'),
            children: entries.length ? (
              <Flex wrap gap={4}>
                {entries.map(([k, v]) => (
                  <Tag key={k}>{`${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`}</Tag>
                ))}
              </Flex>
            ) : (
              e('noFilters')
            ),
          },
        ]}
      />
      <Flex align="center" gap={12} wrap>
        <Typography.Text id="export-format-label">{e('format')}</Typography.Text>
        <Radio.Group
          aria-labelledby="export-format-label"
          optionType="button"
          value={format}
          onChange={(ev) => setFormat(ev.target.value as 'csv' | 'json')}
          options={[
            { value: 'csv', label: 'CSV' },
            { value: 'json', label: 'JSON' },
          ]}
        />
        <Button type="primary" loading={start.isPending} onClick={() => start.mutate()} disabled={!!j && !['succeeded', 'failed'].includes(j.status)}>
          {e('start')}
        </Button>
      </Flex>
      {id && (
        <div>
          <Progress
            percent={j?.status === 'succeeded' ? 100 : j?.status === 'failed' ? 100 : 50}
            status={j?.status === 'failed' ? 'exception' : j?.status === 'succeeded' ? 'success' : 'active'}
            showInfo={false}
            aria-label={e('working')}
          />
          {j?.status === 'failed' && <Alert type="error" showIcon title={e('failed')} description={j.error ?? undefined} />}
          {j?.status === 'succeeded' && (
            <Flex align="center" gap={12} wrap>
              <Typography.Text>{e('ready', { count: j.records })}</Typography.Text>
              {j.download_url && (
                <Button type="primary" icon={<DownloadOutlined />} href={j.download_url} download data-testid="export-download">
                  {e('download')}
                </Button>
              )}
            </Flex>
          )}
          {j && !['succeeded', 'failed'].includes(j.status) && <Typography.Text type="secondary">{e('working')}</Typography.Text>}
        </div>
      )}
    </Flex>
  );
}
