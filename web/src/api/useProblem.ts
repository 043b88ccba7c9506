// Shows API problems in the reader's language: the message comes from the problem's stable
// `type`; the server's `detail` is kept as a second line when it says more.

import { App, type FormInstance } from 'antd';
import { useTranslation } from 'react-i18next';
import { useCallback } from 'react';
import { ApiProblem, fieldPath } from './problem';

export function useProblemText() {
  const { t } = useTranslation();
  return useCallback(
    (error: unknown): string => {
      if (error instanceof ApiProblem) {
        return t(`problems.${error.code}`, { defaultValue: error.problem.detail || t('problems.unexpected') });
      }
      return t('problems.unexpected');
    },
    [t],
  );
}

/** A hook that reports a failed action: marks the form's offending fields, and says what
 * went wrong in a message. */
export function useReportProblem() {
  const { message } = App.useApp();
  const text = useProblemText();
  return useCallback(
    (error: unknown, form?: FormInstance) => {
      if (form && error instanceof ApiProblem && error.problem.errors?.length) {
        const known = new Set(
          Object.keys(form.getFieldsValue(true) as Record<string, unknown>),
        );
        const fields = error.problem.errors
          .map((e) => ({ name: fieldPath(e.field), errors: [e.message] }))
          .filter((f) => known.has(String(f.name[0])));
        if (fields.length) form.setFields(fields);
      }
      void message.error(text(error));
    },
    [message, text],
  );
}
