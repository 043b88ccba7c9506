// The import wizard: upload a CSV (read in the browser), map its columns (suggested from
// the headers, Chinese ones too), check it with a dry run that shows what each row would
// do, then import it for real with a progress bar and the problems of each row.
// Contacts and companies bring their own fields and custom fields; a custom object's page
// (pages/objects) passes its definition: its fields, and its names in the reader's language.

import { InboxOutlined } from '@ant-design/icons';
import { Alert, App, Button, Card, Descriptions, Flex, Progress, Result, Select, Space, Statistic, Steps, Table, Tag, Typography, Upload } from 'antd';
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router';
import { api, unwrap, type Schemas } from '../../../api/client';
import { useCustomFields } from '../../../api/lookups';
import { useProblemText, useReportProblem } from '../../../api/useProblem';
import { formatNumber } from '../../../i18n/format';
import {
  decode,
  guessDelimiter,
  isBuiltin,
  mappingProblem,
  mapQuery,
  parseCsv,
  suggestMapping,
  targetsOf,
  withIgnoredColumns,
  type BuiltinObject,
  type CustomFieldRef,
  type ImportObject,
} from './mapping';

type Import = Schemas['Import'];

/** The largest file the API takes (`CRM_MAX_IMPORT_BYTES`, default 10 MiB; API Gateway
 * stops at 10 MiB too). */
export const MAX_IMPORT_BYTES = 10 * 1024 * 1024;

interface Parsed {
  fileName: string;
  size: number;
  text: string;
  delimiter: ',' | ';';
  headers: string[];
  samples: string[][];
  rows: number;
}

const FINISHED = new Set(['succeeded', 'failed']);

function useImport(id: string | undefined) {
  return useQuery({
    queryKey: ['imports', id],
    enabled: !!id,
    queryFn: () => unwrap(api.GET('/v1/imports/{id}', { params: { path: { id: id! } } })),
    refetchInterval: (q) => (q.state.data && FINISHED.has(q.state.data.status) ? false : 500),
  });
}

/** What the wizard needs of a custom object, from its definition (pages/objects). */
export interface ObjectImportDefinition {
  /** The page's title, naming the object in the reader's language. */
  title: string;
  /** The label of the button that leads to the object's records. */
  view: string;
  /** The console path of the object's records. */
  path: string;
  /** Its fields a column may fill (removed ones left out). */
  fields: CustomFieldRef[];
}

type Props = { object?: BuiltinObject; definition?: undefined } | { object: ImportObject; definition: ObjectImportDefinition };

export default function ImportWizard(props: Props) {
  if (props.definition) {
    const { object, definition: d } = props;
    return <Wizard object={object} fields={d.fields} title={d.title} view={d.view} path={d.path} listKey={['objects', object]} />;
  }
  return <BuiltinWizard object={props.object ?? 'contacts'} />;
}

/** Contacts or companies: their custom fields come from the settings. */
function BuiltinWizard({ object }: { object: BuiltinObject }) {
  const { t } = useTranslation();
  const custom = useCustomFields(object);
  const contacts = object === 'contacts';
  return (
    <Wizard
      object={object}
      fields={custom.data}
      title={t(contacts ? 'records.imports.title' : 'records.imports.titleCompanies')}
      view={t(contacts ? 'records.imports.viewContacts' : 'records.imports.viewCompanies')}
      path={`/${object}`}
      listKey={[object]}
    />
  );
}

interface WizardProps {
  object: ImportObject;
  /** Custom fields a column may fill; undefined while they load. */
  fields: CustomFieldRef[] | undefined;
  title: string;
  view: string;
  path: string;
  /** The query key of the lists the import changes. */
  listKey: readonly unknown[];
}

