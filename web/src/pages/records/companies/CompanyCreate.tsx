// A new company on one short form. While the name is typed, the companies that already
// match it are shown (search by name), each with its owner and last change, so the user
// opens the existing record instead of making a duplicate.

import { Alert, Button, Card, Flex, Form, List, Typography } from 'antd';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate } from 'react-router';
import { api, unwrap } from '../../../api/client';
import { useUserName } from '../../../api/lookups';
import { useReportProblem } from '../../../api/useProblem';
import { formatDate } from '../../../i18n/format';
import { CompanyFields } from './CompanyFields';
import { fromForm, regionText, type CompanyForm, type NewCompany } from './fields';

function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const id = setTimeout(() => setV(value), ms);
    return () => clearTimeout(id);
  }, [value, ms]);
  return v;
}

export default function CompanyCreate() {
  const { t, i18n } = useTranslation();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const report = useReportProblem();
  const userName = useUserName();
  const [form] = Form.useForm<CompanyForm>();
  const [busy, setBusy] = useState(false);
  const typed = Form.useWatch('name', form);
  const name = useDebounced(typed?.trim() ?? '', 350);
  const matches = useQuery({
    queryKey: ['companies', 'matches', name],
    enabled: name.length >= 2,
    queryFn: async () => (await api.GET('/v1/companies', { params: { query: { q: name, limit: 5 } } })).data?.data ?? [],
    placeholderData: (prev) => prev,
  });
  const found = name.length >= 2 ? (matches.data ?? []) : [];

  const submit = async (values: CompanyForm) => {
    setBusy(true);
    try {
      const body = fromForm(values) as NewCompany;
      const created = await unwrap(api.POST('/v1/companies', { body }));
      void queryClient.invalidateQueries({ queryKey: ['companies'] });
      navigate(`/companies/${created.id}`, { replace: true });
    } catch (e) {
      report(e, form);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Flex vertical style={{ maxWidth: 720, margin: '0 auto' }}>
      <Typography.Title level={1} style={{ fontSize: 22 }}>
        {t('records.companies.new')}
      </Typography.Title>
      {found.length > 0 && (
        <Card size="small" style={{ marginBottom: 16, borderColor: '#faad14' }} data-testid="duplicate-warning">
          <Alert
            type="warning"
            showIcon
            title={t('records.companies.duplicatesTitle')}
            description={t('records.companies.duplicatesHelp')}
            style={{ marginBottom: 8 }}
          />
          <List
            size="small"
            dataSource={found}
            renderItem={(x) => (
              <List.Item
                actions={[
                  <Link key="open" to={`/companies/${x.id}`}>
                    {t('common.open')}
                  </Link>,
                ]}
              >
                <List.Item.Meta
                  title={x.name}
                  description={[
                    x.industry,
                    regionText(x.region),
                    `${t('records.companies.owner')}: ${userName(x.owner_id)}`,
                    `${t('records.companies.updated')}: ${formatDate(x.updated_at, i18n.language)}`,
                  ]
                    .filter(Boolean)
                    .join(' · ')}
                />
              </List.Item>
            )}
          />
        </Card>
      )}
      <Card>
        <Form form={form} layout="vertical" requiredMark="optional" initialValues={{ currency: 'CNY' }} onFinish={(v) => void submit(v)}>
          <CompanyFields withOwner />
          <Flex justify="space-between" gap={8}>
            <Button onClick={() => navigate(-1)}>{t('common.cancel')}</Button>
            <Button type="primary" htmlType="submit" loading={busy}>
              {found.length ? t('records.companies.createAnyway') : t('common.create')}
            </Button>
          </Flex>
        </Form>
      </Card>
    </Flex>
  );
}
