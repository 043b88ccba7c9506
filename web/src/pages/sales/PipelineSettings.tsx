// Pipeline settings: rename the pipeline; add, rename, reorder (up/down) and remove its
// stages, then save the whole list at once (PATCH with If-Match). Removing a stage that
// holds deals first asks where they go; on save those deals are moved there
// (POST …/move-deals, repeated until none remain) before the stage is removed.

import { ArrowDownOutlined, ArrowUpOutlined, DeleteOutlined, PlusOutlined } from '@ant-design/icons';
import {
  Alert,
  App,
  Button,
  Card,
  Flex,
  Input,
  InputNumber,
  List,
  Modal,
  Result,
  Select,
  Skeleton,
  Space,
  Tag,
  Typography,
} from 'antd';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useSearchParams } from 'react-router';
import { api, ifMatch, unwrap, type Schemas } from '../../api/client';
import { ApiProblem } from '../../api/problem';
import { useProblemText, useReportProblem } from '../../api/useProblem';
import { can, useMe } from '../../auth/me';
import { boardKey, usePipelines } from './queries';

type Pipeline = Schemas['Pipeline'];
type Kind = Schemas['StageKind'];

interface DraftStage {
  key: string;
  id?: string;
  name: string;
  kind: Kind;
  probability: number;
}

function draftOf(p: Pipeline): DraftStage[] {
  return p.stages.map((s) => ({ key: s.id, id: s.id, name: s.name, kind: s.kind, probability: s.probability }));
}

export default function PipelineSettings() {
  const { t } = useTranslation();
  const problemText = useProblemText();
  const pipelines = usePipelines();
  const { data: me } = useMe();
  const [params, setParams] = useSearchParams();
  const pipelineId = params.get('pipeline') ?? pipelines.data?.[0]?.id ?? '';
  const pipeline = pipelines.data?.find((p) => p.id === pipelineId);

  if (pipelines.isLoading) return <Skeleton active />;
  if (pipelines.isError) return <Result status="error" title={problemText(pipelines.error)} />;
  if (!can(me, 'settings', 'update')) return <Result status="403" title={t('problems.forbidden')} />;

  return (
    <>
      <Flex justify="space-between" align="center" wrap gap={8} style={{ marginBottom: 12 }}>
        <div>
          <Link to={`/deals${pipelineId ? `?pipeline=${pipelineId}` : ''}`}>{t('sales.board.title')}</Link>
          <Typography.Title level={1} style={{ fontSize: 22, margin: 0 }}>
            {t('sales.pipeline.title')}
          </Typography.Title>
        </div>
        <Select
          aria-label={t('sales.board.pipeline')}
          style={{ minWidth: 200 }}
          value={pipelineId || undefined}
          onChange={(v) => setParams({ pipeline: v }, { replace: true })}
          options={pipelines.data?.map((p) => ({ value: p.id, label: p.name }))}
        />
      </Flex>
      {pipeline && <PipelineEditor key={`${pipeline.id}:${pipeline.version}`} pipeline={pipeline} />}
    </>
  );
}

