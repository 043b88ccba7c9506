// Custom objects in a real Chromium against the real local server: a company signs up and
// sees the empty state; a "Project" object with relations to contacts and companies is
// defined through the API; in the console a project is created from the generated form,
// found in the list by a Chinese inner substring, opened, edited (also over someone else's
// change: the conflict view), logged on, shown in the related lists of its contact and its
// company, and a second one deleted. Then the same screens in Chinese. The phone project
// runs it all at 375 px, where the list is cards.

import { expect, test, type Page } from '@playwright/test';
import { apiCall, apiToken, expectAccessible as axe, pageErrors, PASSWORD, shot, uniqueEmail } from './support';

test.use({ locale: 'en-US' });

async function openMenuItem(page: Page, phone: boolean, name: RegExp) {
  if (phone) {
    await page.getByRole('button', { name: /^(Menu|菜单)$/ }).click();
    await page.getByRole('dialog').getByRole('link', { name }).click();
  } else {
    await page.getByRole('navigation', { name: /^(Menu|菜单)$/ }).getByRole('link', { name }).click();
  }
}

/** axe with the mouse moved away (a button under the pointer is in its hover colour). */
async function expectAccessible(page: Page, screen: string) {
  await page.mouse.move(0, 0);
  await axe(page, screen);
}

/**
 * Picks an option of an antd select in the open drawer, opened by its label (typing `search` first, for a
 * record picker), until the field shows it: a click on an option that a search answer
 * re-renders under the pointer can be lost, so the pick is tried again rather than the
 * next step run on a field left empty.
 */
async function choose(page: Page, label: string, option: string, search?: string) {
  const name = new RegExp(`^${label}( \\(optional\\))?$`);
  const item = page.getByRole('dialog').locator('.ant-form-item').filter({ has: page.getByRole('combobox', { name }) });
  const input = item.getByRole('combobox', { name });
  await expect(async () => {
    await input.click();
    if (search) await input.fill(search);
    await page.locator('.ant-select-dropdown:visible').getByTitle(option, { exact: true }).click({ timeout: 5_000 });
    await expect(item).toContainText(option, { timeout: 2_000 });
  }).toPass({ timeout: 30_000 });
}

const PROJECT = {
  key: 'project',
  label: { en: 'Project', 'zh-CN': '项目' },
  plural_label: { en: 'Projects', 'zh-CN': '项目' },
  description: 'Fit-outs and renovations we run for clients',
  fields: [
    { key: 'stage', label: 'Stage', type: 'single_select', options: ['plan', 'build', 'done'], required: true },
    { key: 'budget', label: 'Budget', type: 'money' },
    { key: 'client', label: 'Client', type: 'relation', target: 'contacts' },
    { key: 'site_owner', label: 'Site owner', type: 'relation', target: 'companies' },
    { key: 'urgent', label: 'Urgent', type: 'boolean' },
    { key: 'due', label: 'Due', type: 'date' },
    { key: 'code', label: 'Code', type: 'text', unique: true },
  ],
};

