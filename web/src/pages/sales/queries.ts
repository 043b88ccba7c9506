// Server state the sales pages share: pipelines, the board, products.

import { useQuery } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client';

export function usePipelines() {
  return useQuery({
    queryKey: ['pipelines'],
    queryFn: () => unwrap(api.GET('/v1/pipelines')),
    select: (page) => page.data,
    staleTime: 60_000,
  });
}

/** A pipeline's board, per filter; without a filter, the prefix of all of them. */
export function boardKey(pipelineId: string, filter?: object) {
  return filter ? (['deals', 'board', pipelineId, filter] as const) : (['deals', 'board', pipelineId] as const);
}

export function useProducts(activeOnly = false) {
  return useQuery({
    queryKey: ['products', { activeOnly }],
    queryFn: async () => {
      const all = [];
      let cursor: string | undefined;
      for (let i = 0; i < 20; i++) {
        const page = await unwrap(
          api.GET('/v1/products', { params: { query: { limit: 200, cursor, active: activeOnly ? true : undefined } } }),
        );
        all.push(...page.data);
        if (!page.next_cursor) break;
        cursor = page.next_cursor;
      }
      return all;
    },
    retry: false,
  });
}

/** The browser's UTC offset as the API wants it, e.g. `+08:00`. */
export function utcOffset(date = new Date()): string {
  const minutes = -date.getTimezoneOffset();
  const sign = minutes >= 0 ? '+' : '-';
  const abs = Math.abs(minutes);
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

export const CURRENCIES = ['CNY', 'USD', 'EUR', 'HKD', 'JPY', 'GBP', 'SGD', 'TWD', 'KRW', 'AUD'];