function PipelineEditor({ pipeline }: { pipeline: Pipeline }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const queryClient = useQueryClient();
  const report = useReportProblem();
  const [name, setName] = useState(pipeline.name);
  const [stages, setStages] = useState<DraftStage[]>(() => draftOf(pipeline));
  /** Removed stages that hold deals → the stage their deals go to. */
  const [moves, setMoves] = useState<Record<string, string>>({});
  const [removing, setRemoving] = useState<DraftStage | null>(null);
  const [target, setTarget] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const board = useQuery({
    queryKey: [...boardKey(pipeline.id), 'counts'],
    queryFn: () => unwrap(api.GET('/v1/pipelines/{id}/board', { params: { path: { id: pipeline.id }, query: { limit: 1 } } })),
  });
  const countOf = (id?: string) => (id ? (board.data?.stages.find((s) => s.id === id)?.count ?? 0) : 0);

  const update = (key: string, change: Partial<DraftStage>) =>
    setStages((list) => list.map((s) => (s.key === key ? { ...s, ...change } : s)));
  const shift = (index: number, by: -1 | 1) =>
    setStages((list) => {
      const next = [...list];
      const [item] = next.splice(index, 1);
      if (item) next.splice(index + by, 0, item);
      return next;
    });
  const remove = (stage: DraftStage) => {
    if (countOf(stage.id) > 0) {
      setRemoving(stage);
      setTarget(stages.find((s) => s.key !== stage.key && s.id && !moves[s.id])?.id);
    } else {
      setStages((list) => list.filter((s) => s.key !== stage.key));
    }
  };
  const confirmRemove = () => {
    if (!removing?.id || !target) return;
    setMoves((m) => ({ ...m, [removing.id!]: target }));
    setStages((list) => list.filter((s) => s.key !== removing.key));
    setRemoving(null);
  };

  const dirty =
    name !== pipeline.name || JSON.stringify(stages) !== JSON.stringify(draftOf(pipeline)) || Object.keys(moves).length > 0;

  const save = async () => {
    setBusy(true);
    try {
      for (const [from, to] of Object.entries(moves)) {
        // Only to a stage that stays; the server moves up to 100 per call.
        const dest = stages.some((s) => s.id === to) ? to : stages.find((s) => s.id)?.id;
        if (!dest) continue;
        for (let i = 0; i < 1000; i++) {
          const r = await unwrap(
            api.POST('/v1/pipelines/{id}/stages/{stage_id}/move-deals', {
              params: { path: { id: pipeline.id, stage_id: from } },
              body: { to_stage_id: dest },
            }),
          );
          if (r.remaining === 0 || r.moved === 0) break;
        }
      }
      const body: Schemas['PipelinePatch'] = {
        stages: stages.map((s) => ({ ...(s.id ? { id: s.id } : {}), name: s.name.trim(), kind: s.kind, probability: s.probability })),
      };
      if (name.trim() !== pipeline.name) body.name = name.trim();
      await unwrap(
        api.PATCH('/v1/pipelines/{id}', {
          params: { path: { id: pipeline.id }, header: { 'If-Match': ifMatch(pipeline.version) } },
          body,
        }),
      );
      void message.success(t('common.saved'));
      setMoves({});
      await queryClient.invalidateQueries({ queryKey: ['pipelines'] });
      void queryClient.invalidateQueries({ queryKey: ['deals'] });
    } catch (e) {
      if (e instanceof ApiProblem && e.status === 412) {
        void message.warning(t('sales.pipeline.conflict'));
        await queryClient.invalidateQueries({ queryKey: ['pipelines'] });
      } else {
        report(e);
      }
      void queryClient.invalidateQueries({ queryKey: ['deals'] });
    } finally {
      setBusy(false);
    }
  };

  const destinations = stages.filter((s) => s.id && s.key !== removing?.key);

  return (
    <Card>
      <Flex vertical gap={12}>
        <label>
          <Typography.Text strong>{t('sales.pipeline.name')}</Typography.Text>
          <Input value={name} maxLength={100} onChange={(e) => setName(e.target.value)} style={{ maxWidth: 360, display: 'block' }} />
        </label>
        <Typography.Text strong>{t('sales.pipeline.stages')}</Typography.Text>
        <List
          bordered
          dataSource={stages}
          data-testid="stage-list"
          renderItem={(s, i) => (
            <List.Item>
              <Flex wrap gap={8} align="center" style={{ width: '100%' }}>
                <Input
                  aria-label={t('sales.pipeline.stageName', { n: i + 1 })}
                  value={s.name}
                  maxLength={100}
                  onChange={(e) => update(s.key, { name: e.target.value })}
                  style={{ flex: '1 1 160px' }}
                />
                <Select<Kind>
                  aria-label={t('sales.pipeline.kind', { n: i + 1 })}
                  value={s.kind}
                  style={{ width: 110 }}
                  onChange={(kind) => update(s.key, { kind })}
                  options={(['open', 'won', 'lost'] as const).map((k) => ({ value: k, label: t(`sales.kinds.${k}`) }))}
                />
                <InputNumber
                  aria-label={t('sales.pipeline.probability', { n: i + 1 })}
                  min={0}
                  max={100}
                  precision={0}
                  value={s.probability}
                  suffix="%"
                  style={{ width: 96 }}
                  onChange={(v) => update(s.key, { probability: v ?? 0 })}
                />
                {s.id && countOf(s.id) > 0 && <Tag>{t('sales.board.count', { count: countOf(s.id) })}</Tag>}
                <Space size={0}>
                  <Button
                    type="text"
                    icon={<ArrowUpOutlined />}
                    aria-label={t('sales.pipeline.moveUp', { name: s.name })}
                    disabled={i === 0}
                    onClick={() => shift(i, -1)}
                  />
                  <Button
                    type="text"
                    icon={<ArrowDownOutlined />}
                    aria-label={t('sales.pipeline.moveDown', { name: s.name })}
                    disabled={i === stages.length - 1}
                    onClick={() => shift(i, 1)}
                  />
                  <Button
                    type="text"
                    danger
                    icon={<DeleteOutlined />}
                    aria-label={t('sales.pipeline.remove', { name: s.name })}
                    disabled={stages.length <= 2}
                    onClick={() => remove(s)}
                  />
                </Space>
              </Flex>
            </List.Item>
          )}
        />
        {Object.keys(moves).length > 0 && (
          <Alert type="warning" showIcon message={t('sales.pipeline.movesPending', { count: Object.keys(moves).length })} />
        )}
        <Flex gap={8} wrap>
          <Button
            icon={<PlusOutlined />}
            disabled={stages.length >= 30}
            onClick={() =>
              setStages((list) => {
                const at = list.findIndex((s) => s.kind !== 'open');
                const item: DraftStage = { key: `new-${Date.now()}`, name: t('sales.pipeline.newStage'), kind: 'open', probability: 10 };
                const next = [...list];
                next.splice(at < 0 ? list.length : at, 0, item);
                return next;
              })
            }
          >
            {t('sales.pipeline.addStage')}
          </Button>
          <Button type="primary" loading={busy} disabled={!dirty} onClick={() => void save()}>
            {t('common.save')}
          </Button>
          <Button
            disabled={!dirty || busy}
            onClick={() => {
              setName(pipeline.name);
              setStages(draftOf(pipeline));
              setMoves({});
            }}
          >
            {t('sales.pipeline.discard')}
          </Button>
        </Flex>
      </Flex>
      <Modal
        open={Boolean(removing)}
        title={t('sales.pipeline.removeTitle', { name: removing?.name ?? '' })}
        okText={t('sales.pipeline.removeOk')}
        okButtonProps={{ danger: true, disabled: !target }}
        onOk={confirmRemove}
        onCancel={() => setRemoving(null)}
      >
        <p>{t('sales.pipeline.hasDeals', { count: countOf(removing?.id) })}</p>
        <Select
          aria-label={t('sales.pipeline.moveTarget')}
          style={{ width: '100%' }}
          value={target}
          onChange={setTarget}
          options={destinations.map((s) => ({ value: s.id!, label: s.name }))}
        />
      </Modal>
    </Card>
  );
}
