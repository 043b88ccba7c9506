// The deal board of a pipeline: one column per stage with its count and amount totals
// (per currency, the server's), cards with title, amount, owner and expected close date
// (red when past, orange when near). A card moves by dragging (mouse, long press or keyboard:
// Space on its handle, arrows between stages, Space to drop) or by its "Move to…" menu.
// The move shows at once, is sent with If-Match, and is put back with the reason when
// the server refuses it; after either, the board is read again so the totals are the
// server's. On a phone the columns scroll sideways one stage at a time.

import { CalendarOutlined, FilterOutlined, HolderOutlined, PlusOutlined, SettingOutlined, SwapOutlined } from '@ant-design/icons';
import {
  DndContext,
  DragOverlay,
  KeyboardSensor,
  MouseSensor,
  pointerWithin,
  rectIntersection,
  TouchSensor,
  useDraggable,
  useDroppable,
  useSensor,
  useSensors,
  type CollisionDetection,
  type DragEndEvent,
  type KeyboardCoordinateGetter,
} from '@dnd-kit/core';
import {
  Alert,
  App,
  Button,
  Card,
  DatePicker,
  Dropdown,
  Empty,
  Flex,
  Grid,
  Popover,
  Result,
  Select,
  Skeleton,
  Space,
  Tag,
  Typography,
} from 'antd';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import dayjs from 'dayjs';
import { useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { api, ifMatch, unwrap } from '../../api/client';
import { useUserName, useUsers } from '../../api/lookups';
import { useProblemText } from '../../api/useProblem';
import { can, useMe } from '../../auth/me';
import { formatDate, formatMoney } from '../../i18n/format';
import { appendPage, closeness, isFiltering, localToday, moveDeal, type Board, type BoardStage, type Deal, type DealFilter } from './board';
import { DealCreate } from './DealCreate';
import { boardKey, usePipelines } from './queries';

/** Arrow keys jump a dragged card a whole stage left or right. */
const stageJumps: KeyboardCoordinateGetter = (event, { currentCoordinates, context }) => {
  const step = event.code === 'ArrowRight' ? 1 : event.code === 'ArrowLeft' ? -1 : 0;
  if (!step) return undefined;
  event.preventDefault();
  const rects = [...context.droppableRects.values()].sort((a, b) => a.left - b.left);
  const width = context.collisionRect?.width ?? 0;
  const centre = currentCoordinates.x + width / 2;
  let at = rects.findIndex((r) => centre >= r.left && centre <= r.left + r.width);
  if (at < 0) at = rects.findIndex((r) => r.left > centre) - 1;
  const target = rects[Math.min(rects.length - 1, Math.max(0, at + step))];
  if (!target) return undefined;
  return { x: target.left + (target.width - width) / 2, y: Math.max(currentCoordinates.y, target.top + 8) };
};

const collisions: CollisionDetection = (args) => {
  const hits = pointerWithin(args);
  return hits.length ? hits : rectIntersection(args);
};

export default function DealBoard() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const problemText = useProblemText();
  const navigate = useNavigate();
  const phone = !Grid.useBreakpoint().md;
  const queryClient = useQueryClient();
  const { data: me } = useMe();
  const users = useUsers();
  const [params, setParams] = useSearchParams();
  const pipelines = usePipelines();
  const pipelineId = params.get('pipeline') ?? pipelines.data?.[0]?.id ?? '';
  const filter: DealFilter = {
    ownerId: params.get('owner') ?? undefined,
    closeFrom: params.get('from') ?? undefined,
    closeTo: params.get('to') ?? undefined,
  };
  const [creating, setCreating] = useState(false);
  const [dragging, setDragging] = useState<Deal | null>(null);
  const [loadingMore, setLoadingMore] = useState<string | null>(null);

  const key = boardKey(pipelineId, filter);
  const filterQuery = { owner_id: filter.ownerId, close_from: filter.closeFrom, close_to: filter.closeTo };
  const board = useQuery({
    queryKey: key,
    queryFn: () =>
      unwrap(api.GET('/v1/pipelines/{id}/board', { params: { path: { id: pipelineId }, query: { limit: 20, ...filterQuery } } })),
    enabled: Boolean(pipelineId),
  });

  const sensors = useSensors(
    // A mouse drags after a few pixels; a finger after a long press, so a swipe still
    // scrolls the board from stage to stage.
    useSensor(MouseSensor, { activationConstraint: { distance: 6 } }),
    useSensor(TouchSensor, { activationConstraint: { delay: 250, tolerance: 8 } }),
    useSensor(KeyboardSensor, { coordinateGetter: stageJumps }),
  );

  const setParam = (k: string, v: string | null | undefined) => {
    const next = new URLSearchParams(params);
    if (v) next.set(k, v);
    else next.delete(k);
    setParams(next, { replace: true });
  };

  const stageName = (id: string) => board.data?.stages.find((s) => s.id === id)?.name ?? '';

  const move = async (deal: Deal, toStageId: string) => {
    await queryClient.cancelQueries({ queryKey: key });
    const before = queryClient.getQueryData<Board>(key);
    if (!before) return;
    const after = moveDeal(before, deal.id, toStageId);
    if (after === before) return;
    queryClient.setQueryData(key, after);
    try {
      await unwrap(
        api.PATCH('/v1/deals/{id}', {
          params: { path: { id: deal.id }, header: { 'If-Match': ifMatch(deal.version) } },
          body: { stage_id: toStageId },
        }),
      );
      void message.success(t('sales.board.moved', { title: deal.title, stage: stageName(toStageId) }));
    } catch (e) {
      queryClient.setQueryData(key, before);
      void message.error({
        content: t('sales.board.refused', { title: deal.title, reason: problemText(e) }),
        key: 'move-refused',
      });
    } finally {
      void queryClient.invalidateQueries({ queryKey: key });
      void queryClient.invalidateQueries({ queryKey: ['deals', deal.id] });
    }
  };

  const loadMore = async (stage: BoardStage) => {
    if (!stage.next_cursor) return;
    setLoadingMore(stage.id);
    try {
      const page = await unwrap(
        api.GET('/v1/pipelines/{id}/board', {
          params: { path: { id: pipelineId }, query: { limit: 20, stage_id: stage.id, cursor: stage.next_cursor, ...filterQuery } },
        }),
      );
      queryClient.setQueryData<Board>(key, (b) => (b ? appendPage(b, page) : b));
    } catch (e) {
      void message.error(problemText(e));
    } finally {
      setLoadingMore(null);
    }
  };

  const onDragEnd = ({ active, over }: DragEndEvent) => {
    setDragging(null);
    const deal = active.data.current?.deal as Deal | undefined;
    if (deal && over && over.id !== deal.stage_id) void move(deal, String(over.id));
  };

  const stages = board.data?.stages ?? [];
  const mayCreate = can(me, 'deals', 'create');
  const maySettings = can(me, 'settings', 'update');
  const filtering = isFiltering(filter);

  const filters = (
    <>
      {users.data && (
        <Select
          aria-label={t('sales.board.owner')}
          style={{ width: 180 }}
          value={filter.ownerId ?? ''}
          onChange={(v) => setParam('owner', v)}
          options={[{ value: '', label: t('sales.board.anyOwner') }, ...users.data.map((u) => ({ value: u.id, label: u.name }))]}
        />
      )}
      <DatePicker.RangePicker
        aria-label={t('sales.board.closeRange')}
        placeholder={[t('sales.board.closeFrom'), t('sales.board.closeTo')]}
        style={{ width: 260 }}
        value={filter.closeFrom || filter.closeTo ? [filter.closeFrom ? dayjs(filter.closeFrom) : null, filter.closeTo ? dayjs(filter.closeTo) : null] : null}
        allowEmpty={[true, true]}
        onChange={(range) => {
          const next = new URLSearchParams(params);
          const [from, to] = range ?? [];
          if (from) next.set('from', from.format('YYYY-MM-DD'));
          else next.delete('from');
          if (to) next.set('to', to.format('YYYY-MM-DD'));
          else next.delete('to');
          setParams(next, { replace: true });
        }}
      />
    </>
  );

  if (pipelines.isError) return <Result status="error" title={problemText(pipelines.error)} />;

  return (
    <>
      <Flex justify="space-between" align="center" wrap gap={8} style={{ marginBottom: 12 }}>
        <Typography.Title level={1} style={{ fontSize: 22, margin: 0 }}>
          {t('sales.board.title')}
        </Typography.Title>
        <Space wrap>
          {maySettings && (
            <Button icon={<SettingOutlined />} onClick={() => navigate(`/deals/pipelines${pipelineId ? `?pipeline=${pipelineId}` : ''}`)}>
              {t('sales.board.settings')}
            </Button>
          )}
          {mayCreate && (
            <Button type="primary" icon={<PlusOutlined />} onClick={() => setCreating(true)} disabled={!board.data}>
              {t('sales.board.newDeal')}
            </Button>
          )}
        </Space>
      </Flex>
      <Flex wrap gap={8} style={{ marginBottom: 8 }}>
        <Select
          aria-label={t('sales.board.pipeline')}
          style={phone ? { flex: 1 } : { width: 200 }}
          value={pipelineId || undefined}
          loading={pipelines.isLoading}
          onChange={(v) => setParam('pipeline', v)}
          options={pipelines.data?.map((p) => ({ value: p.id, label: p.name }))}
          data-testid="pipeline-switch"
        />
        {phone ? (
          <Popover trigger="click" placement="bottomLeft" content={<Flex vertical gap={8} style={{ width: 280 }}>{filters}</Flex>}>
            <Button icon={<FilterOutlined />}>{t('common.filters')}</Button>
          </Popover>
        ) : (
          filters
        )}
      </Flex>
      {filtering && (
        <Alert
          type="info"
          showIcon
          style={{ marginBottom: 8 }}
          message={t('sales.board.filtered')}
          action={
            <Button
              size="small"
              type="link"
              onClick={() => {
                const next = new URLSearchParams(params);
                for (const k of ['owner', 'from', 'to']) next.delete(k);
                setParams(next, { replace: true });
              }}
            >
              {t('common.clearAll')}
            </Button>
          }
        />
      )}
      {board.isError ? (
        <Result status="error" title={problemText(board.error)} />
      ) : board.isLoading || pipelines.isLoading ? (
        <Skeleton active />
      ) : (
        <DndContext
          sensors={sensors}
          collisionDetection={collisions}
          onDragStart={({ active }) => setDragging((active.data.current?.deal as Deal | undefined) ?? null)}
          onDragCancel={() => setDragging(null)}
          onDragEnd={onDragEnd}
          accessibility={{
            screenReaderInstructions: { draggable: t('sales.board.dragHelp') },
            announcements: {
              onDragStart: ({ active }) => t('sales.board.dragStart', { title: (active.data.current?.deal as Deal | undefined)?.title ?? '' }),
              onDragOver: ({ over }) => (over ? t('sales.board.dragOver', { stage: stageName(String(over.id)) }) : undefined),
              onDragEnd: ({ over }) => (over ? t('sales.board.dragOver', { stage: stageName(String(over.id)) }) : undefined),
              onDragCancel: () => t('sales.board.dragCancel'),
            },
          }}
        >
          <div
            data-testid="deal-board"
            role="region"
            aria-label={t('sales.board.title')}
            tabIndex={0}
            style={{
              display: 'flex',
              gap: 12,
              overflowX: 'auto',
              paddingBottom: 12,
              scrollSnapType: phone ? 'x mandatory' : undefined,
              alignItems: 'flex-start',
            }}
          >
            {stages.map((stage) => (
              <StageColumn
                key={stage.id}
                stage={stage}
                stages={stages}
                phone={phone}
                onMove={move}
                onLoadMore={() => void loadMore(stage)}
                loadingMore={loadingMore === stage.id}
              />
            ))}
          </div>
          <DragOverlay dropAnimation={null}>{dragging ? <DealCardBody deal={dragging} /> : null}</DragOverlay>
        </DndContext>
      )}
      {creating && board.data && (
        <DealCreate
          pipelineId={pipelineId}
          stages={board.data.stages}
          onClose={() => setCreating(false)}
          onCreated={() => void queryClient.invalidateQueries({ queryKey: key })}
        />
      )}
    </>
  );
}

