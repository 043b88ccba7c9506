// The product catalogue: list (cards on a phone), add and edit in a drawer (edit with
// If-Match; a 412 says someone else changed it and reloads). Only finance and admins
// (update on all orders) may change it; everyone who sells may read it.

import { EditOutlined, PlusOutlined } from '@ant-design/icons';
import { App, Button, Card, Drawer, Empty, Flex, Form, Grid, Input, List, Switch, Table, Tag, Typography } from 'antd';
import type { ColumnsType } from 'antd/es/table';
import { useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, ifMatch, unwrap, type Schemas } from '../../api/client';
import { ApiProblem } from '../../api/problem';
import { useProblemText, useReportProblem } from '../../api/useProblem';
import { useMe } from '../../auth/me';
import { formatMoney } from '../../i18n/format';
import { fromMoney, MoneyInput, moneyRule, toMoney, type MoneyValue } from './inputs';
import { useProducts } from './queries';
import { bpToPercent, percentToBp } from './totals';

type Product = Schemas['Product'];

export default function Products() {
  const { t, i18n } = useTranslation();
  const lang = i18n.language;
  const phone = !Grid.useBreakpoint().md;
  const problemText = useProblemText();
  const { data: me } = useMe();
  const products = useProducts();
  const [editing, setEditing] = useState<Product | 'new' | null>(null);
  // The API lets only those with update on every order change the catalogue.
  const mayChange = me?.permissions?.orders?.update === 'all';

  const columns: ColumnsType<Product> = [
    { key: 'sku', title: t('sales.products.sku'), dataIndex: 'sku', width: 140 },
    { key: 'name', title: t('sales.products.name'), dataIndex: 'name', ellipsis: true },
    { key: 'price', title: t('sales.products.unitPrice'), align: 'right', render: (_, p) => formatMoney(p.unit_price, lang), width: 160 },
    { key: 'tax', title: t('sales.products.taxRate'), align: 'right', render: (_, p) => `${bpToPercent(p.tax_rate_bp)}%`, width: 100 },
    {
      key: 'active',
      title: t('sales.products.status'),
      width: 110,
      render: (_, p) => (p.active ? <Tag color="#237804">{t('sales.products.active')}</Tag> : <Tag>{t('sales.products.inactive')}</Tag>),
    },
    ...(mayChange
      ? [
          {
            key: 'edit',
            title: '',
            width: 60,
            render: (_: unknown, p: Product) => (
              <Button type="text" icon={<EditOutlined />} aria-label={`${t('common.edit')} ${p.name}`} onClick={() => setEditing(p)} />
            ),
          },
        ]
      : []),
  ];
  const empty = <Empty description={products.isError ? problemText(products.error) : t('sales.products.empty')} />;

  return (
    <>
      <Flex justify="space-between" align="center" wrap gap={8} style={{ marginBottom: 12 }}>
        <Typography.Title level={1} style={{ fontSize: 22, margin: 0 }}>
          {t('sales.products.title')}
        </Typography.Title>
        {mayChange && (
          <Button type="primary" icon={<PlusOutlined />} onClick={() => setEditing('new')}>
            {t('sales.products.new')}
          </Button>
        )}
      </Flex>
      {phone ? (
        <List
          loading={products.isLoading}
          dataSource={products.data ?? []}
          locale={{ emptyText: empty }}
          renderItem={(p) => (
            <List.Item style={{ display: 'block', padding: 0, border: 0 }}>
              <Card size="small" style={{ marginBottom: 8 }}>
              <Flex justify="space-between" align="start">
                <div>
                  <Typography.Text strong>{p.name}</Typography.Text>
                  <div style={{ color: '#555' }}>{p.sku}</div>
                </div>
                {mayChange && (
                  <Button type="text" icon={<EditOutlined />} aria-label={`${t('common.edit')} ${p.name}`} onClick={() => setEditing(p)} />
                )}
              </Flex>
              <div>
                {formatMoney(p.unit_price, lang)} · {t('sales.products.taxRate')} {bpToPercent(p.tax_rate_bp)}%
                {!p.active && <Tag style={{ marginLeft: 8 }}>{t('sales.products.inactive')}</Tag>}
              </div>
            </Card>
            </List.Item>
          )}
        />
      ) : (
        <Table<Product>
          rowKey="id"
          virtual
          scroll={{ y: 'calc(100vh - 260px)' }}
          loading={products.isLoading}
          columns={columns}
          dataSource={products.data ?? []}
          pagination={false}
          locale={{ emptyText: empty }}
          data-testid="product-table"
        />
      )}
      {editing && <ProductForm product={editing === 'new' ? null : editing} onClose={() => setEditing(null)} />}
    </>
  );
}