test('custom objects: define, create, search, edit, related lists, delete', async ({ page, request }, info) => {
  test.setTimeout(240_000);
  const phone = info.project.name === 'phone';
  const errors = pageErrors(page);
  const email = uniqueEmail('objects');

  await test.step('sign up; no custom objects yet', async () => {
    await page.goto('/signup');
    await page.getByLabel('Company name').fill('西湖装饰 West Lake Fit-out');
    await page.getByLabel('Your name').fill('Lin Wei');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Create company' }).click();
    await expect(page.getByRole('heading', { name: 'Hello, Lin Wei' })).toBeVisible();
    await openMenuItem(page, phone, /^Custom objects$/);
    await expect(page.getByRole('heading', { name: 'Custom objects' })).toBeVisible();
    await expect(page.getByTestId('objects-empty')).toContainText('POST /v1/objects');
    await expectAccessible(page, 'objects (empty)');
    await shot(page, info, 'objects-empty-en');
  });

  const token = await apiToken(request, email);
  const contact = await apiCall(request, token, 'POST', '/v1/contacts', { name: '王小明', title: '业主代表' });
  const company = await apiCall(request, token, 'POST', '/v1/companies', { name: '杭州西湖茶业' });
  const contactId = String(contact.id);
  const companyId = String(company.id);
  await apiCall(request, token, 'POST', '/v1/objects', PROJECT);

  let recordUrl = '';
  await test.step('create a project from the generated form', async () => {
    await page.goto('/objects');
    await page.getByRole('link', { name: /Projects/ }).click();
    await expect(page.getByRole('heading', { name: 'Projects' })).toBeVisible();
    await expect(page.getByText('No Projects yet.')).toBeVisible();
    await expectAccessible(page, 'projects (empty)');
    await page.getByRole('button', { name: 'New Project' }).click();
    const drawer = page.getByRole('dialog', { name: 'New Project' });
    await expect(drawer).toBeVisible();
    await drawer.getByLabel('Name', { exact: true }).fill('上海仓库改造工程');
    // The required select is checked before anything is sent.
    await drawer.getByRole('button', { name: 'Create', exact: true }).click();
    await expect(drawer.getByText('Required')).toBeVisible();
    await choose(page, 'Stage', 'plan');
    await drawer.getByLabel('Budget').fill('1.234');
    await drawer.getByRole('button', { name: 'Create', exact: true }).click();
    await expect(drawer.getByText('Enter an amount such as 1234.50 (at most 2 decimals)')).toBeVisible();
    await drawer.getByLabel('Budget').fill('50000.50');
    await choose(page, 'Client', '王小明', '小明');
    await choose(page, 'Site owner', '杭州西湖茶业', '西湖');
    await drawer.getByLabel('Urgent').check();
    await drawer.getByLabel('Due').click();
    await page.keyboard.type('2026-12-31');
    await page.keyboard.press('Enter');
    await drawer.getByLabel('Code').fill('P-1');
    await expectAccessible(page, 'new project');
    await shot(page, info, 'objects-new-en');
    await drawer.getByRole('button', { name: 'Create', exact: true }).click();

    await expect(page.getByTestId('record-name')).toHaveText('上海仓库改造工程');
    recordUrl = page.url();
    expect(recordUrl).toMatch(/\/objects\/project\/rec_[0-9a-z]{26}$/);
    const details = page.getByTestId('record-details');
    await expect(details).toContainText('CN¥50,000.50');
    await expect(details).toContainText('Dec 31, 2026');
    await expect(details).toContainText('Yes');
    await expect(details).toContainText('P-1');
    await expect(details.getByRole('link', { name: '王小明' })).toHaveAttribute('href', `/contacts/${contactId}`);
    await expect(details.getByRole('link', { name: '杭州西湖茶业' })).toHaveAttribute('href', `/companies/${companyId}`);
    await expect(page.getByTestId('record-timeline')).toContainText('Created');

    // Stored in minor units, exactly.
    const id = recordUrl.split('/').pop()!;
    const stored = await apiCall(request, token, 'GET', `/v1/objects/project/records/${id}`);
    expect(stored.custom).toMatchObject({
      budget: { amount_minor: 5000050, currency: 'CNY' },
      stage: 'plan',
      client: contactId,
      site_owner: companyId,
      urgent: true,
      due: '2026-12-31',
      code: 'P-1',
    });
  });

  await test.step('find it in the list by a Chinese inner substring, with filters as chips', async () => {
    await apiCall(request, token, 'POST', '/v1/objects/project/records', { name: '杭州展厅翻新', custom: { stage: 'done' } });
    await openMenuItem(page, phone, /^Custom objects$/);
    await page.getByRole('link', { name: /Projects/ }).click();
    await expect(page.getByTestId('shown-count')).toHaveText('2 shown');
    const search = page.getByTestId('object-search').getByRole('searchbox');
    await search.fill('仓库');
    await search.press('Enter');
    await expect(page.getByTestId('shown-count')).toHaveText('1 shown');
    await expect(page.getByRole('link', { name: '上海仓库改造工程' })).toBeVisible();
    await expect(page.getByRole('link', { name: '杭州展厅翻新' })).toHaveCount(0);
    if (phone) {
      await expect(page.getByTestId('record-cards')).toContainText('Stage: plan');
    } else {
      const table = page.getByTestId('record-table');
      await expect(table.getByRole('columnheader', { name: 'Budget' })).toBeVisible();
      await expect(table).toContainText('CN¥50,000.50');
      await expect(table.getByRole('link', { name: '王小明' })).toBeVisible();
    }
    await expectAccessible(page, 'projects (search)');
    await shot(page, info, 'objects-list-en');

    await page.goto('/objects/project?cf.stage=done');
    await expect(page.getByTestId('filter-chips')).toContainText('Stage: done');
    await expect(page.getByRole('link', { name: '杭州展厅翻新' })).toBeVisible();
    await expect(page.getByRole('link', { name: '上海仓库改造工程' })).toHaveCount(0);
    await page.goto(`/objects/project?cf.client=${contactId}`);
    await expect(page.getByTestId('filter-chips')).toContainText('Client: 王小明');
    await expect(page.getByTestId('shown-count')).toHaveText('1 shown');
    await page.getByRole('button', { name: 'Clear all' }).click();
    await expect(page.getByTestId('shown-count')).toHaveText('2 shown');
    await page.getByRole('link', { name: '上海仓库改造工程' }).first().click();
    await expect(page).toHaveURL(recordUrl);
  });

  await test.step('edit it, then over someone else’s change', async () => {
    await page.getByRole('button', { name: 'Edit' }).click();
    let drawer = page.getByRole('dialog', { name: /^Edit/ });
    await choose(page, 'Stage', 'build');
    await drawer.getByLabel('Code').fill('');
    await drawer.getByRole('button', { name: 'Save' }).click();
    await expect(drawer).toHaveCount(0);
    const details = page.getByTestId('record-details');
    await expect(details).toContainText('build');
    // A cleared value is gone from the answer, so from the page.
    await expect(details).not.toContainText('Code');
    await expect(page.getByTestId('record-timeline')).toContainText('Changed');

    const id = recordUrl.split('/').pop()!;
    await page.getByRole('button', { name: 'Edit' }).click();
    drawer = page.getByRole('dialog', { name: /^Edit/ });
    await drawer.getByLabel('Budget').fill('62000');
    await apiCall(request, token, 'PATCH', `/v1/objects/project/records/${id}`, { custom: { stage: 'done' } });
    await drawer.getByRole('button', { name: 'Save' }).click();
    const conflict = page.getByTestId('conflict');
    await expect(conflict).toContainText('Someone else changed this record');
    await expect(conflict).toContainText('done');
    await expect(conflict).toContainText('CN¥62,000.00');
    await expectAccessible(page, 'conflict');
    await conflict.getByRole('button', { name: 'Apply my change' }).click();
    await expect(conflict).toHaveCount(0);
    await expect(details).toContainText('CN¥62,000.00');
    await expect(details).toContainText('done');
    const saved = await apiCall(request, token, 'GET', `/v1/objects/project/records/${id}`);
    expect(saved.custom).toMatchObject({ stage: 'done', budget: { amount_minor: 6200000, currency: 'CNY' } });

    await page.getByLabel('What happened?').fill('现场勘察完成');
    await page.getByRole('button', { name: 'Log' }).click();
    await expect(page.getByTestId('record-timeline')).toContainText('现场勘察完成');
    await expectAccessible(page, 'project page');
    await shot(page, info, 'objects-record-en');
  });

  await test.step('the related lists on the contact’s and the company’s pages', async () => {
    await page.goto(`/contacts/${contactId}`);
    const related = page.getByTestId('related-project-client');
    await expect(related.getByRole('heading', { name: 'Projects' })).toBeVisible();
    await expect(related.getByRole('link', { name: '上海仓库改造工程' })).toBeVisible();
    await expect(related).toContainText('Stage: done');
    await expectAccessible(page, 'contact with related projects');
    await related.scrollIntoViewIfNeeded();
    await shot(page, info, 'objects-related-contact-en');

    // "+ Add" opens the form with the relation filled in.
    await related.getByRole('link', { name: 'Add Project' }).click();
    const drawer = page.getByRole('dialog', { name: 'New Project' });
    await expect(drawer.locator('.ant-form-item').filter({ hasText: 'Client' })).toContainText('王小明');
    await drawer.getByLabel('Name', { exact: true }).fill('王府井门店');
    await choose(page, 'Stage', 'plan');
    await drawer.getByRole('button', { name: 'Create', exact: true }).click();
    await expect(page.getByTestId('record-name')).toHaveText('王府井门店');
    await page.goto(`/contacts/${contactId}`);
    await expect(page.getByTestId('related-project-client').getByRole('link')).toHaveCount(3); // two records and "Add"

    await page.goto(`/companies/${companyId}`);
    const site = page.getByTestId('related-project-site_owner');
    await expect(site.getByRole('link', { name: '上海仓库改造工程' })).toBeVisible();
    await expect(site.getByRole('link', { name: '王府井门店' })).toHaveCount(0);
    await expectAccessible(page, 'company with related projects');
  });

  await test.step('delete a record, after confirming', async () => {
    await page.goto('/objects/project?q=%E5%B1%95%E5%8E%85');
    await page.getByRole('link', { name: '杭州展厅翻新' }).first().click();
    await page.getByRole('button', { name: 'Delete' }).click();
    const confirm = page.locator('.ant-modal-confirm');
    await expect(confirm).toContainText('Delete “杭州展厅翻新”?');
    await expect(confirm).toContainText('cannot be undone');
    await expectAccessible(page, 'delete confirmation');
    await confirm.getByRole('button', { name: 'Delete' }).click();
    await expect(page).toHaveURL(/\/objects\/project$/);
    await expect(page.getByTestId('shown-count')).toHaveText('2 shown');
    await expect(page.getByRole('link', { name: '杭州展厅翻新' })).toHaveCount(0);
  });

  await test.step('in Chinese', async () => {
    // The "Deleted" toast has gone before the screens are judged and shot.
    await expect(page.locator('.ant-message-notice')).toHaveCount(0);
    const saved = page.waitForResponse((r) => r.url().endsWith('/v1/me') && r.request().method() === 'PATCH');
    if (phone) {
      await page.getByRole('button', { name: 'Account' }).click();
    } else {
      await page.getByTestId('language-switch').click();
    }
    await page.getByRole('menuitem', { name: '简体中文' }).click();
    await saved;
    await openMenuItem(page, phone, /^自定义对象$/);
    await expect(page.getByRole('heading', { name: '自定义对象' })).toBeVisible();
    await expect(page.getByTestId('object-cards')).toContainText('项目');
    await expect(page.getByTestId('object-cards')).toContainText('7 个字段');
    await expectAccessible(page, 'objects (zh-CN)');
    await shot(page, info, 'objects-zh');
    await page.getByRole('link', { name: /项目/ }).click();
    await expect(page.getByRole('heading', { name: '项目' })).toBeVisible();
    await expect(page.getByRole('button', { name: '新建项目' })).toBeVisible();
    const search = page.getByTestId('object-search').getByRole('searchbox');
    await search.fill('改造');
    await search.press('Enter');
    await expect(page.getByTestId('shown-count')).toHaveText(/1/);
    await expectAccessible(page, 'projects (zh-CN)');
    await shot(page, info, 'objects-list-zh');
    await page.getByRole('link', { name: '上海仓库改造工程' }).first().click();
    const details = page.getByTestId('record-details');
    await expect(details).toContainText('负责人');
    await expect(details).toContainText('¥62,000.00');
    await expect(details).toContainText('2026年12月31日');
    await expect(details).toContainText('是');
    await expect(page.getByRole('button', { name: '编辑' })).toBeVisible();
    await expectAccessible(page, 'project page (zh-CN)');
    await shot(page, info, 'objects-record-zh');
    await page.goto(`/contacts/${contactId}`);
    await expect(page.getByTestId('related-project-client').getByRole('heading', { name: '项目' })).toBeVisible();
  });

  expect(errors).toEqual([]);
});
