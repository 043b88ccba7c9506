// The deal board's pure logic: an optimistic move of a card (counts and totals follow),
// a further page of a stage merged in, the board's filters, and how close an expected
// close date is.

import type { Schemas } from '../../api/client';

export type Board = Schemas['Board'];
export type BoardStage = Board['stages'][number];
export type Deal = Schemas['Deal'];

function addAmount(amounts: BoardStage['amounts'], deal: Deal, sign: 1 | -1): BoardStage['amounts'] {
  const money = deal.amount;
  if (!money) return amounts;
  const found = amounts.some((a) => a.currency === money.currency);
  const next = found
    ? amounts.map((a) => (a.currency === money.currency ? { ...a, amount_minor: a.amount_minor + sign * money.amount_minor } : a))
    : [...amounts, { currency: money.currency, amount_minor: sign * money.amount_minor }];
  return next.filter((a) => a.amount_minor !== 0 || a.currency !== money.currency || sign > 0);
}

/** The board with `dealId` moved to the top of `toStageId` (what the server does: newest
 * arrival first), counts and totals adjusted; the same board when nothing moves. */
export function moveDeal(board: Board, dealId: string, toStageId: string): Board {
  const from = board.stages.find((s) => s.deals.some((d) => d.id === dealId));
  const deal = from?.deals.find((d) => d.id === dealId);
  if (!from || !deal || from.id === toStageId || !board.stages.some((s) => s.id === toStageId)) return board;
  return {
    ...board,
    stages: board.stages.map((s) => {
      if (s.id === from.id) {
        return { ...s, count: Math.max(0, s.count - 1), amounts: addAmount(s.amounts, deal, -1), deals: s.deals.filter((d) => d.id !== dealId) };
      }
      if (s.id === toStageId) {
        const moved = { ...deal, stage_id: toStageId, status: s.kind };
        return { ...s, count: s.count + 1, amounts: addAmount(s.amounts, deal, 1), deals: [moved, ...s.deals] };
      }
      return s;
    }),
  };
}

/** The board with a further page of one stage appended (deals already shown are skipped). */
export function appendPage(board: Board, page: Board): Board {
  const more = page.stages[0];
  if (!more) return board;
  return {
    ...board,
    stages: board.stages.map((s) => {
      if (s.id !== more.id) return s;
      const seen = new Set(s.deals.map((d) => d.id));
      return { ...s, deals: [...s.deals, ...more.deals.filter((d) => !seen.has(d.id))], next_cursor: more.next_cursor };
    }),
  };
}

export interface DealFilter {
  ownerId?: string | undefined;
  /** Inclusive `YYYY-MM-DD` bounds of the expected close date. */
  closeFrom?: string | undefined;
  closeTo?: string | undefined;
}

export function isFiltering(f: DealFilter): boolean {
  return Boolean(f.ownerId || f.closeFrom || f.closeTo);
}

/** `past` once the date is before today, `near` within `nearDays` days, else `later`. */
export function closeness(date: string | null | undefined, today: string, nearDays = 7): 'past' | 'near' | 'later' | 'none' {
  if (!date) return 'none';
  if (date < today) return 'past';
  const days = (Date.parse(`${date}T00:00:00Z`) - Date.parse(`${today}T00:00:00Z`)) / 86_400_000;
  return days <= nearDays ? 'near' : 'later';
}

/** Today's date where the reader is, as `YYYY-MM-DD`. */
export function localToday(now = new Date()): string {
  const y = now.getFullYear();
  const m = String(now.getMonth() + 1).padStart(2, '0');
  const d = String(now.getDate()).padStart(2, '0');
  return `${y}-${m}-${d}`;
}
