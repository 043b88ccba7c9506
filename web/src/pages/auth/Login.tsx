// Sign in: email and password, then the second factor when the user has one, and the
// company when the email belongs to several.

import { Alert, Button, Form, Input, Radio, Space, Typography } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useSearchParams } from 'react-router';
import { api, unwrap } from '../../api/client';
import { ApiProblem } from '../../api/problem';
import { useProblemText } from '../../api/useProblem';
import { signedIn, type TokenAnswer } from '../../auth/session';
import { applyUserLanguage } from '../../auth/language';
import { AuthFrame } from './AuthFrame';

interface Credentials {
  email: string;
  password: string;
}

interface Company {
  tenant_id: string;
  company_name: string;
}

/** Only same-site paths: `next` must never send the user to another site. */
export function safeNext(next: string | null): string {
  return next && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\') ? next : '/';
}

export default function Login() {
  const { t } = useTranslation();
  const problemText = useProblemText();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [mfaToken, setMfaToken] = useState<string | null>(null);
  const [companies, setCompanies] = useState<Company[] | null>(null);
  const [tenantId, setTenantId] = useState<string | undefined>();
  const [form] = Form.useForm<Credentials>();
  const [mfaForm] = Form.useForm<{ code: string }>();

  const done = async (tokens: TokenAnswer) => {
    signedIn(tokens);
    await applyUserLanguage();
    navigate(safeNext(params.get('next')), { replace: true });
  };

  const login = async (values: Credentials) => {
    setBusy(true);
    setError(null);
    try {
      const answer = await unwrap(
        api.POST('/v1/auth/login', {
          body: { ...values, tenant_id: tenantId ?? null, refresh_token_delivery: 'cookie' },
        }),
      );
      if ('mfa_required' in answer && answer.mfa_required) {
        setMfaToken(answer.mfa_token);
      } else {
        await done(answer as TokenAnswer);
      }
    } catch (e) {
      if (e instanceof ApiProblem && e.code === 'tenant-selection-required') {
        const list = (e.problem.tenants as Company[] | undefined) ?? [];
        setCompanies(list);
        setTenantId(list[0]?.tenant_id);
      } else {
        setError(problemText(e));
      }
    } finally {
      setBusy(false);
    }
  };

  const verify = async ({ code }: { code: string }) => {
    if (!mfaToken) return;
    setBusy(true);
    setError(null);
    try {
      const tokens = await unwrap(
        api.POST('/v1/auth/mfa', {
          body: { mfa_token: mfaToken, code: code.trim(), refresh_token_delivery: 'cookie' },
        }),
      );
      await done(tokens as TokenAnswer);
    } catch (e) {
      if (e instanceof ApiProblem && e.problem.errors?.some((f) => f.field === 'code')) {
        mfaForm.setFields([{ name: 'code', errors: [t('auth.mfaWrong')] }]);
      } else {
        setError(problemText(e));
      }
    } finally {
      setBusy(false);
    }
  };

  if (mfaToken) {
    return (
      <AuthFrame title={t('auth.mfaTitle')}>
        <Typography.Paragraph type="secondary">{t('auth.mfaHelp')}</Typography.Paragraph>
        {error && <Alert type="error" title={error} showIcon style={{ marginBottom: 16 }} />}
        <Form form={mfaForm} layout="vertical" onFinish={verify} requiredMark={false}>
          <Form.Item name="code" label={t('auth.mfaCode')} rules={[{ required: true, message: t('common.required') }]}>
            <Input autoComplete="one-time-code" inputMode="numeric" autoFocus maxLength={64} />
          </Form.Item>
          <Button type="primary" htmlType="submit" block loading={busy}>
            {t('auth.verify')}
          </Button>
        </Form>
      </AuthFrame>
    );
  }

  return (
    <AuthFrame title={t('auth.loginTitle')}>
      {error && <Alert type="error" title={error} showIcon style={{ marginBottom: 16 }} role="alert" />}
      <Form form={form} layout="vertical" onFinish={login} requiredMark={false}>
        <Form.Item name="email" label={t('auth.email')} rules={[{ required: true, message: t('common.required') }]}>
          <Input type="email" autoComplete="username" autoFocus />
        </Form.Item>
        <Form.Item name="password" label={t('auth.password')} rules={[{ required: true, message: t('common.required') }]}>
          <Input.Password autoComplete="current-password" />
        </Form.Item>
        {companies && (
          <Form.Item label={t('auth.chooseCompany')}>
            <Radio.Group value={tenantId} onChange={(e) => setTenantId(e.target.value as string)}>
              <Space direction="vertical">
                {companies.map((c) => (
                  <Radio key={c.tenant_id} value={c.tenant_id}>
                    {c.company_name}
                  </Radio>
                ))}
              </Space>
            </Radio.Group>
          </Form.Item>
        )}
        <Button type="primary" htmlType="submit" block loading={busy}>
          {t('auth.login')}
        </Button>
      </Form>
      <Space style={{ marginTop: 16, width: '100%', justifyContent: 'space-between' }} wrap>
        <Link to="/password-reset">{t('auth.forgot')}</Link>
        <span>
          {t('auth.noAccount')} <Link to="/signup">{t('auth.signup')}</Link>
        </span>
      </Space>
    </AuthFrame>
  );
}
