// Editing a contact in a drawer. The change is sent with `If-Match` (the version the user
// started from) and holds only the fields they touched. When someone else saved first
// (412), the drawer shows what changed meanwhile and lets the user apply their change on
// top of it, or drop it.

import { App, Button, Drawer, Flex, Form, Grid } from 'antd';
import { useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, ifMatch, unwrap } from '../../api/client';
import { ApiProblem } from '../../api/problem';
import { useReportProblem } from '../../api/useProblem';
import { ConflictView } from '../../components/ConflictView';
import { cleanValues, ContactFields } from './ContactFields';
import { changedFields, display, EDITABLE, isMasked, LABELS, patchOf, type Contact, type ContactPatch } from './fields';

interface Conflict {
  latest: Contact;
  patch: ContactPatch;
}

function formValues(c: Contact) {
  const v: Record<string, unknown> = {};
  for (const k of EDITABLE) {
    if (k in c && !isMasked(c[k])) v[k] = c[k];
  }
  return v;
}

export function ContactEdit({ contact, onClose }: { contact: Contact; onClose: () => void }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const screens = Grid.useBreakpoint();
  const queryClient = useQueryClient();
  const report = useReportProblem();
  const [form] = Form.useForm();
  const [busy, setBusy] = useState(false);
  const [conflict, setConflict] = useState<Conflict | null>(null);

  const save = async (base: Contact, patch: ContactPatch) => {
    setBusy(true);
    try {
      const saved = await unwrap(
        api.PATCH('/v1/contacts/{id}', {
          params: { path: { id: base.id }, header: { 'If-Match': ifMatch(base.version) } },
          body: patch,
        }),
      );
      queryClient.setQueryData(['contacts', base.id, { reveal: false }], saved);
      void queryClient.invalidateQueries({ queryKey: ['contacts'] });
      void message.success(t('common.saved'));
      onClose();
    } catch (e) {
      if (e instanceof ApiProblem && e.status === 412) {
        const latest = await unwrap(api.GET('/v1/contacts/{id}', { params: { path: { id: base.id } } }));
        setConflict({ latest, patch });
      } else {
        report(e, form);
      }
    } finally {
      setBusy(false);
    }
  };

  const submit = (values: Record<string, unknown>) => {
    const edited = cleanValues({ ...formValues(contact), ...values });
    const patch = patchOf(contact, edited as Partial<Contact>);
    if (Object.keys(patch).length === 0) return onClose();
    void save(contact, patch);
  };

  return (
    <Drawer
      open
      onClose={onClose}
      title={`${t('common.edit')} · ${contact.name ?? ''}`}
      size={screens.md ? 560 : '100%'}
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
          title={t('contacts.conflictTitle')}
          changed={changedFields(contact, conflict.latest)}
          mine={conflict.patch}
          theirs={(k) => conflict.latest[k as keyof Contact]}
          label={(k) => t(LABELS[k] ?? k, { defaultValue: k })}
          text={(_, v) => display(v)}
          busy={busy}
          onReapply={() => void save(conflict.latest, conflict.patch)}
          onDiscard={() => {
            void queryClient.invalidateQueries({ queryKey: ['contacts', contact.id] });
            onClose();
          }}
        />
      ) : (
        <Form form={form} layout="vertical" initialValues={formValues(contact)} onFinish={submit} requiredMark="optional">
          <ContactFields sections={['who', 'reach', 'more']} />
        </Form>
      )}
    </Drawer>
  );
}