function Wizard({ object, fields, title, view, path, listKey }: WizardProps) {
  const { t, i18n } = useTranslation();
  const navigate = useNavigate();
  const { message } = App.useApp();
  const report = useReportProblem();
  const queryClient = useQueryClient();
  const [step, setStep] = useState(0);
  const [file, setFile] = useState<Parsed | null>(null);
  const [mapping, setMapping] = useState<(string | null)[]>([]);
  const [dryId, setDryId] = useState<string>();
  const [runId, setRunId] = useState<string>();
  const i = (k: string, o?: Record<string, unknown>) => t(`records.imports.${k}`, o);
  const size = '10 MB';

  const customRefs = useMemo(() => (fields ?? []).map((f) => ({ key: f.key, label: f.label })), [fields]);

  const read = async (f: File) => {
    if (!/\.csv$/i.test(f.name) && f.type !== 'text/csv') {
      void message.error(i('notCsv'));
      return;
    }
    if (f.size > MAX_IMPORT_BYTES) {
      void message.error(i('tooLarge', { size }));
      return;
    }
    const { text } = decode(new Uint8Array(await f.arrayBuffer()));
    const delimiter = guessDelimiter(text);
    const { records, rows } = parseCsv(text, delimiter, 4);
    const headers = records[0]?.map((h) => h.trim()) ?? [];
    if (!headers.some(Boolean)) {
      void message.error(i('noHeader'));
      return;
    }
    setFile({ fileName: f.name, size: f.size, text, delimiter, headers, samples: records.slice(1), rows });
    setMapping(suggestMapping(object, headers, customRefs));
    setDryId(undefined);
    setRunId(undefined);
    setStep(1);
  };

  const start = useMutation({
    mutationFn: async (dryRun: boolean) => {
      if (!file) throw new Error('no file');
      const body = withIgnoredColumns(file.text, file.delimiter, file.headers, mapping);
      return unwrap(
        api.POST('/v1/imports', {
          params: {
            query: { object, dry_run: dryRun, delimiter: file.delimiter, encoding: 'utf-8', map: mapQuery(file.headers, mapping) },
          },
          body,
          bodySerializer: (b: unknown) => b as string,
          headers: { 'content-type': 'text/csv; charset=utf-8' },
        }),
      );
    },
    onSuccess: (job, dryRun) => {
      queryClient.setQueryData(['imports', job.id], job);
      if (dryRun) {
        setDryId(job.id);
        setStep(2);
      } else {
        setRunId(job.id);
        setStep(3);
      }
    },
    onError: (e) => report(e),
  });

  const problem = file ? mappingProblem(mapping) : null;
  // A custom object's row errors name its fields by label (`custom.<key>` in the API).
  const customLabel = isBuiltin(object) ? undefined : (key: string) => customRefs.find((d) => d.key === key)?.label;
  const fieldLabel = (f: string) => {
    if (f.startsWith('custom.')) return customRefs.find((d) => `custom.${d.key}` === f)?.label ?? f;
    return t(`records.imports.fields.${f}`, { defaultValue: f });
  };
  const options = [
    { value: '', label: i('ignore') },
    ...targetsOf(object).map((f) => ({ value: f, label: fieldLabel(f) })),
    ...customRefs.map((d) => ({ value: `custom.${d.key}`, label: d.label })),
  ];

  return (
    <Flex vertical style={{ maxWidth: 960, margin: '0 auto' }}>
      <Typography.Title level={1} style={{ fontSize: 22 }}>
        {title}
      </Typography.Title>
      <Steps
        current={step}
        size="small"
        style={{ marginBottom: 16 }}
        items={[{ title: i('stepUpload') }, { title: i('stepMap') }, { title: i('stepCheck') }, { title: i('stepRun') }]}
      />
      {step === 0 && (
        <Card>
          <Upload.Dragger
            accept=".csv,text/csv"
            multiple={false}
            showUploadList={false}
            beforeUpload={(f) => {
              void read(f);
              return Upload.LIST_IGNORE;
            }}
            data-testid="import-upload"
          >
            <p className="ant-upload-drag-icon">
              <InboxOutlined />
            </p>
            <p className="ant-upload-text">{i('uploadHint')}</p>
            <p className="ant-upload-hint">{i('uploadHelp', { size })}</p>
          </Upload.Dragger>
        </Card>
      )}
      {step === 1 && file && (
        <Card>
          <Descriptions
            size="small"
            column={{ xs: 1, md: 3 }}
            style={{ marginBottom: 12 }}
            items={[
              { key: 'file', label: i('file'), children: file.fileName },
              { key: 'rows', label: i('rows'), children: formatNumber(file.rows, i18n.language) },
            ]}
          />
          <Table
            size="small"
            rowKey="index"
            pagination={false}
            scroll={{ x: 560 }}
            data-testid="import-mapping"
            dataSource={file.headers.map((h, index) => ({ index, header: h, sample: file.samples.map((r) => r[index] ?? '').filter(Boolean).slice(0, 2).join(' / ') }))}
            columns={[
              { key: 'header', title: i('column'), dataIndex: 'header', width: 160 },
              { key: 'sample', title: i('sample'), dataIndex: 'sample', ellipsis: true },
              {
                key: 'field',
                title: i('field'),
                width: 220,
                render: (_, r) => (
                  <Select
                    aria-label={`${i('field')}: ${r.header}`}
                    style={{ width: 200 }}
                    value={mapping[r.index] ?? ''}
                    options={options}
                    onChange={(v) => setMapping((m) => m.map((x, j) => (j === r.index ? v || null : x)))}
                    data-testid={`map-${r.index}`}
                  />
                ),
              },
            ]}
          />
          {problem && <Alert type="error" showIcon style={{ marginTop: 12 }} title={i(problem)} />}
          <Flex justify="space-between" wrap gap={8} style={{ marginTop: 16 }}>
            <Button onClick={() => setStep(0)}>{t('common.back')}</Button>
            <Space wrap>
              <Typography.Text type="secondary">{i('dryRunHelp')}</Typography.Text>
              <Button type="primary" disabled={!!problem} loading={start.isPending} onClick={() => start.mutate(true)}>
                {i('dryRun')}
              </Button>
            </Space>
          </Flex>
        </Card>
      )}
      {step === 2 && dryId && (
        <Card>
          <JobView id={dryId} customLabel={customLabel} />
          <Flex justify="space-between" wrap gap={8} style={{ marginTop: 16 }}>
            <Button onClick={() => setStep(1)}>{t('common.back')}</Button>
            <DryRunGate id={dryId}>
              <Button type="primary" loading={start.isPending} onClick={() => start.mutate(false)}>
                {i('run')}
              </Button>
            </DryRunGate>
          </Flex>
        </Card>
      )}
      {step === 3 && runId && (
        <Card>
          <JobView id={runId} customLabel={customLabel} />
          <Flex justify="flex-end" wrap gap={8} style={{ marginTop: 16 }}>
            <Button
              onClick={() => {
                setFile(null);
                setStep(0);
              }}
            >
              {i('again')}
            </Button>
            <Button
              type="primary"
              onClick={() => {
                void queryClient.invalidateQueries({ queryKey: listKey });
                navigate(path);
              }}
            >
              {view}
            </Button>
          </Flex>
        </Card>
      )}
    </Flex>
  );
}

