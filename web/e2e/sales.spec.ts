// Sales in a real Chromium against the real local server: the deal board shows each
// stage's count and totals; a deal dragged to the next stage (mouse on a desktop, the
// card's "Move to…" menu on a phone) moves on the server and the totals follow; a move
// made on a stale board is refused, put back and explained; a filtered board counts only
// the deals it shows; an order's line editor shows the total the server then stores.
// Both languages, axe on every screen.

import { expect, test, type Locator, type Page } from '@playwright/test';
import { apiCall, apiToken, expectAccessible, PASSWORD, shot, uniqueEmail } from './support';

test.use({ locale: 'en-US' });

interface Stage {
  id: string;
  name: string;
}

async function dragTo(page: Page, card: Locator, target: Locator) {
  // Grab the card by its amount (not the title link), move past dnd-kit's activation
  // distance, then over the target stage in steps, and drop.
  const from = (await card.getByTestId('deal-amount').boundingBox())!;
  const to = (await target.boundingBox())!;
  const x = from.x + from.width / 2;
  const y = from.y + from.height / 2;
  await page.mouse.move(x, y);
  await page.mouse.down();
  await page.mouse.move(x + 12, y + 4, { steps: 4 });
  await page.mouse.move(to.x + to.width / 2, to.y + 120, { steps: 20 });
  await page.mouse.move(to.x + to.width / 2 + 2, to.y + 122, { steps: 2 });
  await page.mouse.up();
}

async function moveDeal(page: Page, phone: boolean, dealId: string, to: Stage) {
  const card = page.locator(`[data-deal-id="${dealId}"]`);
  if (phone) {
    await card.getByTestId('move-to').click();
    await page.getByRole('menuitem', { name: to.name }).click();
  } else {
    await dragTo(page, card, page.getByTestId(`stage-${to.id}`));
  }
}

