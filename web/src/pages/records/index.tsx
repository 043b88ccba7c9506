// The records area: companies, importing and exporting, and duplicates with merging.

import type { Area } from '../area';

const en = {};

export const records: Area<typeof en> = {
  routes: [],
  nav: [],
  texts: { en, 'zh-CN': {} },
};
