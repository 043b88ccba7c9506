// Password reset: ask for a link; the link from the mail (`?token=`) sets the new password.

import { Alert, Button, Form, Input, Typography } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useSearchParams } from 'react-router';
import { api, unwrap } from '../../api/client';
import { useProblemText, useReportProblem } from '../../api/useProblem';
import { AuthFrame } from './AuthFrame';

export default function PasswordReset() {
  const { t } = useTranslation();
  const [params] = useSearchParams();
  const token = params.get('token');
  const problemText = useProblemText();
  const report = useReportProblem();
  const [form] = Form.useForm();
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);

  const run = async (work: () => Promise<unknown>, success: string) => {
    setBusy(true);
    setError(null);
    try {
      await work();
      setDone(success);
    } catch (e) {
      report(e, form);
      setError(problemText(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <AuthFrame title={t('auth.resetTitle')}>
      {done ? (
        <Alert type="success" title={done} showIcon />
      ) : (
        <>
          {error && <Alert type="error" title={error} showIcon style={{ marginBottom: 16 }} role="alert" />}
          {token ? (
            <Form
              form={form}
              layout="vertical"
              requiredMark={false}
              onFinish={(v: { new_password: string }) =>
                run(
                  () => unwrap(api.POST('/v1/auth/password-reset/confirm', { body: { token, new_password: v.new_password } })),
                  t('auth.resetDone'),
                )
              }
            >
              <Form.Item
                name="new_password"
                label={t('auth.newPassword')}
                extra={t('auth.passwordHint')}
                rules={[{ required: true, message: t('common.required') }]}
              >
                <Input.Password autoComplete="new-password" maxLength={128} autoFocus />
              </Form.Item>
              <Button type="primary" htmlType="submit" block loading={busy}>
                {t('auth.resetConfirm')}
              </Button>
            </Form>
          ) : (
            <Form
              form={form}
              layout="vertical"
              requiredMark={false}
              onFinish={(v: { email: string }) =>
                run(() => unwrap(api.POST('/v1/auth/password-reset', { body: { email: v.email } })), t('auth.resetSent'))
              }
            >
              <Typography.Paragraph type="secondary">{t('auth.resetHelp')}</Typography.Paragraph>
              <Form.Item name="email" label={t('auth.email')} rules={[{ required: true, message: t('common.required') }]}>
                <Input type="email" autoComplete="email" autoFocus />
              </Form.Item>
              <Button type="primary" htmlType="submit" block loading={busy}>
                {t('auth.resetSend')}
              </Button>
            </Form>
          )}
        </>
      )}
      <Typography.Paragraph style={{ marginTop: 16, marginBottom: 0 }}>
        <Link to="/login">{t('auth.backToLogin')}</Link>
      </Typography.Paragraph>
    </AuthFrame>
  );
}
