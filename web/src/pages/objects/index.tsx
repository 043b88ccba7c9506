// The custom objects area: the objects a company defined for itself, their record lists,
// forms and pages. Pages load on demand; only the texts and the menu entry are part of the
// first download.

import { AppstoreAddOutlined } from '@ant-design/icons';
import { lazy } from 'react';
import { page } from '../../components/page';
import type { Area } from '../area';
import { en, zhCN } from './texts';

const ObjectsHome = lazy(() => import('./ObjectsHome'));
const RecordList = lazy(() => import('./RecordList'));
const RecordDetail = lazy(() => import('./RecordDetail'));
const ObjectImport = lazy(() => import('./ObjectImport'));

export const objects: Area<typeof en> = {
  routes: [
    { path: 'objects', element: page(<ObjectsHome />) },
    { path: 'objects/:key', element: page(<RecordList />) },
    { path: 'objects/:key/import', element: page(<ObjectImport />) },
    { path: 'objects/:key/:id', element: page(<RecordDetail />) },
  ],
  nav: [{ path: '/objects', icon: <AppstoreAddOutlined />, label: 'objects.nav.objects', order: 70 }],
  texts: { en, 'zh-CN': zhCN },
};
