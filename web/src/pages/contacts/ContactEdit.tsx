// Editing a contact in a drawer (the shared EditDrawer): only the fields the user touched,
// sent with `If-Match`; when someone else saved first (412), what changed meanwhile, to apply
// the change on top of or drop.

import { useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api, ifMatch, unwrap } from '../../api/client';
import { ConflictView } from '../../components/ConflictView';
import { EditDrawer } from '../../components/EditDrawer';
import { cleanValues, ContactFields } from './ContactFields';
import { changedFields, display, EDITABLE, isMasked, LABELS, patchOf, type Contact } from './fields';

function formValues(c: Contact) {
  const v: Record<string, unknown> = {};
  for (const k of EDITABLE) {
    if (k in c && !isMasked(c[k])) v[k] = c[k];
  }
  return v;
}

export function ContactEdit({ contact, onClose }: { contact: Contact; onClose: () => void }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  return (
    <EditDrawer
      title={`${t('common.edit')} · ${contact.name ?? ''}`}
      width={560}
      original={contact}
      initialValues={formValues(contact)}
      patchOf={(values) => patchOf(contact, cleanValues({ ...formValues(contact), ...values }) as Partial<Contact>)}
      send={(base, patch) =>
        unwrap(
          api.PATCH('/v1/contacts/{id}', {
            params: { path: { id: base.id }, header: { 'If-Match': ifMatch(base.version) } },
            body: patch,
          }),
        )
      }
      reload={(id) => unwrap(api.GET('/v1/contacts/{id}', { params: { path: { id } } }))}
      onSaved={(saved) => {
        queryClient.setQueryData(['contacts', saved.id, { reveal: false }], saved);
        void queryClient.invalidateQueries({ queryKey: ['contacts'] });
      }}
      onDiscard={() => void queryClient.invalidateQueries({ queryKey: ['contacts', contact.id] })}
      conflictView={(conflict, actions) => (
        <ConflictView
          title={t('contacts.conflictTitle')}
          changed={changedFields(contact, conflict.latest)}
          mine={conflict.patch}
          theirs={(k) => conflict.latest[k as keyof Contact]}
          label={(k) => t(LABELS[k] ?? k, { defaultValue: k })}
          text={(_, v) => display(v)}
          {...actions}
        />
      )}
      onClose={onClose}
    >
      <ContactFields sections={['who', 'reach', 'more']} />
    </EditDrawer>
  );
}
