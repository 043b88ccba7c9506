// Editing a company in a drawer (the shared EditDrawer): only the touched fields, sent with
// `If-Match`; when someone else saved first (412), the drawer says so, shows what changed
// meanwhile, and lets the user apply their change on top of the latest version, or drop it.

import { useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api, ifMatch, unwrap } from '../../../api/client';
import { ConflictView } from '../../../components/ConflictView';
import { EditDrawer } from '../../../components/EditDrawer';
import { CompanyFields } from './CompanyFields';
import { changedFields, display, fromForm, LABELS, patchOf, toForm, type Company, type CompanyForm } from './fields';

export function CompanyEdit({ company, onClose }: { company: Company; onClose: () => void }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  return (
    <EditDrawer
      title={`${t('common.edit')} · ${company.name ?? ''}`}
      width={600}
      original={company}
      initialValues={toForm(company)}
      patchOf={(values: CompanyForm) => patchOf(company, fromForm({ ...toForm(company), ...values }))}
      send={(base, patch) =>
        unwrap(
          api.PATCH('/v1/companies/{id}', {
            params: { path: { id: base.id }, header: { 'If-Match': ifMatch(base.version) } },
            body: patch,
          }),
        )
      }
      reload={(id) => unwrap(api.GET('/v1/companies/{id}', { params: { path: { id } } }))}
      onSaved={(saved) => {
        queryClient.setQueryData(['companies', saved.id], saved);
        void queryClient.invalidateQueries({ queryKey: ['companies'] });
      }}
      onDiscard={() => void queryClient.invalidateQueries({ queryKey: ['companies', company.id] })}
      conflictView={(conflict, actions) => (
        <ConflictView
          title={t('records.companies.conflictTitle')}
          changed={changedFields(company, conflict.latest)}
          mine={conflict.patch}
          theirs={(k) => conflict.latest[k as keyof Company]}
          label={(k) => t(LABELS[k] ?? k, { defaultValue: k })}
          text={(_, v) => display(v)}
          {...actions}
        />
      )}
      onClose={onClose}
    >
      <CompanyFields />
    </EditDrawer>
  );
}