/** Shows the real run's button once the dry run has finished well. */
function DryRunGate({ id, children }: { id: string; children: React.ReactNode }) {
  const job = useImport(id);
  return job.data?.status === 'succeeded' ? <>{children}</> : null;
}

/** A job's progress, counts and the rows that need attention. */
function JobView({ id, customLabel }: { id: string; customLabel?: (key: string) => string | undefined }) {
  const { t, i18n } = useTranslation();
  const problemText = useProblemText();
  const job = useImport(id);
  const i = (k: string, o?: Record<string, unknown>) => t(`records.imports.${k}`, o);
  const done = job.data?.status === 'succeeded';
  const rows = useInfiniteQuery({
    queryKey: ['imports', id, 'rows'],
    enabled: done,
    queryFn: ({ pageParam }) => unwrap(api.GET('/v1/imports/{id}/rows', { params: { path: { id }, query: { limit: 100, cursor: pageParam } } })),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
  });
  const list = useMemo(() => rows.data?.pages.flatMap((p) => p.data) ?? [], [rows.data]);
  if (job.isError) return <Result status="error" title={problemText(job.error)} />;
  const j: Import | undefined = job.data;
  if (!j) return <Progress percent={0} />;
  const percent = j.rows ? Math.floor((j.processed_rows / j.rows) * 100) : done ? 100 : 0;
  const title = j.status === 'failed' ? i('failedJob') : done ? (j.dry_run ? i('checkResult') : i('done')) : j.dry_run ? i('checking') : i('running');
  // `emails[0].address` reads as the Email column.
  const errorField = (f: string) => {
    const custom = customLabel && /^custom\.([a-z][a-z0-9_]*)/.exec(f)?.[1];
    if (custom) return customLabel(custom) ?? f;
    const base = f.split(/[.[]/)[0] ?? f;
    const field = base === 'emails' ? 'email' : base === 'phones' ? 'phone' : base;
    return t(`records.imports.fields.${field}`, { defaultValue: f });
  };
  const outcome: Record<string, string> = { failed: 'red' };
  return (
    <div data-testid="import-job">
      <Typography.Title level={2} style={{ fontSize: 17 }}>
        {title}
      </Typography.Title>
      <Progress
        percent={percent}
        status={j.status === 'failed' ? 'exception' : done ? 'success' : 'active'}
        aria-label={title}
        data-testid="import-progress"
      />
      {j.error && <Alert type="error" showIcon title={j.error} style={{ marginTop: 8 }} />}
      <Flex wrap gap={32} style={{ margin: '12px 0' }} data-testid="import-counts">
        {(['created', 'updated', 'unchanged', 'skipped', 'failed'] as const).map((k) => (
          <Statistic
            key={k}
            title={i(k)}
            value={formatNumber(j.counts[k], i18n.language)}
            styles={{ content: { color: k === 'failed' && j.counts[k] ? '#cf1322' : undefined } }}
          />
        ))}
      </Flex>
      {done && (
        <>
          <Typography.Title level={3} style={{ fontSize: 15 }}>
            {i('rowReport')}
          </Typography.Title>
          <Table
            size="small"
            rowKey="line"
            loading={rows.isLoading}
            pagination={false}
            dataSource={list.filter((r) => r.outcome === 'failed' || r.outcome === 'skipped')}
            locale={{ emptyText: i('noProblems') }}
            data-testid="import-rows"
            columns={[
              { key: 'line', title: i('line'), dataIndex: 'line', width: 80 },
              { key: 'outcome', title: i('outcome'), width: 110, render: (_, r) => <Tag color={outcome[r.outcome]}>{i(r.outcome)}</Tag> },
              {
                key: 'reason',
                title: i('reason'),
                render: (_, r) =>
                  [r.reason, ...(r.errors ?? []).map((e) => `${errorField(e.field)}: ${e.message}`)]
                    .filter(Boolean)
                    .join('; '),
              },
            ]}
          />
          {rows.hasNextPage && (
            <Flex justify="center" style={{ marginTop: 8 }}>
              <Button onClick={() => void rows.fetchNextPage()} loading={rows.isFetchingNextPage}>
                {t('common.loadMore')}
              </Button>
            </Flex>
          )}
        </>
      )}
    </div>
  );
}
