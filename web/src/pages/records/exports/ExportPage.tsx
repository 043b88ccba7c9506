// The export as a page: /contacts/export?<the list's own URL parameters> exports what that
// list shows (a link from the list with its current query string is all it needs).

import { Card, Flex, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import { useSearchParams } from 'react-router';
import { ExportPanel, filtersFromParams, type ExportObject } from './ExportPanel';

export default function ExportPage({ object = 'contacts' }: { object?: ExportObject }) {
  const { t } = useTranslation();
  const [params] = useSearchParams();
  return (
    <Flex vertical style={{ maxWidth: 720, margin: '0 auto' }}>
      <Typography.Title level={1} style={{ fontSize: 22 }}>
        {object === 'contacts' ? t('records.exports.title') : t('records.exports.titleCompanies')}
      </Typography.Title>
      <Card>
        <ExportPanel object={object} filters={filtersFromParams(params)} />
      </Card>
    </Flex>
  );
}
