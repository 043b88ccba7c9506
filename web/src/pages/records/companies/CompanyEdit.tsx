// Editing a company in a drawer, sent with `If-Match` and holding only the touched fields.
// When someone else saved first (412), the drawer says so, shows what changed meanwhile,
// and lets the user apply their change on top of the latest version, or drop it.

import { App, Button, Drawer, Flex, Form, Grid } from 'antd';
import { useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, ifMatch, unwrap } from '../../../api/client';
import { ApiProblem } from '../../../api/problem';
import { useReportProblem } from '../../../api/useProblem';
import { ConflictView } from '../../../components/ConflictView';
import { CompanyFields } from './CompanyFields';
import { changedFields, display, fromForm, LABELS, patchOf, toForm, type Company, type CompanyForm, type CompanyPatch } from './fields';

interface Conflict {
  latest: Company;
  patch: CompanyPatch;
}

export function CompanyEdit({ company, onClose }: { company: Company; onClose: () => void }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const screens = Grid.useBreakpoint();
  const queryClient = useQueryClient();
  const report = useReportProblem();
  const [form] = Form.useForm<CompanyForm>();
  const [busy, setBusy] = useState(false);
  const [conflict, setConflict] = useState<Conflict | null>(null);

  const save = async (base: Company, patch: CompanyPatch) => {
    setBusy(true);
    try {
      const saved = await unwrap(
        api.PATCH('/v1/companies/{id}', {
          params: { path: { id: base.id }, header: { 'If-Match': ifMatch(base.version) } },
          body: patch,
        }),
      );
      queryClient.setQueryData(['companies', base.id], saved);
      void queryClient.invalidateQueries({ queryKey: ['companies'] });
      void message.success(t('common.saved'));
      onClose();
    } catch (e) {
      if (e instanceof ApiProblem && e.status === 412) {
        const latest = await unwrap(api.GET('/v1/companies/{id}', { params: { path: { id: base.id } } }));
        setConflict({ latest, patch });
      } else {
        report(e, form);
      }
    } finally {
      setBusy(false);
    }
  };

  const submit = (values: CompanyForm) => {
    const edited = fromForm({ ...toForm(company), ...values });
    const patch = patchOf(company, edited);
    if (Object.keys(patch).length === 0) return onClose();
    void save(company, patch);
  };

  return (
    <Drawer
      open
      onClose={onClose}
      title={`${t('common.edit')} · ${company.name ?? ''}`}
      size={screens.md ? 600 : '100%'}
      destroyOnHidden
      footer={
        conflict ? null : (
          <Flex justify="flex-end" gap={8}>
            <Button onClick={onClose}>{t('common.cancel')}</Button>
            <Button type="primary" loading={busy} onClick={() => form.submit()}>
              {t('common.save')}
            </Button>
          </Flex>
        )
      }
    >
      {conflict ? (
        <ConflictView
          title={t('records.companies.conflictTitle')}
          changed={changedFields(company, conflict.latest)}
          mine={conflict.patch}
          theirs={(k) => conflict.latest[k as keyof Company]}
          label={(k) => t(LABELS[k] ?? k, { defaultValue: k })}
          text={(_, v) => display(v)}
          busy={busy}
          onReapply={() => void save(conflict.latest, conflict.patch)}
          onDiscard={() => {
            void queryClient.invalidateQueries({ queryKey: ['companies', company.id] });
            onClose();
          }}
        />
      ) : (
        <Form form={form} layout="vertical" initialValues={toForm(company)} onFinish={submit} requiredMark="optional">
          <CompanyFields />
        </Form>
      )}
    </Drawer>
  );
}