function StageColumn({
  stage,
  stages,
  phone,
  onMove,
  onLoadMore,
  loadingMore,
}: {
  stage: BoardStage;
  stages: BoardStage[];
  phone: boolean;
  onMove: (deal: Deal, to: string) => Promise<void>;
  onLoadMore: () => void;
  loadingMore: boolean;
}) {
  const { t, i18n } = useTranslation();
  const { setNodeRef, isOver } = useDroppable({ id: stage.id });
  const deals = stage.deals;
  const kindColor = stage.kind === 'won' ? '#237804' : stage.kind === 'lost' ? 'default' : 'blue';
  return (
    <section
      ref={setNodeRef}
      aria-labelledby={`stage-${stage.id}`}
      data-testid={`stage-${stage.id}`}
      data-over={isOver ? 'true' : undefined}
      style={{
        flex: '0 0 auto',
        width: phone ? 'calc(100vw - 56px)' : 272,
        scrollSnapAlign: 'start',
        background: isOver ? '#e6f0ff' : '#f5f6f8',
        borderRadius: 8,
        padding: 8,
        minHeight: 200,
        outline: isOver ? '2px dashed #1f5eff' : undefined,
      }}
    >
      <div style={{ padding: '4px 4px 8px' }}>
        <Flex justify="space-between" align="center" gap={4}>
          <Typography.Title level={2} id={`stage-${stage.id}`} style={{ fontSize: 15, margin: 0 }} ellipsis>
            {stage.name}
          </Typography.Title>
          <Tag color={kindColor} data-testid="stage-count" style={{ marginInlineEnd: 0 }}>
            {t('sales.board.count', { count: stage.count })}
          </Tag>
        </Flex>
        <div data-testid="stage-total" style={{ color: '#444', fontSize: 13, minHeight: 20 }}>
          {stage.amounts.length
            ? stage.amounts.map((a) => formatMoney(a, i18n.language)).join(' + ')
            : formatMoney({ amount_minor: 0, currency: 'CNY' }, i18n.language)}
        </div>
      </div>
      <Flex vertical gap={8}>
        {deals.map((d) => (
          <DealCard key={d.id} deal={d} stages={stages} onMove={onMove} />
        ))}
        {deals.length === 0 && <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t('sales.board.emptyStage')} />}
        {stage.next_cursor && (
          <Button block onClick={onLoadMore} loading={loadingMore}>
            {t('common.loadMore')}
          </Button>
        )}
      </Flex>
    </section>
  );
}

