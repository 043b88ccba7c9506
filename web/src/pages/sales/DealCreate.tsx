// "New deal" in a drawer: title, amount with currency, contact, expected close, stage.
// "Create and add another" keeps the drawer open for the next one.

import { App, Button, DatePicker, Drawer, Form, Grid, Input, Select, Space } from 'antd';
import type { Dayjs } from 'dayjs';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, unwrap } from '../../api/client';
import { useReportProblem } from '../../api/useProblem';
import type { BoardStage } from './board';
import { ContactPicker, MoneyInput, moneyRule, toMoney, type MoneyValue } from './inputs';

interface Values {
  title: string;
  amount?: MoneyValue;
  contact_id?: string | null;
  expected_close_date?: Dayjs | null;
  stage_id: string;
}

export function DealCreate({
  pipelineId,
  stages,
  onClose,
  onCreated,
}: {
  pipelineId: string;
  stages: BoardStage[];
  onClose: () => void;
  onCreated: () => void;
}) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const phone = !Grid.useBreakpoint().md;
  const report = useReportProblem();
  const [form] = Form.useForm<Values>();
  const [busy, setBusy] = useState(false);
  const [another, setAnother] = useState(false);
  const firstOpen = stages.find((s) => s.kind === 'open') ?? stages[0];

  const submit = async (v: Values) => {
    setBusy(true);
    try {
      await unwrap(
        api.POST('/v1/deals', {
          body: {
            title: v.title.trim(),
            pipeline_id: pipelineId,
            stage_id: v.stage_id,
            amount: toMoney(v.amount),
            contact_id: v.contact_id ?? null,
            expected_close_date: v.expected_close_date ? v.expected_close_date.format('YYYY-MM-DD') : null,
          },
        }),
      );
      void message.success(t('common.created'));
      onCreated();
      if (another) form.resetFields(['title', 'amount', 'contact_id', 'expected_close_date']);
      else onClose();
    } catch (e) {
      report(e, form);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Drawer
      open
      title={t('sales.board.newDeal')}
      onClose={onClose}
      size={phone ? '100%' : 480}
      destroyOnHidden
      footer={
        <Space>
          <Button type="primary" loading={busy} onClick={() => { setAnother(false); form.submit(); }}>
            {t('common.create')}
          </Button>
          <Button loading={busy} onClick={() => { setAnother(true); form.submit(); }}>
            {t('sales.common.createAnother')}
          </Button>
          <Button onClick={onClose}>{t('common.cancel')}</Button>
        </Space>
      }
    >
      <Form<Values>
        form={form}
        layout="vertical"
        onFinish={(v) => void submit(v)}
        initialValues={{ stage_id: firstOpen?.id, amount: { currency: 'CNY' } }}
      >
        <Form.Item name="title" label={t('sales.deal.title')} rules={[{ required: true, whitespace: true, message: t('common.required') }]}>
          <Input maxLength={200} autoFocus />
        </Form.Item>
        <Form.Item name="amount" label={t('sales.deal.amount')} rules={[moneyRule(t('sales.common.badAmount'))]}>
          <MoneyInput />
        </Form.Item>
        <Form.Item name="contact_id" label={t('sales.deal.contact')}>
          <ContactPicker />
        </Form.Item>
        <Form.Item name="expected_close_date" label={t('sales.deal.expectedClose')}>
          <DatePicker style={{ width: '100%' }} />
        </Form.Item>
        <Form.Item name="stage_id" label={t('sales.deal.stage')} rules={[{ required: true }]}>
          <Select options={stages.map((s) => ({ value: s.id, label: s.name }))} />
        </Form.Item>
      </Form>
    </Drawer>
  );
}
