// The custom objects the company defined, each under its label in the reader's language,
// opening its record list; an empty state says how an administrator defines one.

import { AppstoreAddOutlined } from '@ant-design/icons';
import { Card, Col, Empty, Result, Row, Skeleton, Typography } from 'antd';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { useProblemText } from '../../api/useProblem';
import { activeFields, labelOf, useObjects } from './definitions';

export default function ObjectsHome() {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const problemText = useProblemText();
  const objects = useObjects();

  if (objects.isLoading) return <Skeleton active />;
  if (objects.isError) return <Result status="error" title={problemText(objects.error)} />;
  const list = objects.data ?? [];
  return (
    <>
      <Typography.Title level={1} style={{ fontSize: 22, margin: '0 0 4px' }}>
        {t('objects.home.title')}
      </Typography.Title>
      <Typography.Paragraph type="secondary">{t('objects.home.help')}</Typography.Paragraph>
      {list.length === 0 ? (
        <Card>
          <Empty
            image={<AppstoreAddOutlined style={{ fontSize: 48, color: '#8c8c8c' }} />}
            description={
              <>
                <Typography.Paragraph strong>{t('objects.home.empty')}</Typography.Paragraph>
                <Typography.Paragraph type="secondary" style={{ maxWidth: 520, margin: '0 auto' }} data-testid="objects-empty">
                  {t('objects.home.emptyHelp')}
                </Typography.Paragraph>
              </>
            }
          />
        </Card>
      ) : (
        <Row gutter={[16, 16]} data-testid="object-cards">
          {list.map((o) => {
            const plural = labelOf(o.plural_label, lang) || labelOf(o.label, lang);
            return (
              <Col key={o.key} xs={24} sm={12} lg={8} xl={6}>
                <Link to={`/objects/${o.key}`}>
                  <Card hoverable size="small">
                    <Typography.Title level={2} style={{ fontSize: 17, margin: 0 }}>
                      {plural}
                    </Typography.Title>
                    {o.description && (
                      <Typography.Paragraph type="secondary" ellipsis={{ rows: 2 }} style={{ margin: '4px 0 0' }}>
                        {o.description}
                      </Typography.Paragraph>
                    )}
                    <Typography.Text type="secondary">{t('objects.home.fields', { count: activeFields(o).length })}</Typography.Text>
                  </Card>
                </Link>
              </Col>
            );
          })}
        </Row>
      )}
    </>
  );
}
