// The sales area: deals (board per pipeline, deal page, pipeline settings), to-dos,
// products and orders. Pages load on demand.

import { CheckSquareOutlined, FundProjectionScreenOutlined, ShoppingCartOutlined, ShoppingOutlined } from '@ant-design/icons';
import { lazy } from 'react';
import { page } from '../../components/page';
import type { Area } from '../area';
import { en, zhCN } from './texts';

const DealBoard = lazy(() => import('./DealBoard'));
const DealDetail = lazy(() => import('./DealDetail'));
const PipelineSettings = lazy(() => import('./PipelineSettings'));
const Tasks = lazy(() => import('./Tasks'));
const Products = lazy(() => import('./Products'));
const Orders = lazy(() => import('./Orders'));
const OrderEditor = lazy(() => import('./OrderEditor'));

export const sales: Area<typeof en> = {
  routes: [
    { path: 'deals', element: page(<DealBoard />) },
    { path: 'deals/pipelines', element: page(<PipelineSettings />) },
    { path: 'deals/:id', element: page(<DealDetail />) },
    { path: 'tasks', element: page(<Tasks />) },
    { path: 'products', element: page(<Products />) },
    { path: 'orders', element: page(<Orders />) },
    { path: 'orders/new', element: page(<OrderEditor />) },
    { path: 'orders/:id', element: page(<OrderEditor />) },
  ],
  nav: [
    { path: '/deals', icon: <FundProjectionScreenOutlined />, label: 'sales.nav.deals', order: 30 },
    { path: '/tasks', icon: <CheckSquareOutlined />, label: 'sales.nav.tasks', order: 40 },
    { path: '/orders', icon: <ShoppingCartOutlined />, label: 'sales.nav.orders', order: 50 },
    { path: '/products', icon: <ShoppingOutlined />, label: 'sales.nav.products', order: 60 },
  ],
  texts: { en, 'zh-CN': zhCN },
};
