// Editing a record in a drawer (a contact, a company, a custom object's record). The change
// holds only the fields the user touched and is sent with `If-Match` (the version they
// started from). When someone else saved first (412), the drawer reads the latest version
// and shows the conflict (ConflictView): apply the change on top of it, or drop it.

import { App, Button, Drawer, Flex, Form, Grid } from 'antd';
import { useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiProblem } from '../api/problem';
import { useReportProblem } from '../api/useProblem';

export interface Conflict<R, P> {
  latest: R;
  patch: P;
}

/** What the conflict view's buttons do. */
export interface ConflictActions {
  busy: boolean;
  onReapply: () => void;
  onDiscard: () => void;
}

export function EditDrawer<R extends { id: string }, P extends object, V extends object>({
  title,
  width,
  original,
  initialValues,
  patchOf,
  send,
  reload,
  onSaved,
  onDiscard,
  conflictView,
  children,
  onClose,
}: {
  title: string;
  /** The drawer's width on a wide screen (a phone's is the whole screen). */
  width: number;
  original: R;
  initialValues: V;
  /** The change the form's values make to `original`; empty when there is none. */
  patchOf: (values: V) => P;
  /** Sends the change to `base`, with `If-Match: base.version`. */
  send: (base: R, patch: P) => Promise<R>;
  /** The latest version, after a 412. */
  reload: (id: string) => Promise<R>;
  /** What a save changes in the cache. */
  onSaved: (saved: R) => void;
  /** What dropping the change after a conflict does (the page shows the latest version). */
  onDiscard: (latest: R) => void;
  conflictView: (conflict: Conflict<R, P>, actions: ConflictActions) => ReactNode;
  /** The form's fields. */
  children: ReactNode;
  onClose: () => void;
}) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const screens = Grid.useBreakpoint();
  const report = useReportProblem();
  const [form] = Form.useForm<V>();
  const [busy, setBusy] = useState(false);
  const [conflict, setConflict] = useState<Conflict<R, P> | null>(null);

  const save = async (base: R, patch: P) => {
    setBusy(true);
    try {
      onSaved(await send(base, patch));
      void message.success(t('common.saved'));
      onClose();
    } catch (e) {
      if (e instanceof ApiProblem && e.status === 412) {
        try {
          setConflict({ latest: await reload(base.id), patch });
        } catch (again) {
          report(again);
        }
      } else {
        report(e, form);
      }
    } finally {
      setBusy(false);
    }
  };

  const submit = (values: V) => {
    const patch = patchOf(values);
    if (Object.keys(patch).length === 0) return onClose();
    void save(original, patch);
  };

  return (
    <Drawer
      open
      onClose={onClose}
      title={title}
      size={screens.md ? width : '100%'}
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
        conflictView(conflict, {
          busy,
          onReapply: () => void save(conflict.latest, conflict.patch),
          onDiscard: () => {
            onDiscard(conflict.latest);
            onClose();
          },
        })
      ) : (
        <Form form={form} layout="vertical" initialValues={initialValues} onFinish={submit} requiredMark="optional">
          {children}
        </Form>
      )}
    </Drawer>
  );
}
