// Sign-up: the company and its first administrator, who is signed in straight away.

import { Alert, Button, Form, Input, Select, Typography } from 'antd';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate } from 'react-router';
import { api, unwrap } from '../../api/client';
import { useProblemText, useReportProblem } from '../../api/useProblem';
import { signedIn, type TokenAnswer } from '../../auth/session';
import { LANGUAGES, setLanguage, type Language } from '../../i18n';
import { AuthFrame } from './AuthFrame';

interface Values {
  company_name: string;
  name: string;
  email: string;
  password: string;
  locale: Language;
}

export default function SignUp() {
  const { t, i18n } = useTranslation();
  const navigate = useNavigate();
  const report = useReportProblem();
  const problemText = useProblemText();
  const [form] = Form.useForm<Values>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  // The company's language follows the page's until chosen here (the header's switch too).
  useEffect(() => form.setFieldValue('locale', i18n.language as Language), [form, i18n.language]);

  const submit = async (values: Values) => {
    setBusy(true);
    setError(null);
    try {
      const created = await unwrap(
        api.POST('/v1/signup', { body: { ...values, refresh_token_delivery: 'cookie' } }),
      );
      signedIn(created as TokenAnswer);
      await setLanguage(values.locale);
      navigate('/', { replace: true });
    } catch (e) {
      report(e, form);
      setError(problemText(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <AuthFrame title={t('auth.signupTitle')}>
      {error && <Alert type="error" title={error} showIcon style={{ marginBottom: 16 }} role="alert" />}
      <Form
        form={form}
        layout="vertical"
        onFinish={submit}
        requiredMark={false}
        initialValues={{ locale: i18n.language as Language }}
      >
        <Form.Item name="company_name" label={t('auth.company')} rules={[{ required: true, message: t('common.required') }]}>
          <Input autoComplete="organization" maxLength={200} autoFocus />
        </Form.Item>
        <Form.Item name="name" label={t('auth.name')} rules={[{ required: true, message: t('common.required') }]}>
          <Input autoComplete="name" maxLength={200} />
        </Form.Item>
        <Form.Item name="email" label={t('auth.email')} rules={[{ required: true, message: t('common.required') }]}>
          <Input type="email" autoComplete="email" />
        </Form.Item>
        <Form.Item
          name="password"
          label={t('auth.password')}
          extra={t('auth.passwordHint')}
          rules={[{ required: true, message: t('common.required') }, { min: 10, message: t('auth.passwordHint') }]}
        >
          <Input.Password autoComplete="new-password" maxLength={128} />
        </Form.Item>
        <Form.Item name="locale" label={t('auth.language')}>
          <Select
            options={LANGUAGES.map((l) => ({ value: l.code, label: l.label }))}
            onChange={(lang: Language) => void setLanguage(lang)}
          />
        </Form.Item>
        <Button type="primary" htmlType="submit" block loading={busy}>
          {t('auth.signupSubmit')}
        </Button>
      </Form>
      <Typography.Paragraph style={{ marginTop: 16, marginBottom: 0 }}>
        {t('auth.haveAccount')} <Link to="/login">{t('auth.login')}</Link>
      </Typography.Paragraph>
    </AuthFrame>
  );
}