function DealCard({ deal, stages, onMove }: { deal: Deal; stages: BoardStage[]; onMove: (deal: Deal, to: string) => Promise<void> }) {
  const { t } = useTranslation();
  const { attributes, listeners, setNodeRef, setActivatorNodeRef, isDragging } = useDraggable({
    id: deal.id,
    data: { deal },
  });
  const others = stages.filter((s) => s.id !== deal.stage_id);
  return (
    <div ref={setNodeRef} {...listeners} style={{ opacity: isDragging ? 0.4 : 1, touchAction: 'manipulation' }} data-testid="deal-card" data-deal-id={deal.id}>
      <DealCardBody
        deal={deal}
        actions={
          <Space size={0}>
            <Button
              ref={setActivatorNodeRef}
              {...attributes}
              type="text"
              size="small"
              icon={<HolderOutlined />}
              aria-label={t('sales.board.dragHandle', { title: deal.title })}
              style={{ cursor: 'grab' }}
            />
            <Dropdown
              trigger={['click']}
              menu={{
                items: others.map((s) => ({ key: s.id, label: s.name })),
                onClick: ({ key }) => void onMove(deal, key),
              }}
            >
              <Button
                type="text"
                size="small"
                icon={<SwapOutlined />}
                aria-label={t('sales.board.moveTo', { title: deal.title })}
                data-testid="move-to"
              />
            </Dropdown>
          </Space>
        }
      />
    </div>
  );
}

