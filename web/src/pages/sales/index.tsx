// The sales area: deals (board per pipeline, deal page, pipeline settings), to-dos,
// products and orders.

import type { Area } from '../area';

const en = {};

export const sales: Area<typeof en> = {
  routes: [],
  nav: [],
  texts: { en, 'zh-CN': {} },
};
