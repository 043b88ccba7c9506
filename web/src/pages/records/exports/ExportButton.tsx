// A button that exports the list as it is filtered: place it on a list page with that
// list's filters (`<ExportButton resource="contacts" filters={query} />`). It opens a small
// dialog to choose CSV or JSON, runs the export and offers the download. Hidden from
// those whose role may not export.

import { ExportOutlined } from '@ant-design/icons';
import { Button, Modal } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { can, useMe } from '../../../auth/me';
import { ExportPanel, type ExportFilters, type ExportObject } from './ExportPanel';

export function ExportButton({ resource, filters }: { resource: ExportObject; filters?: ExportFilters }) {
  const { t } = useTranslation();
  const { data: me } = useMe();
  const [open, setOpen] = useState(false);
  if (!can(me, resource, 'export')) return null;
  return (
    <>
      <Button icon={<ExportOutlined />} onClick={() => setOpen(true)} data-testid="export-button">
        {t('records.exports.button')}
      </Button>
      <Modal
        open={open}
        onCancel={() => setOpen(false)}
        footer={null}
        destroyOnHidden
        title={resource === 'contacts' ? t('records.exports.title') : t('records.exports.titleCompanies')}
      >
        <ExportPanel object={resource} filters={filters} />
      </Modal>
    </>
  );
}

export default ExportButton;
