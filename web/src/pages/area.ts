// What an area of the console (sales, records, …) adds to the app: its routes under the
// signed-in frame, its menu entries and its texts in both languages.

import type { ReactNode } from 'react';
import type { RouteObject } from 'react-router';

export interface NavEntry {
  /** The path the entry opens; also what marks it selected. */
  path: string;
  icon: ReactNode;
  /** An i18n key. */
  label: string;
  /** Position in the menu (workbench 0, contacts 10, companies 20, deals 30, to-dos 40, orders 50, products 60). */
  order: number;
}

export interface Area<T> {
  routes: RouteObject[];
  nav: NavEntry[];
  /** Texts under the area's namespace key; zh-CN must have the same keys as en. */
  texts: { en: T; 'zh-CN': T };
}

type Widen<T> = { [K in keyof T]: T[K] extends string ? string : Widen<T[K]> };
export type SameKeys<T> = Widen<T>;