test('deals move on the board with the server’s totals; orders total as the server does', async ({ page, request }, info) => {
  // A long journey with ten axe runs; give it room on a busy machine.
  test.setTimeout(240_000);
  const phone = info.project.name === 'phone';
  const email = uniqueEmail('sales');

  await page.goto('/signup');
  await page.getByLabel('Company name').fill('青松贸易 Pine Trading');
  await page.getByLabel('Your name').fill('Lin Wei');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Create company' }).click();
  await expect(page.getByRole('heading', { name: 'Hello, Lin Wei' })).toBeVisible();
  const token = await apiToken(request, email, PASSWORD);

  const pipelines = (await apiCall(request, token, 'GET', '/v1/pipelines')) as { data: { id: string; stages: Stage[] }[] };
  const pipeline = pipelines.data[0]!;
  const [first, second] = pipeline.stages as [Stage, Stage];
  const newDeal = async (title: string, amount: number) =>
    (await apiCall(request, token, 'POST', '/v1/deals', {
      title,
      amount: { amount_minor: amount, currency: 'CNY' },
      pipeline_id: pipeline.id,
      stage_id: first.id,
      expected_close_date: '2026-01-15',
    })) as { id: string };
  const alpha = await newDeal('50 licences for 北京示例', 120_000);
  const beta = await newDeal('Support renewal', 180_050);

  const column = (s: Stage) => page.getByTestId(`stage-${s.id}`);
  const board = async () =>
    (await apiCall(request, token, 'GET', `/v1/pipelines/${pipeline.id}/board`)) as {
      stages: { id: string; count: number; amounts: { currency: string; amount_minor: number }[] }[];
    };

  await test.step('the board shows each stage’s count and totals', async () => {
    await page.goto('/deals');
    await expect(page.getByRole('heading', { name: 'Deals', level: 1 })).toBeVisible();
    await expect(column(first).getByTestId('stage-count')).toHaveText('2 deals');
    await expect(column(first).getByTestId('stage-total')).toHaveText('CN¥3,000.50');
    await expect(column(second).getByTestId('stage-count')).toHaveText('0 deals');
    await expect(column(first).locator(`[data-deal-id="${alpha.id}"]`)).toContainText('CN¥1,200.00');
    await expect(column(first).locator(`[data-deal-id="${alpha.id}"]`)).toContainText('Lin Wei');
    await expectAccessible(page, 'deal board');
  });

  await test.step('a deal moved to the next stage moves on the server; counts and totals follow', async () => {
    await moveDeal(page, phone, alpha.id, second);
    await expect(column(second).locator(`[data-deal-id="${alpha.id}"]`)).toBeVisible();
    await expect(column(second).getByTestId('stage-count')).toHaveText('1 deal');
    await expect(column(second).getByTestId('stage-total')).toHaveText('CN¥1,200.00');
    await expect(column(first).getByTestId('stage-count')).toHaveText('1 deal');
    await expect(column(first).getByTestId('stage-total')).toHaveText('CN¥1,800.50');
    const moved = await apiCall(request, token, 'GET', `/v1/deals/${alpha.id}`);
    expect(moved.stage_id).toBe(second.id);
    const b = await board();
    expect(b.stages.find((s) => s.id === second.id)).toMatchObject({ count: 1, amounts: [{ currency: 'CNY', amount_minor: 120_000 }] });
    expect(b.stages.find((s) => s.id === first.id)).toMatchObject({ count: 1, amounts: [{ currency: 'CNY', amount_minor: 180_050 }] });
    await shot(page, info, 'deals-en');
  });

  await test.step('a move made on a stale board is refused, put back and explained', async () => {
    // A colleague changes the deal meanwhile; the board still holds the old version.
    await apiCall(request, token, 'PATCH', `/v1/deals/${beta.id}`, { title: 'Support renewal 2027' });
    await moveDeal(page, phone, beta.id, second);
    await expect(page.getByText('“Support renewal” was not moved: Someone else changed it in the meantime.')).toBeVisible();
    await expect(column(first).locator(`[data-deal-id="${beta.id}"]`)).toBeVisible();
    await expect(column(first).locator(`[data-deal-id="${beta.id}"]`)).toContainText('Support renewal 2027');
    await expect(column(first).getByTestId('stage-count')).toHaveText('1 deal');
    await expect(column(second).getByTestId('stage-count')).toHaveText('1 deal');
    const kept = await apiCall(request, token, 'GET', `/v1/deals/${beta.id}`);
    expect(kept.stage_id).toBe(first.id);
  });

  if (!phone) {
    await test.step('the keyboard moves a deal too: Space, arrow, Space', async () => {
      await page.getByRole('button', { name: 'Drag “Support renewal 2027” to another stage' }).focus();
      await page.keyboard.press('Space');
      // Each key waits for the board to show where the card is over.
      await expect(column(first)).toHaveAttribute('data-over', 'true');
      await page.keyboard.press('ArrowRight');
      await expect(column(second)).toHaveAttribute('data-over', 'true');
      await page.keyboard.press('Space');
      await expect(column(second).locator(`[data-deal-id="${beta.id}"]`)).toBeVisible();
      await expect(column(second).getByTestId('stage-count')).toHaveText('2 deals');
      await expect(column(second).getByTestId('stage-total')).toHaveText('CN¥3,000.50');
      await expect(column(first).getByTestId('stage-count')).toHaveText('0 deals');
      expect((await apiCall(request, token, 'GET', `/v1/deals/${beta.id}`)).stage_id).toBe(second.id);
    });
  }

  await test.step('the deal page shows the stage history', async () => {
    await page.goto(`/deals/${alpha.id}`);
    await expect(page.getByTestId('deal-title')).toHaveText('50 licences for 北京示例');
    await expect(page.getByTestId('stage-history')).toContainText(`Moved from ${first.name} to ${second.name}`);
    await expectAccessible(page, 'deal page');
    // A stale edit: a colleague changes the amount while the drawer is open.
    await page.getByRole('button', { name: 'Edit' }).click();
    await page.getByRole('dialog').getByLabel('Source').fill('Trade fair');
    await apiCall(request, token, 'PATCH', `/v1/deals/${alpha.id}`, { amount: { amount_minor: 125_000, currency: 'CNY' } });
    await page.getByRole('dialog').getByRole('button', { name: 'Save' }).click();
    await expect(page.getByRole('dialog')).toContainText('Your change was not saved.');
    await page.getByRole('button', { name: 'OK' }).click();
    await expect(page.getByTestId('deal-fields')).toContainText('CN¥1,250.00');
    await page.getByRole('button', { name: 'Edit' }).click();
    await page.getByRole('dialog').getByLabel('Source').fill('Trade fair');
    await page.getByRole('dialog').getByRole('button', { name: 'Save' }).click();
    await expect(page.getByTestId('deal-fields')).toContainText('Trade fair');
    await apiCall(request, token, 'PATCH', `/v1/deals/${alpha.id}`, { amount: { amount_minor: 120_000, currency: 'CNY' } });
    await shot(page, info, 'deal-en');
  });

  await test.step('an order of two lines shows the total the server stores', async () => {
    await apiCall(request, token, 'POST', '/v1/products', {
      sku: 'LIC',
      name: 'Licence',
      unit_price: { amount_minor: 3_333, currency: 'CNY' },
      tax_rate_bp: 1_300,
    });
    await page.goto('/orders/new');
    await expect(page.getByRole('heading', { name: 'New order' })).toBeVisible();
    await page.getByLabel('Product (line 1)').click();
    await page.locator('.ant-select-item-option').filter({ hasText: 'LIC · Licence' }).click();
    await expect(page.getByLabel('Unit price (line 1)')).toHaveValue('33.33');
    await expect(page.getByLabel('Tax (line 1)')).toHaveValue('13');
    await page.getByLabel('Qty (line 1)').fill('3');
    await page.getByLabel('Discount (line 1)').fill('10');
    await page.getByRole('button', { name: 'Add line' }).click();
    await page.getByLabel('Description (line 2)').fill('Installation');
    await page.getByLabel('Unit price (line 2)').fill('500');
    // 3 × 33.33 = 99.99, 10 % off = 10.00, 13 % tax on 89.99 = 11.70 → 101.69; + 500.00.
    await expect(page.getByTestId('line-total').first()).toHaveText('CN¥101.69');
    await expect(page.getByTestId('order-total')).toHaveText('CN¥601.69');
    await expectAccessible(page, 'order editor');
    await page.getByRole('button', { name: 'Create order' }).click();
    await expect(page).toHaveURL(/\/orders\/ord_[0-9a-z]{26}$/);
    await expect(page.getByTestId('order-heading')).toContainText('SO-000001');
    const id = page.url().split('/').pop()!;
    const order = await apiCall(request, token, 'GET', `/v1/orders/${id}`);
    expect(order.total_minor).toBe(60_169);
    await expect(page.getByTestId('order-total')).toHaveText('CN¥601.69');
    await shot(page, info, 'order-en');
  });

  await test.step('to-dos, products and pipeline settings', async () => {
    await page.goto('/tasks');
    await page.getByRole('button', { name: 'New task' }).click();
    await page.getByLabel('What to do').fill('Call back about the proposal');
    await page.getByLabel('Due', { exact: true }).fill('2030-01-15 10:00');
    await page.getByLabel('Due', { exact: true }).press('Enter');
    await page.getByLabel('Remind me at').fill('2030-01-15 09:45');
    await page.getByLabel('Remind me at').press('Enter');
    await page.getByLabel('Also remind me by email').check();
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    await page.getByText('Upcoming', { exact: true }).click();
    await expect(page.getByTestId('task-list')).toContainText('Call back about the proposal');
    await expect(page.getByTestId('task-list')).toContainText('Due Jan 15, 2030');
    const tasks = (await apiCall(request, token, 'GET', '/v1/tasks?view=upcoming')) as {
      data: { title: string; due_at: string; remind_at: string; remind_by_email: boolean }[];
    };
    const task = tasks.data.find((x) => x.title === 'Call back about the proposal')!;
    expect(Date.parse(task.remind_at)).toBe(Date.parse(task.due_at) - 15 * 60_000);
    expect(task.remind_by_email).toBe(true);
    await expectAccessible(page, 'to-dos');
    await shot(page, info, 'tasks-en');
    await page.getByRole('checkbox', { name: 'Mark “Call back about the proposal” as done' }).click();
    await expect(page.getByTestId('task-list')).not.toContainText('Call back about the proposal');
    await page.goto('/products');
    await expect(page.getByText('Licence')).toBeVisible();
    await expectAccessible(page, 'products');
    await shot(page, info, 'products-en');
  });

  await test.step('pipeline settings: rename a stage, remove one that holds deals after moving them', async () => {
    await page.goto('/deals');
    await page.getByRole('button', { name: 'Pipeline settings' }).click();
    await expect(page.getByRole('heading', { name: 'Pipeline settings' })).toBeVisible();
    await page.getByLabel('Name of stage 3').fill('Quote sent');
    await page.getByRole('button', { name: `Remove “${second.name}”` }).click();
    const dialog = page.getByRole('dialog');
    await expect(dialog).toContainText(phone ? '1 deal is in this stage' : '2 deals are in this stage');
    await dialog.getByRole('button', { name: 'Move deals and remove' }).click();
    await expect(page.getByText('On save, the deals of 1 removed stage are moved first.')).toBeVisible();
    await expectAccessible(page, 'pipeline settings');
    await shot(page, info, 'pipelines-en');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await expect(page.getByRole('button', { name: 'Save', exact: true })).toBeDisabled();
    await expect(page.getByTestId('stage-list').getByRole('textbox')).toHaveCount(5);
    const saved = (await apiCall(request, token, 'GET', `/v1/pipelines/${pipeline.id}`)) as { stages: Stage[] };
    expect(saved.stages.map((st) => st.id)).not.toContain(second.id);
    expect(saved.stages.map((st) => st.name)).toContain('Quote sent');
    expect((await apiCall(request, token, 'GET', `/v1/deals/${alpha.id}`)).stage_id).toBe(first.id);
  });

  await test.step('a new deal from the drawer lands in the first stage', async () => {
    await page.goto('/deals');
    await page.getByRole('button', { name: 'New deal' }).click();
    const drawer = page.getByRole('dialog');
    await drawer.getByLabel('Deal name').fill('Tea for the office');
    await drawer.getByLabel('Amount').fill('88.80');
    await expectAccessible(page, 'new deal');
    await drawer.getByRole('button', { name: 'Create', exact: true }).click();
    await expect(drawer).toBeHidden();
    await expect(column(first)).toContainText('Tea for the office');
    await expect(column(first).getByTestId('stage-count')).toHaveText('3 deals');
    await expect(column(first).getByTestId('stage-total')).toHaveText('CN¥3,089.30');
  });

  await test.step('in Chinese', async () => {
    await page.goto('/deals');
    if (phone) {
      await page.getByRole('button', { name: 'Account' }).click();
    } else {
      await page.getByTestId('language-switch').click();
    }
    await page.getByRole('menuitem', { name: '简体中文' }).click();
    await expect(page.getByRole('heading', { name: '商机', level: 1 })).toBeVisible();
    await expect(column(first).getByTestId('stage-count')).toHaveText('3 个商机');
    await expect(column(first).getByTestId('stage-total')).toHaveText('¥3,089.30');
    await expect(page.getByRole('heading', { name: 'Quote sent' })).toBeVisible();
    await expectAccessible(page, 'deal board (zh-CN)');
    await shot(page, info, 'deals-zh');
  });
  await test.step('a stage pages on with “load more”; another pipeline is one switch away', async () => {
    const renewals = (await apiCall(request, token, 'POST', '/v1/pipelines', {
      name: 'Renewals',
      stages: [{ name: 'Due' }, { name: 'Renewed', kind: 'won' }, { name: 'Churned', kind: 'lost' }],
    })) as { id: string; stages: Stage[] };
    const due = renewals.stages[0]!;
    for (let i = 1; i <= 23; i++) {
      await apiCall(request, token, 'POST', '/v1/deals', {
        title: `Renewal ${i}`,
        amount: { amount_minor: 10_000, currency: 'CNY' },
        pipeline_id: renewals.id,
        stage_id: due.id,
      });
    }
    await page.goto('/deals');
    await page.getByTestId('pipeline-switch').click();
    await page.locator('.ant-select-item-option').filter({ hasText: 'Renewals' }).click();
    await expect(page).toHaveURL(new RegExp(`pipeline=${renewals.id}`));
    await expect(column(due).getByTestId('stage-count')).toHaveText('23 个商机');
    await expect(column(due).getByTestId('stage-total')).toHaveText('¥2,300.00');
    await expect(column(due).getByTestId('deal-card')).toHaveCount(20);
    await column(due).getByRole('button', { name: '加载更多' }).click();
    await expect(column(due).getByTestId('deal-card')).toHaveCount(23);
    await expect(column(due).getByRole('button', { name: '加载更多' })).toHaveCount(0);
    await expect(column(due)).toContainText('Renewal 1');

    // A close-date filter narrows the cards and the server's totals alike.
    await apiCall(request, token, 'POST', '/v1/deals', {
      title: 'Renewal in March',
      amount: { amount_minor: 50_000, currency: 'CNY' },
      pipeline_id: renewals.id,
      stage_id: due.id,
      expected_close_date: '2027-03-10',
    });
    await page.goto(`/deals?pipeline=${renewals.id}&from=2027-03-01&to=2027-03-31`);
    await expect(page.getByText('仅显示符合筛选条件的商机，阶段的数量和金额合计也只统计这些商机。')).toBeVisible();
    await expect(column(due).getByTestId('stage-count')).toHaveText('1 个商机');
    await expect(column(due).getByTestId('stage-total')).toHaveText('¥500.00');
    await expect(column(due).getByTestId('deal-card')).toHaveCount(1);
    await page.getByRole('button', { name: '全部清除' }).click();
    await expect(column(due).getByTestId('stage-count')).toHaveText('24 个商机');
    await expect(column(due).getByTestId('stage-total')).toHaveText('¥2,800.00');
  });
});
