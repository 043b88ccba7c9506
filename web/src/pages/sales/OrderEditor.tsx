// The order editor (/orders/new, /orders/:id): a line editor with a product picker,
// quantity, unit price, discount and tax, whose totals are computed as the server does
// (totals.ts, BigInt minor units, half-up rounding per line), so what the user sees
// before saving is what the order will hold. Lines change only while the order is a
// draft; its status moves along the ways the API allows. Saves use If-Match.

import { DeleteOutlined, DownOutlined, PlusOutlined } from '@ant-design/icons';
import {
  App,
  Button,
  Card,
  Descriptions,
  Dropdown,
  Flex,
  Form,
  Grid,
  Input,
  InputNumber,
  Result,
  Select,
  Skeleton,
  Tag,
  Typography,
} from 'antd';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useParams } from 'react-router';
import { api, ifMatch, unwrap, type Schemas } from '../../api/client';
import { ApiProblem } from '../../api/problem';
import { useProblemText, useReportProblem } from '../../api/useProblem';
import { can, useMe } from '../../auth/me';
import { currencyDigits, minorToDecimal } from '../../i18n/format';
import { ContactPicker } from './inputs';
import { STATUS_COLOR } from './Orders';
import { CURRENCIES, useProducts } from './queries';
import { bpToPercent, decimalToMinor, nextStatuses, orderTotals, percentToBp, withinBounds, type LineFigures } from './totals';

type Order = Schemas['Order'];

interface LineValues {
  product_id?: string | null;
  description?: string;
  quantity?: number | null;
  unit_price?: string;
  discount?: string;
  tax?: string;
}

interface Values {
  currency: string;
  contact_id?: string | null;
  notes?: string | null;
  lines: LineValues[];
}

/** A line's figures in minor units and basis points; null while something typed is not valid. */
function figuresOf(line: LineValues | undefined, currency: string): LineFigures | null {
  if (!line || !line.quantity || line.quantity < 1) return null;
  const price = decimalToMinor(line.unit_price ?? '', currency);
  const discount = percentToBp(line.discount?.trim() || '0');
  const tax = percentToBp(line.tax?.trim() || '0');
  if (price === null || discount === null || tax === null) return null;
  return { quantity: BigInt(line.quantity), unitPriceMinor: price, discountBp: discount, taxRateBp: tax };
}

/** An amount in minor units for the reader, exactly (the decimal string goes to Intl). */
export function formatMinor(minor: bigint, currency: string, lang: string): string {
  const decimal = minorToDecimal(minor, currency);
  try {
    return new Intl.NumberFormat(lang, { style: 'currency', currency }).format(decimal as unknown as number);
  } catch {
    return `${decimal} ${currency}`;
  }
}

function valuesOf(o: Order): Values {
  const currency = o.currency ?? 'CNY';
  return {
    currency,
    contact_id: o.contact_id ?? null,
    notes: o.notes ?? null,
    lines: (o.lines ?? []).map((l) => ({
      product_id: l.product_id,
      description: l.description,
      quantity: l.quantity,
      unit_price: minorToDecimal(l.unit_price_minor, currency),
      discount: bpToPercent(l.discount_bp),
      tax: bpToPercent(l.tax_rate_bp),
    })),
  };
}

export default function OrderEditor() {
  const { id } = useParams();
  const problemText = useProblemText();
  const order = useQuery({
    queryKey: ['orders', id],
    queryFn: () => unwrap(api.GET('/v1/orders/{id}', { params: { path: { id: id! } } })),
    enabled: Boolean(id),
  });
  if (!id) return <OrderForm order={null} />;
  if (order.isLoading) return <Skeleton active />;
  if (order.isError || !order.data) {
    const notFound = order.error instanceof ApiProblem && order.error.status === 404;
    return <Result status={notFound ? '404' : 'error'} title={problemText(order.error)} />;
  }
  return <OrderForm key={order.data.version} order={order.data} />;
}