interface Values {
  sku: string;
  name: string;
  description?: string | null;
  unit_price: MoneyValue;
  tax_rate: string;
  active: boolean;
}

function ProductForm({ product, onClose }: { product: Product | null; onClose: () => void }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const phone = !Grid.useBreakpoint().md;
  const queryClient = useQueryClient();
  const report = useReportProblem();
  const [form] = Form.useForm<Values>();
  const [busy, setBusy] = useState(false);

  const submit = async (v: Values) => {
    const price = toMoney(v.unit_price) ?? { amount_minor: 0, currency: v.unit_price?.currency ?? 'CNY' };
    const taxBp = Number(percentToBp(v.tax_rate || '0') ?? 0n);
    const body = {
      sku: v.sku.trim(),
      name: v.name.trim(),
      description: v.description?.trim() || null,
      unit_price: price,
      tax_rate_bp: taxBp,
      active: v.active,
    };
    setBusy(true);
    try {
      if (product) {
        await unwrap(
          api.PATCH('/v1/products/{id}', { params: { path: { id: product.id }, header: { 'If-Match': ifMatch(product.version) } }, body }),
        );
      } else {
        await unwrap(api.POST('/v1/products', { body }));
      }
      void message.success(product ? t('common.saved') : t('common.created'));
      void queryClient.invalidateQueries({ queryKey: ['products'] });
      onClose();
    } catch (e) {
      if (e instanceof ApiProblem && e.status === 412) {
        void message.warning(t('sales.products.conflict'));
        void queryClient.invalidateQueries({ queryKey: ['products'] });
        onClose();
      } else {
        report(e, form);
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <Drawer
      open
      title={product ? t('sales.products.edit') : t('sales.products.new')}
      onClose={onClose}
      size={phone ? '100%' : 440}
      footer={
        <Flex gap={8}>
          <Button type="primary" loading={busy} onClick={() => form.submit()}>
            {product ? t('common.save') : t('common.create')}
          </Button>
          <Button onClick={onClose}>{t('common.cancel')}</Button>
        </Flex>
      }
    >
      <Form<Values>
        form={form}
        layout="vertical"
        onFinish={(v) => void submit(v)}
        initialValues={
          product
            ? {
                sku: product.sku,
                name: product.name,
                description: product.description,
                unit_price: fromMoney(product.unit_price),
                tax_rate: bpToPercent(product.tax_rate_bp),
                active: product.active,
              }
            : { unit_price: { currency: 'CNY' }, tax_rate: '13', active: true }
        }
      >
        <Form.Item name="sku" label={t('sales.products.sku')} rules={[{ required: true, whitespace: true, message: t('common.required') }]}>
          <Input maxLength={64} />
        </Form.Item>
        <Form.Item name="name" label={t('sales.products.name')} rules={[{ required: true, whitespace: true, message: t('common.required') }]}>
          <Input maxLength={200} />
        </Form.Item>
        <Form.Item name="description" label={t('sales.products.description')}>
          <Input.TextArea rows={3} maxLength={2000} />
        </Form.Item>
        <Form.Item
          name="unit_price"
          label={t('sales.products.unitPrice')}
          rules={[
            moneyRule(t('sales.common.badAmount')),
            { validator: async (_, v?: MoneyValue) => { if (!v?.amount?.trim()) throw new Error(t('common.required')); } },
          ]}
        >
          <MoneyInput />
        </Form.Item>
        <Form.Item
          name="tax_rate"
          label={t('sales.products.taxRatePct')}
          rules={[{ validator: async (_, v?: string) => { if (v && percentToBp(v) === null) throw new Error(t('sales.common.badPercent')); } }]}
        >
          <Input inputMode="decimal" suffix="%" />
        </Form.Item>
        <Form.Item name="active" label={t('sales.products.active')} valuePropName="checked">
          <Switch />
        </Form.Item>
      </Form>
    </Drawer>
  );
}
