// The records area: companies, importing and exporting, and duplicates with merging.
// Pages load on demand; only the texts and the menu entry are part of the first download.

import { BankOutlined } from '@ant-design/icons';
import { lazy } from 'react';
import { page } from '../../components/page';
import type { Area } from '../area';
import { en, zhCN } from './texts';

const CompanyList = lazy(() => import('./companies/CompanyList'));
const CompanyCreate = lazy(() => import('./companies/CompanyCreate'));
const CompanyDetail = lazy(() => import('./companies/CompanyDetail'));
const ImportWizard = lazy(() => import('./imports/ImportWizard'));
const ExportPage = lazy(() => import('./exports/ExportPage'));
const Duplicates = lazy(() => import('./duplicates/Duplicates'));

export const records: Area<typeof en> = {
  routes: [
    { path: 'companies', element: page(<CompanyList />) },
    { path: 'companies/new', element: page(<CompanyCreate />) },
    { path: 'companies/:id', element: page(<CompanyDetail />) },
    { path: 'contacts/import', element: page(<ImportWizard />) },
    { path: 'companies/import', element: page(<ImportWizard object="companies" />) },
    { path: 'contacts/export', element: page(<ExportPage />) },
    { path: 'companies/export', element: page(<ExportPage object="companies" />) },
    { path: 'contacts/duplicates', element: page(<Duplicates />) },
  ],
  nav: [{ path: '/companies', icon: <BankOutlined />, label: 'records.nav.companies', order: 20 }],
  texts: { en, 'zh-CN': zhCN },
};
