// Guided creation of a contact in three short steps (who, how to reach, details), with the
// existing matches shown as soon as a name, phone or email is typed.

import { Button, Card, Flex, Form, Steps, Typography } from 'antd';
import { useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router';
import { api, unwrap, type Schemas } from '../../api/client';
import { useReportProblem } from '../../api/useProblem';
import { cleanValues, ContactFields, type Section } from './ContactFields';
import { DuplicateMatches, useDuplicates } from './DuplicateMatches';

const STEPS: Section[] = ['who', 'reach', 'more'];

export default function ContactCreate() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const report = useReportProblem();
  const [form] = Form.useForm();
  const [step, setStep] = useState(0);
  const [busy, setBusy] = useState(false);
  const name = Form.useWatch('name', form) as string | undefined;
  const phones = Form.useWatch('phones', form) as { number?: string }[] | undefined;
  const emails = Form.useWatch('emails', form) as { address?: string }[] | undefined;
  const duplicates = useDuplicates({ name, phone: phones?.[0]?.number, email: emails?.[0]?.address });

  const submit = async () => {
    setBusy(true);
    try {
      const values = cleanValues(form.getFieldsValue(true) as Record<string, unknown>);
      const created = await unwrap(api.POST('/v1/contacts', { body: values as Schemas['NewContact'] }));
      void queryClient.invalidateQueries({ queryKey: ['contacts'] });
      navigate(`/contacts/${created.id}`, { replace: true });
    } catch (e) {
      report(e, form);
      // Show the step holding the first offending field.
      const fields = form.getFieldsError().filter((f) => f.errors.length).map((f) => String(f.name[0]));
      const at = STEPS.findIndex((s) =>
        s === 'who'
          ? fields.some((f) => ['name', 'company_name', 'title'].includes(f))
          : s === 'reach'
            ? fields.some((f) => ['emails', 'phones', 'address'].includes(f))
            : fields.length > 0,
      );
      if (at >= 0) setStep(at);
    } finally {
      setBusy(false);
    }
  };

  const next = async () => {
    try {
      if (step === 0) await form.validateFields(['name']);
      setStep((s) => s + 1);
    } catch {
      // The form marks what is missing.
    }
  };

  return (
    <Flex vertical style={{ maxWidth: 720, margin: '0 auto' }}>
      <Typography.Title level={1} style={{ fontSize: 22 }}>
        {t('contacts.newTitle')}
      </Typography.Title>
      <Steps
        current={step}
        size="small"
        style={{ marginBottom: 16 }}
        items={[{ title: t('contacts.stepWho') }, { title: t('contacts.stepReach') }, { title: t('contacts.stepMore') }]}
      />
      <DuplicateMatches matches={duplicates.data ?? []} />
      <Card>
        <Form
          form={form}
          layout="vertical"
          requiredMark="optional"
          preserve
          initialValues={{ phones: [{ number: '' }], emails: [{ address: '' }] }}
          onFinish={() => void submit()}
        >
          {STEPS.map((s, i) => (
            <div key={s} hidden={i !== step}>
              <ContactFields sections={[s]} />
            </div>
          ))}
          <Flex justify="space-between" gap={8}>
            <Button onClick={() => (step === 0 ? navigate(-1) : setStep(step - 1))}>
              {step === 0 ? t('common.cancel') : t('common.back')}
            </Button>
            <Flex gap={8}>
              {step < STEPS.length - 1 && (
                <Button onClick={() => void next()} type={duplicates.data?.length ? 'default' : 'primary'}>
                  {t('common.next')}
                </Button>
              )}
              <Button type={step === STEPS.length - 1 ? 'primary' : 'default'} htmlType="submit" loading={busy}>
                {duplicates.data?.length ? t('contacts.createAnyway') : t('common.create')}
              </Button>
            </Flex>
          </Flex>
        </Form>
      </Card>
    </Flex>
  );
}
