// Joining by invitation: the link from the mail (`?token=`), a name and a password.

import { Alert, Button, Form, Input, Typography } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { api, unwrap } from '../../api/client';
import { useProblemText, useReportProblem } from '../../api/useProblem';
import { signedIn, type TokenAnswer } from '../../auth/session';
import { applyUserLanguage } from '../../auth/language';
import { AuthFrame } from './AuthFrame';

export default function AcceptInvitation() {
  const { t } = useTranslation();
  const [params] = useSearchParams();
  const token = params.get('token');
  const navigate = useNavigate();
  const problemText = useProblemText();
  const report = useReportProblem();
  const [form] = Form.useForm();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = async (v: { name?: string; password: string }) => {
    if (!token) return;
    setBusy(true);
    setError(null);
    try {
      const tokens = await unwrap(
        api.POST('/v1/invitations/accept', {
          body: { token, password: v.password, name: v.name || null, refresh_token_delivery: 'cookie' },
        }),
      );
      signedIn(tokens as TokenAnswer);
      await applyUserLanguage();
      navigate('/', { replace: true });
    } catch (e) {
      report(e, form);
      setError(problemText(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <AuthFrame title={t('auth.inviteTitle')}>
      {!token ? (
        <Alert type="warning" title={t('auth.missingToken')} showIcon />
      ) : (
        <>
          <Typography.Paragraph type="secondary">{t('auth.inviteHelp')}</Typography.Paragraph>
          {error && <Alert type="error" title={error} showIcon style={{ marginBottom: 16 }} role="alert" />}
          <Form form={form} layout="vertical" onFinish={submit} requiredMark={false}>
            <Form.Item name="name" label={t('auth.name')}>
              <Input autoComplete="name" maxLength={200} autoFocus />
            </Form.Item>
            <Form.Item
              name="password"
              label={t('auth.password')}
              extra={t('auth.passwordHint')}
              rules={[{ required: true, message: t('common.required') }]}
            >
              <Input.Password autoComplete="new-password" maxLength={128} />
            </Form.Item>
            <Button type="primary" htmlType="submit" block loading={busy}>
              {t('auth.inviteAccept')}
            </Button>
          </Form>
        </>
      )}
      <Typography.Paragraph style={{ marginTop: 16, marginBottom: 0 }}>
        <Link to="/login">{t('auth.backToLogin')}</Link>
      </Typography.Paragraph>
    </AuthFrame>
  );
}
