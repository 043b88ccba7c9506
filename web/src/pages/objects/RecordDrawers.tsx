// Creating and editing a record of a custom object in a drawer. An edit sends only what the
// user changed, with `If-Match` (the version they started from); when someone else saved
// first (412) the drawer shows what changed meanwhile next to the user's change, and lets
// them apply it on top or drop it, as the contact pages do.

import { App, Button, Drawer, Flex, Form, Grid } from 'antd';
import { useQueryClient } from '@tanstack/react-query';
import { useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router';
import { api, ifMatch, unwrap } from '../../api/client';
import { useUserName } from '../../api/lookups';
import { useReportProblem } from '../../api/useProblem';
import { useMe } from '../../auth/me';
import { ConflictView } from '../../components/ConflictView';
import { EditDrawer, type Conflict, type ConflictActions } from '../../components/EditDrawer';
import { activeFields, labelOf, type ObjectDefinition, type ObjectRecord } from './definitions';
import { ObjectFields, useFieldAccess } from './ObjectFields';
import { valueText } from './ObjectValue';
import { changedKeys, newRecordBody, patchOf, toForm, type FormValues, type RecordPatch } from './values';

function useDrawerSize() {
  const screens = Grid.useBreakpoint();
  return screens.md ? 560 : '100%';
}

export function CreateRecord({
  object,
  prefill,
  onClose,
}: {
  object: ObjectDefinition;
  /** Values to start from (a relation to the record the user came from). */
  prefill?: Record<string, string>;
  onClose: () => void;
}) {
  const { t, i18n } = useTranslation();
  const { message } = App.useApp();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const report = useReportProblem();
  const size = useDrawerSize();
  const [form] = Form.useForm<FormValues>();
  const [busy, setBusy] = useState<'one' | 'another' | null>(null);
  // Which button submitted: a ref, read when the form's checks are done.
  const another = useRef(false);
  const label = labelOf(object.label, i18n.language);
  const fields = activeFields(object);
  const { data: me } = useMe();
  // The caller owns a new record unless they pick someone else.
  const initial = { owner_id: me?.user.id, custom: { ...prefill } };

  const submit = async (values: FormValues) => {
    setBusy(another.current ? 'another' : 'one');
    try {
      const created = await unwrap(
        api.POST('/v1/objects/{key}/records', {
          params: { path: { key: object.key } },
          body: newRecordBody(values, fields) as never,
        }),
      );
      void queryClient.invalidateQueries({ queryKey: ['objects', object.key] });
      void queryClient.invalidateQueries({ queryKey: ['objects', 'related'] });
      void message.success(t('common.created'));
      if (another.current) {
        form.resetFields();
      } else {
        onClose();
        navigate(`/objects/${object.key}/${created.id}`);
      }
    } catch (e) {
      report(e, form);
    } finally {
      setBusy(null);
    }
  };

  return (
    <Drawer
      open
      onClose={onClose}
      title={t('objects.record.newTitle', { label })}
      size={size}
      destroyOnHidden
      footer={
        <Flex justify="flex-end" gap={8} wrap>
          <Button onClick={onClose}>{t('common.cancel')}</Button>
          <Button
            loading={busy === 'another'}
            onClick={() => {
              another.current = true;
              form.submit();
            }}
          >
            {t('objects.record.createAnother')}
          </Button>
          <Button
            type="primary"
            loading={busy === 'one'}
            onClick={() => {
              another.current = false;
              form.submit();
            }}
          >
            {t('common.create')}
          </Button>
        </Flex>
      }
    >
      <Form form={form} layout="vertical" initialValues={initial} onFinish={submit} requiredMark="optional">
        <ObjectFields object={object} editing={false} />
      </Form>
    </Drawer>
  );
}

export function EditRecord({
  object,
  record,
  onClose,
}: {
  object: ObjectDefinition;
  record: ObjectRecord;
  onClose: () => void;
}) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const access = useFieldAccess(object.key);
  const fields = activeFields(object);
  const queryKey = ['objects', object.key, 'records', record.id];

  return (
    <EditDrawer
      title={t('objects.record.editTitle', { name: record.name ?? '' })}
      width={560}
      original={record}
      initialValues={toForm(record, fields)}
      patchOf={(values: FormValues) => patchOf(record, values, fields, access.writable)}
      send={(base, patch) =>
        unwrap(
          api.PATCH('/v1/objects/{key}/records/{id}', {
            params: { path: { key: object.key, id: base.id }, header: { 'If-Match': ifMatch(base.version) } },
            body: patch as never,
          }),
        )
      }
      reload={(id) => unwrap(api.GET('/v1/objects/{key}/records/{id}', { params: { path: { key: object.key, id } } }))}
      onSaved={(saved) => {
        queryClient.setQueryData(queryKey, saved);
        void queryClient.invalidateQueries({ queryKey: ['objects', object.key, 'list'] });
        void queryClient.invalidateQueries({ queryKey: ['objects', 'related'] });
        void queryClient.invalidateQueries({ queryKey: [...queryKey, 'timeline'] });
      }}
      onDiscard={(latest) => queryClient.setQueryData(queryKey, latest)}
      conflictView={(conflict, actions) => (
        <RecordConflict object={object} original={record} conflict={conflict} {...actions} />
      )}
      onClose={onClose}
    >
      <ObjectFields object={object} editing />
    </EditDrawer>
  );
}

/** Each field either side changed: what is saved now next to the user's own change. */
function RecordConflict({
  object,
  original,
  conflict,
  busy,
  onReapply,
  onDiscard,
}: {
  object: ObjectDefinition;
  original: ObjectRecord;
  conflict: Conflict<ObjectRecord, RecordPatch>;
} & ConflictActions) {
  const { t, i18n } = useTranslation();
  const userName = useUserName();
  const fields = activeFields(object);
  // The name, the owner and each custom value, side by side as one list of fields.
  const mine: Record<string, unknown> = {
    ...(conflict.patch.custom ?? {}),
    ...('name' in conflict.patch ? { name: conflict.patch.name } : {}),
    ...('owner_id' in conflict.patch ? { owner_id: conflict.patch.owner_id } : {}),
  };
  const latestCustom = (conflict.latest.custom ?? {}) as Record<string, unknown>;
  const text = (k: string, v: unknown) => {
    if (k === 'name') return v ? String(v) : '—';
    if (k === 'owner_id') return v ? userName(String(v)) : '—';
    const f = fields.find((x) => x.key === k);
    return f ? valueText(f, v, i18n.language, t) : String(v ?? '—');
  };
  const label = (k: string) =>
    k === 'name' ? t('objects.record.name') : k === 'owner_id' ? t('objects.record.owner') : (fields.find((f) => f.key === k)?.label ?? k);
  const theirs = (k: string) =>
    k === 'name' ? conflict.latest.name : k === 'owner_id' ? conflict.latest.owner_id : latestCustom[k];
  return (
    <ConflictView
      title={t('objects.record.conflictTitle')}
      changed={changedKeys(original, conflict.latest, fields)}
      mine={mine}
      theirs={theirs}
      label={label}
      text={text}
      busy={busy}
      onReapply={onReapply}
      onDiscard={onDiscard}
    />
  );
}
