import { describe, expect, it } from 'vitest';
import { appendPage, closeness, moveDeal, type Board, type Deal } from './board';

const deal = (id: string, stage: string, amount?: number, extra: Partial<Deal> = {}): Deal => ({
  id,
  title: id,
  stage_id: stage,
  amount: amount === undefined ? null : { amount_minor: amount, currency: 'CNY' },
  owner_id: 'usr_a',
  created_by: 'usr_a',
  created_at: '',
  updated_at: '',
  version: 1,
  ...extra,
});

const board = (): Board => ({
  pipeline_id: 'pip_1',
  name: 'Sales',
  stages: [
    { id: 's1', name: 'A', probability: 10, kind: 'open', count: 2, amounts: [{ currency: 'CNY', amount_minor: 300 }], deals: [deal('d1', 's1', 100), deal('d2', 's1', 200)], next_cursor: null },
    { id: 's2', name: 'B', probability: 100, kind: 'won', count: 0, amounts: [], deals: [], next_cursor: null },
  ],
});

describe('moveDeal', () => {
  it('moves the card to the top of the stage and adjusts counts and totals', () => {
    const b = moveDeal(board(), 'd2', 's2');
    expect(b.stages[0]!.deals.map((d) => d.id)).toEqual(['d1']);
    expect(b.stages[0]!.count).toBe(1);
    expect(b.stages[0]!.amounts).toEqual([{ currency: 'CNY', amount_minor: 100 }]);
    expect(b.stages[1]!.deals.map((d) => d.id)).toEqual(['d2']);
    expect(b.stages[1]!.deals[0]!.status).toBe('won');
    expect(b.stages[1]!.count).toBe(1);
    expect(b.stages[1]!.amounts).toEqual([{ currency: 'CNY', amount_minor: 200 }]);
  });
  it('leaves the board alone for a drop on the same or an unknown stage', () => {
    const b = board();
    expect(moveDeal(b, 'd1', 's1')).toBe(b);
    expect(moveDeal(b, 'd1', 'nope')).toBe(b);
    expect(moveDeal(b, 'nope', 's2')).toBe(b);
  });
});

describe('appendPage', () => {
  it('adds the next page of one stage and its cursor', () => {
    const page: Board = { ...board(), stages: [{ ...board().stages[0]!, deals: [deal('d2', 's1'), deal('d3', 's1')], next_cursor: 'c2' }] };
    const b = appendPage(board(), page);
    expect(b.stages[0]!.deals.map((d) => d.id)).toEqual(['d1', 'd2', 'd3']);
    expect(b.stages[0]!.next_cursor).toBe('c2');
  });
});

describe('close dates', () => {
  it('says how close a close date is', () => {
    expect(closeness('2026-12-06', '2026-12-07')).toBe('past');
    expect(closeness('2026-12-07', '2026-12-07')).toBe('near');
    expect(closeness('2026-12-14', '2026-12-07')).toBe('near');
    expect(closeness('2026-12-15', '2026-12-07')).toBe('later');
    expect(closeness(null, '2026-12-07')).toBe('none');
  });
});