function DealCardBody({ deal, actions }: { deal: Deal; actions?: ReactNode }) {
  const { i18n } = useTranslation();
  const userName = useUserName();
  const near = closeness(deal.expected_close_date, localToday());
  const dateColor = near === 'past' ? '#a8071a' : near === 'near' ? '#ad4e00' : undefined;
  return (
    <Card size="small" styles={{ body: { padding: 10 } }} style={{ cursor: 'grab' }}>
      <Flex justify="space-between" align="start" gap={4}>
        <Link to={`/deals/${deal.id}`} style={{ fontWeight: 600, wordBreak: 'break-word' }} onMouseDown={(e) => e.stopPropagation()}>
          {deal.title ?? deal.id}
        </Link>
        {actions}
      </Flex>
      {'amount' in deal && deal.amount && (
        <div style={{ fontSize: 15 }} data-testid="deal-amount">
          {formatMoney(deal.amount, i18n.language)}
        </div>
      )}
      <Flex justify="space-between" wrap gap={4} style={{ fontSize: 12, color: '#555', marginTop: 4 }}>
        {'owner_id' in deal && <span>{userName(deal.owner_id)}</span>}
        {deal.expected_close_date && (
          <Tag color={dateColor} icon={<CalendarOutlined />} style={{ marginInlineEnd: 0 }}>
            {formatDate(`${deal.expected_close_date}T00:00:00`, i18n.language)}
          </Tag>
        )}
      </Flex>
    </Card>
  );
}