function OrderForm({ order }: { order: Order | null }) {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const { message } = App.useApp();
  const phone = !Grid.useBreakpoint().md;
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const report = useReportProblem();
  const { data: me } = useMe();
  const products = useProducts(true);
  const [form] = Form.useForm<Values>();
  const [busy, setBusy] = useState(false);
  const editableLines = !order || order.status === 'draft';
  const mayEdit = order ? can(me, 'orders', 'update') : can(me, 'orders', 'create');

  const currency = Form.useWatch('currency', form) ?? order?.currency ?? 'CNY';
  const lines = Form.useWatch('lines', form) as LineValues[] | undefined;
  const figures = (lines ?? []).map((l) => figuresOf(l, currency));
  const complete = figures.length > 0 && figures.every((f): f is LineFigures => f !== null);
  const totals = complete ? orderTotals(figures) : null;
  const money = (v: bigint) => formatMinor(v, currency, lang);

  const pickProduct = (index: number, productId: string | null) => {
    const p = products.data?.find((x) => x.id === productId);
    if (!p) return;
    if (!order && (form.getFieldValue('lines') as LineValues[]).filter((l) => l?.product_id).length <= 1) {
      form.setFieldValue('currency', p.unit_price.currency);
    }
    const cur = (form.getFieldValue('currency') as string) ?? p.unit_price.currency;
    form.setFieldValue(['lines', index], {
      ...(form.getFieldValue(['lines', index]) as LineValues),
      product_id: p.id,
      description: p.name,
      unit_price: minorToDecimal(p.unit_price.amount_minor, cur === p.unit_price.currency ? cur : p.unit_price.currency),
      tax: bpToPercent(p.tax_rate_bp),
    });
  };

  const linesBody = (v: Values) =>
    v.lines.map((l) => {
      const f = figuresOf(l, v.currency)!;
      return {
        product_id: l.product_id ?? null,
        description: l.description?.trim() || null,
        quantity: Number(f.quantity),
        unit_price_minor: Number(f.unitPriceMinor),
        discount_bp: Number(f.discountBp),
        tax_rate_bp: Number(f.taxRateBp),
      };
    });

  const onConflict = async () => {
    void message.warning(t('sales.orders.conflict'));
    await queryClient.invalidateQueries({ queryKey: ['orders', order?.id] });
  };

  const submit = async (v: Values) => {
    if (!complete) return;
    setBusy(true);
    try {
      if (!order) {
        const created = await unwrap(
          api.POST('/v1/orders', {
            body: { currency: v.currency, contact_id: v.contact_id ?? null, notes: v.notes?.trim() || null, lines: linesBody(v) },
          }),
        );
        queryClient.setQueryData(['orders', created.id], created);
        void queryClient.invalidateQueries({ queryKey: ['orders', 'list'] });
        void message.success(t('sales.orders.created', { number: created.number }));
        navigate(`/orders/${created.id}`, { replace: true });
      } else {
        const patch: Schemas['OrderPatch'] = { contact_id: v.contact_id ?? null, notes: v.notes?.trim() || null };
        if (editableLines) patch.lines = linesBody(v);
        const saved = await unwrap(
          api.PATCH('/v1/orders/{id}', { params: { path: { id: order.id }, header: { 'If-Match': ifMatch(order.version) } }, body: patch }),
        );
        queryClient.setQueryData(['orders', order.id], saved);
        void queryClient.invalidateQueries({ queryKey: ['orders', 'list'] });
        void message.success(t('common.saved'));
      }
    } catch (e) {
      if (e instanceof ApiProblem && e.status === 412) await onConflict();
      else report(e, form);
    } finally {
      setBusy(false);
    }
  };

  const changeStatus = async (nextStatus: Schemas['OrderStatus']) => {
    if (!order) return;
    setBusy(true);
    try {
      const saved = await unwrap(
        api.PATCH('/v1/orders/{id}', {
          params: { path: { id: order.id }, header: { 'If-Match': ifMatch(order.version) } },
          body: { status: nextStatus },
        }),
      );
      queryClient.setQueryData(['orders', order.id], saved);
      void queryClient.invalidateQueries({ queryKey: ['orders', 'list'] });
      void message.success(t('common.saved'));
    } catch (e) {
      if (e instanceof ApiProblem && e.status === 412) await onConflict();
      else report(e);
    } finally {
      setBusy(false);
    }
  };

  const digits = currencyDigits(currency);
  const initial: Values = order ? valuesOf(order) : { currency: 'CNY', lines: [{ quantity: 1, discount: '0', tax: '0' }] };

  return (
    <>
      <Flex justify="space-between" align="center" wrap gap={8} style={{ marginBottom: 12 }}>
        <div>
          <Link to="/orders">{t('sales.orders.title')}</Link>
          <Typography.Title level={1} style={{ fontSize: 22, margin: 0 }} data-testid="order-heading">
            {order ? order.number : t('sales.orders.new')}{' '}
            {order?.status && <Tag color={STATUS_COLOR[order.status]}>{t(`sales.orderStatuses.${order.status}`)}</Tag>}
          </Typography.Title>
        </div>
        {order && mayEdit && nextStatuses(order.status ?? 'draft').length > 0 && (
          <Dropdown
            trigger={['click']}
            disabled={busy}
            menu={{
              items: nextStatuses(order.status ?? 'draft').map((st) => ({ key: st, label: t(`sales.orderStatuses.${st}`) })),
              onClick: ({ key }) => void changeStatus(key as Schemas['OrderStatus']),
            }}
          >
            <Button loading={busy}>
              {t('sales.orders.changeStatus')} <DownOutlined />
            </Button>
          </Dropdown>
        )}
      </Flex>
      <Form<Values> form={form} layout="vertical" initialValues={initial} onFinish={(v) => void submit(v)} disabled={!mayEdit}>
        <Card style={{ marginBottom: 12 }}>
          <Flex wrap gap={12}>
            <Form.Item name="currency" label={t('sales.common.currency')} style={{ width: 120, marginBottom: 0 }}>
              <Select disabled={Boolean(order)} options={CURRENCIES.map((c) => ({ value: c, label: c }))} />
            </Form.Item>
            <Form.Item name="contact_id" label={t('sales.deal.contact')} style={{ flex: '1 1 240px', marginBottom: 0 }}>
              <ContactPicker initialLabel={t('sales.deal.currentContact')} />
            </Form.Item>
          </Flex>
        </Card>
        <Card title={t('sales.orders.lines')} style={{ marginBottom: 12 }}>
          {!editableLines && <Typography.Paragraph type="secondary">{t('sales.orders.linesLocked')}</Typography.Paragraph>}
          <Form.List name="lines">
            {(fields, { add, remove }) => (
              <Flex vertical gap={12}>
                {fields.map((field, i) => {
                  const lt = totals?.lines[i];
                  const n = i + 1;
                  return (
                    <div
                      key={field.key}
                      data-testid="order-line"
                      style={{ border: '1px solid #eee', borderRadius: 8, padding: 12, background: '#fcfcfd' }}
                    >
                      <Flex wrap gap={8} align="end">
                        <Form.Item name={[field.name, 'product_id']} label={t('sales.orders.product', { n })} style={{ flex: '1 1 200px', marginBottom: 0 }}>
                          <Select
                            allowClear
                            disabled={!editableLines}
                            showSearch={{ optionFilterProp: 'label' }}
                            loading={products.isLoading}
                            onChange={(v: string | null) => pickProduct(i, v ?? null)}
                            options={products.data?.map((p) => ({ value: p.id, label: `${p.sku} · ${p.name}` }))}
                          />
                        </Form.Item>
                        <Form.Item name={[field.name, 'description']} label={t('sales.orders.description', { n })} style={{ flex: '2 1 200px', marginBottom: 0 }}>
                          <Input maxLength={500} disabled={!editableLines} />
                        </Form.Item>
                        <Form.Item
                          name={[field.name, 'quantity']}
                          label={t('sales.orders.quantity', { n })}
                          style={{ width: phone ? 'calc(50% - 4px)' : 96, marginBottom: 0 }}
                          rules={[{ required: true, message: t('common.required') }]}
                        >
                          <InputNumber min={1} max={1_000_000} precision={0} style={{ width: '100%' }} disabled={!editableLines} />
                        </Form.Item>
                        <Form.Item
                          name={[field.name, 'unit_price']}
                          label={t('sales.orders.unitPrice', { n })}
                          style={{ width: phone ? 'calc(50% - 4px)' : 130, marginBottom: 0 }}
                          rules={[
                            {
                              validator: async (_, v?: string) => {
                                if (decimalToMinor(v ?? '', currency) === null) throw new Error(t('sales.common.badAmountDigits', { digits }));
                              },
                            },
                          ]}
                        >
                          <Input inputMode="decimal" disabled={!editableLines} />
                        </Form.Item>
                        <Form.Item
                          name={[field.name, 'discount']}
                          label={t('sales.orders.discount', { n })}
                          style={{ width: phone ? 'calc(50% - 4px)' : 96, marginBottom: 0 }}
                          rules={[{ validator: async (_, v?: string) => { if (percentToBp(v?.trim() || '0') === null) throw new Error(t('sales.common.badPercent')); } }]}
                        >
                          <Input inputMode="decimal" suffix="%" disabled={!editableLines} />
                        </Form.Item>
                        <Form.Item
                          name={[field.name, 'tax']}
                          label={t('sales.orders.tax', { n })}
                          style={{ width: phone ? 'calc(50% - 4px)' : 96, marginBottom: 0 }}
                          rules={[{ validator: async (_, v?: string) => { if (percentToBp(v?.trim() || '0') === null) throw new Error(t('sales.common.badPercent')); } }]}
                        >
                          <Input inputMode="decimal" suffix="%" disabled={!editableLines} />
                        </Form.Item>
                        <Flex align="center" gap={4} style={{ marginLeft: 'auto', minHeight: 32 }}>
                          <Typography.Text strong data-testid="line-total">
                            {lt ? money(lt.total) : '—'}
                          </Typography.Text>
                          {editableLines && fields.length > 1 && (
                            <Button
                              type="text"
                              danger
                              icon={<DeleteOutlined />}
                              aria-label={t('sales.orders.removeLine', { n })}
                              onClick={() => remove(field.name)}
                            />
                          )}
                        </Flex>
                      </Flex>
                    </div>
                  );
                })}
                {editableLines && fields.length < 200 && (
                  <Button icon={<PlusOutlined />} onClick={() => add({ quantity: 1, discount: '0', tax: '0' })} style={{ alignSelf: 'start' }}>
                    {t('sales.orders.addLine')}
                  </Button>
                )}
              </Flex>
            )}
          </Form.List>
        </Card>
        <Flex wrap gap={12} align="start">
          <Card style={{ flex: '1 1 300px' }}>
            <Form.Item name="notes" label={t('sales.orders.notes')} style={{ marginBottom: 0 }}>
              <Input.TextArea rows={3} maxLength={2000} />
            </Form.Item>
          </Card>
          <Card style={{ flex: '1 1 300px' }} data-testid="order-totals">
            <Descriptions
              column={1}
              size="small"
              items={[
                { key: 'amount', label: t('sales.orders.subtotal'), children: totals ? money(totals.amount) : '—' },
                { key: 'discount', label: t('sales.orders.discountTotal'), children: totals ? `−${money(totals.discount)}` : '—' },
                { key: 'tax', label: t('sales.orders.taxTotal'), children: totals ? money(totals.tax) : '—' },
                {
                  key: 'total',
                  label: <strong>{t('sales.orders.total')}</strong>,
                  children: (
                    <Typography.Text strong style={{ fontSize: 18 }} data-testid="order-total">
                      {totals ? money(totals.total) : '—'}
                    </Typography.Text>
                  ),
                },
              ]}
            />
            {totals && !withinBounds(totals) && <Typography.Text type="danger">{t('sales.orders.tooLarge')}</Typography.Text>}
            {mayEdit && (
              <Button type="primary" htmlType="submit" block loading={busy} disabled={!complete} style={{ marginTop: 12 }}>
                {order ? t('common.save') : t('sales.orders.create')}
              </Button>
            )}
          </Card>
        </Flex>
      </Form>
    </>
  );
}
