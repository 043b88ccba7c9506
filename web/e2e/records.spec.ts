// Records in a real Chromium against the real local server: a CSV with Chinese headers goes
// through the import wizard (suggested mapping, dry run, the real run's progress bar and a
// row error) into the contact list; a filtered export is downloaded; two duplicates made
// through the API are merged side by side taking a value from the second; a company made
// in the console shows in the list and on its page, in English and Chinese. The phone
// project runs the same at 375 px.

import { expect, test, type Page } from '@playwright/test';
import { apiCall, apiToken, expectAccessible as axe, PASSWORD, shot, uniqueEmail } from './support';

test.use({ locale: 'en-US' });

async function openMenuItem(page: Page, phone: boolean, name: RegExp) {
  if (phone) {
    await page.getByRole('button', { name: /^(Menu|菜单)$/ }).click();
    await page.getByRole('dialog').getByRole('link', { name }).click();
  } else {
    await page.getByRole('navigation').getByRole('link', { name }).click();
  }
}

/** axe with the mouse moved away: a button left under the pointer by the previous click
 * is in its hover colour, which is not what the screen looks like. */
async function expectAccessible(page: Page, screen: string) {
  await page.mouse.move(0, 0);
  await axe(page, screen);
}

const CSV = [
  '姓名,手机,邮箱,公司,职位,标签,城市,省份',
  '赵一帆,13900000001,yifan@example.cn,杭州云栖科技,经理,展会,杭州,浙江',
  '钱二宝,13900000002,not-an-email,杭州云栖科技,销售,展会,杭州,浙江',
  '孙三丰,13900000003,sanfeng@example.cn,苏州园林设计,总监,vip,苏州,江苏',
].join('\n');

test('import, export, merge duplicates and companies', async ({ page, request }, info) => {
  // A long journey with many axe runs; beside the AWS pass it once took 2 minutes.
  test.setTimeout(240_000);
  const phone = info.project.name === 'phone';
  const email = uniqueEmail('records');

  await test.step('sign up', async () => {
    await page.goto('/signup');
    await page.getByLabel('Company name').fill('西湖贸易 West Lake Trading');
    await page.getByLabel('Your name').fill('Lin Wei');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await page.getByRole('button', { name: 'Create company' }).click();
    await expect(page.getByRole('heading', { name: 'Hello, Lin Wei' })).toBeVisible();
  });
  const token = await apiToken(request, email);

  await test.step('import a CSV with Chinese headers: dry run, progress, a row error', async () => {
    await page.goto('/contacts/import');
    await expect(page.getByRole('heading', { name: 'Import contacts' })).toBeVisible();
    await expectAccessible(page, 'import: upload');
    await page.locator('input[type=file]').setInputFiles({ name: '客户.csv', mimeType: 'text/csv', buffer: Buffer.from(CSV) });
    const mapping = page.getByTestId('import-mapping');
    await expect(mapping).toBeVisible();
    // The mapping is suggested from the Chinese headers.
    for (const [i, label] of ['Name', 'Phone', 'Email', 'Company', 'Job title', 'Tags', 'City', 'Province / state'].entries()) {
      await expect(page.getByTestId(`map-${i}`)).toContainText(label);
    }
    await expectAccessible(page, 'import: mapping');
    await page.getByRole('button', { name: 'Check without importing' }).click();
    await expect(page.getByText('What the import would do')).toBeVisible();
    const counts = page.getByTestId('import-counts');
    await expect(counts).toContainText('New2');
    await expect(counts).toContainText('Failed1');
    await expect(page.getByTestId('import-rows')).toContainText('email');
    // Nothing was written by the check.
    const before = await apiCall(request, token, 'GET', '/v1/contacts?q=%E8%B5%B5%E4%B8%80%E5%B8%86');
    expect(before.data).toEqual([]);

    await page.getByRole('button', { name: 'Import now' }).click();
    await expect(page.getByTestId('import-progress')).toBeVisible();
    await expect(page.getByRole('heading', { name: 'Import finished' })).toBeVisible();
    await expect(page.getByTestId('import-progress')).toHaveAttribute('aria-valuenow', '100');
    const rows = page.getByTestId('import-rows');
    await expect(rows.getByRole('row')).toHaveCount(2); // the header and the one failed row
    await expect(rows).toContainText('3');
    await expect(rows).toContainText('Failed');
    await expectAccessible(page, 'import: done');
    await shot(page, info, 'import-en');

    await page.getByRole('button', { name: 'View contacts' }).click();
    await expect(page).toHaveURL(/\/contacts$/);
    await expect(page.getByText('赵一帆').first()).toBeVisible();
    await expect(page.getByText('孙三丰').first()).toBeVisible();
    await expect(page.getByText('钱二宝')).toHaveCount(0);
  });

  await test.step('export the filtered list and download it', async () => {
    await page.goto('/contacts/export?tags=vip');
    await expect(page.getByRole('heading', { name: 'Export contacts' })).toBeVisible();
    await expect(page.getByTestId('export-panel')).toContainText('tags: vip');
    await expectAccessible(page, 'export');
    await page.getByRole('button', { name: 'Export', exact: true }).click();
    const download = page.getByTestId('export-download');
    await expect(download).toBeVisible();
    await expect(page.getByText('Records exported: 1')).toBeVisible();
    const href = await download.getAttribute('href');
    const file = await request.get(href!);
    expect(file.status()).toBe(200);
    const text = await file.text();
    expect(text).toContain('孙三丰');
    expect(text).not.toContain('赵一帆');
  });

  await test.step('merge two duplicates taking a value from the second', async () => {
    const first = await apiCall(request, token, 'POST', '/v1/contacts', {
      name: '周杰',
      emails: [{ address: 'zhoujie@example.cn' }],
      title: 'CTO',
      tags: ['vip'],
    });
    const second = await apiCall(request, token, 'POST', '/v1/contacts', {
      name: '周杰',
      emails: [{ address: 'zhoujie@example.cn' }],
      phones: [{ number: '+86 139 0000 0099' }],
      title: 'Sales Director',
      company_name: '宁波港口物流',
    });
    await page.goto('/contacts/duplicates');
    await expect(page.getByRole('heading', { name: 'Duplicates' })).toBeVisible();
    const group = page.getByTestId('duplicate-group').filter({ hasText: '周杰' });
    await expect(group).toContainText('Same email');
    await expectAccessible(page, 'duplicates');
    await group.getByRole('button', { name: /^Merge/ }).click();
    const drawer = page.getByRole('dialog', { name: 'Merge contacts' });
    await expect(drawer.getByTestId('merge-view')).toBeVisible();
    await drawer.getByRole('radio', { name: 'Sales Director' }).check();
    await expect(drawer.getByText('宁波港口物流')).toBeVisible();
    await expectAccessible(page, 'merge');
    await shot(page, info, 'merge-en');
    await drawer.getByRole('button', { name: 'Merge', exact: true }).click();
    const confirm = page.getByTestId('merge-confirm');
    await expect(confirm).toContainText('will be deleted');
    await expect(confirm).toContainText('Job title: CTO');
    await page.locator('.ant-modal-confirm').getByRole('button', { name: 'Merge' }).click();
    await expect(page.getByText('Merged', { exact: true })).toBeVisible();

    const merged = await apiCall(request, token, 'GET', `/v1/contacts/${String(first.id)}`);
    expect(merged.title).toBe('Sales Director');
    expect(merged.company_name).toBe('宁波港口物流');
    expect(merged.tags).toEqual(['vip']);
    expect((merged.phones as { number: string }[]).map((p) => p.number)).toEqual(['+8613900000099']);
    const gone = await request.get(`/v1/contacts/${String(second.id)}`, { headers: { authorization: `Bearer ${token}` } });
    expect(gone.status()).toBe(404);
  });

  await test.step('a company made in the console shows in the list and on its page', async () => {
    await openMenuItem(page, phone, /^Companies$/);
    await expect(page.getByRole('heading', { name: 'Companies' })).toBeVisible();
    await expect(page.getByText('No companies yet.')).toBeVisible();
    await expectAccessible(page, 'companies (empty)');
    await page.getByRole('button', { name: 'New company' }).click();
    await page.getByLabel('Name', { exact: true }).fill('杭州西湖茶业');
    await page.getByLabel('Industry').fill('Tea');
    await page.getByLabel('Size').click();
    await page.getByTitle('10-49 employees').click();
    await page.getByLabel('Province / state').fill('浙江');
    await page.getByLabel('City').fill('杭州');
    await page.getByLabel('Annual revenue').fill('1200000.50');
    await expectAccessible(page, 'new company');
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    await expect(page.getByTestId('company-name')).toHaveText('杭州西湖茶业');
    const companyUrl = page.url();
    expect(companyUrl).toMatch(/\/companies\/[a-z]+_[0-9a-z]{26}$/);
    await page.getByLabel('What happened?').fill('Tasted the new Longjing');
    await page.getByRole('button', { name: 'Log' }).click();
    await expect(page.getByText('Tasted the new Longjing')).toBeVisible();
    await page.getByRole('tab', { name: 'Details' }).click();
    const details = page.getByTestId('company-details');
    await expect(details).toContainText('Tea');
    await expect(details).toContainText('杭州, 浙江');
    await expect(details).toContainText('1,200,000.50');
    await expectAccessible(page, 'company page');

    // Its contacts (GET /v1/companies/{id}/contacts).
    const companyId = companyUrl.split('/').pop()!;
    await apiCall(request, token, 'POST', '/v1/contacts', { name: '吴茶师', title: '采购经理', company_id: companyId });
    await page.reload();
    await page.getByRole('tab', { name: 'Contacts' }).click();
    await expect(page.getByTestId('company-contacts').getByRole('link', { name: '吴茶师' })).toBeVisible();

    // A stale edit (someone changed the company meanwhile) shows the conflict and re-applies.
    await page.getByRole('button', { name: 'Edit' }).click();
    const drawer = page.getByRole('dialog');
    await drawer.getByLabel('Industry').fill('Tea & Teaware');
    await apiCall(request, token, 'PATCH', `/v1/companies/${companyId}`, { tags: ['龙井'] });
    await drawer.getByRole('button', { name: 'Save' }).click();
    const conflict = page.getByTestId('conflict');
    await expect(conflict).toContainText('Someone else changed this company');
    await expect(conflict).toContainText('龙井');
    await expect(conflict).toContainText('Tea & Teaware');
    await conflict.getByRole('button', { name: 'Apply my change' }).click();
    await expect(conflict).toHaveCount(0);
    await expect(page.getByText(/Tea & Teaware · /)).toBeVisible();
    const saved = await apiCall(request, token, 'GET', `/v1/companies/${companyId}`);
    expect(saved.industry).toBe('Tea & Teaware');
    expect(saved.tags).toEqual(['龙井']);

    await page.goto('/companies');
    await expect(page.getByRole('link', { name: '杭州西湖茶业' })).toBeVisible();
    await expect(page.getByTestId('shown-count')).toHaveText('1 shown');
    await expectAccessible(page, 'companies');
    await shot(page, info, 'companies-en');

    // The list exports as JSON through the export button.
    await page.getByTestId('export-button').click();
    const dialog = page.getByRole('dialog', { name: 'Export companies' });
    await dialog.getByText('JSON', { exact: true }).click();
    await dialog.getByRole('button', { name: 'Export', exact: true }).click();
    await expect(dialog.getByText('Records exported: 1')).toBeVisible();
    await expectAccessible(page, 'export dialog');
    const exported = await request.get((await dialog.getByTestId('export-download').getAttribute('href'))!);
    expect(await exported.text()).toContain('杭州西湖茶业');
    await dialog.getByRole('button', { name: 'Close' }).click();

    // Filters: size and region at any level, shown as removable chips.
    await page.goto('/companies?size_band=1-9');
    await expect(page.getByTestId('filter-chips')).toContainText('Size: 1-9 employees');
    await expect(page.getByText('No company matches.')).toBeVisible();
    await page.goto('/companies?province=%E6%B5%99%E6%B1%9F&size_band=10-49');
    await expect(page.getByRole('link', { name: '杭州西湖茶业' })).toBeVisible();

    // A second one with a similar name is flagged while typing.
    await page.goto('/companies/new');
    await page.getByLabel('Name', { exact: true }).fill('西湖茶业');
    await expect(page.getByTestId('duplicate-warning')).toContainText('杭州西湖茶业');
    await page.getByTestId('duplicate-warning').getByRole('link', { name: 'Open' }).click();
    await expect(page).toHaveURL(companyUrl);
  });

  await test.step('the companies in Chinese', async () => {
    // The choice is saved on the user before the page is left.
    const saved = page.waitForResponse((r) => r.url().endsWith('/v1/me') && r.request().method() === 'PATCH');
    if (phone) {
      await page.getByRole('button', { name: 'Account' }).click();
      await page.getByRole('menuitem', { name: '简体中文' }).click();
    } else {
      await page.getByTestId('language-switch').click();
      await page.getByRole('menuitem', { name: '简体中文' }).click();
    }
    await saved;
    await page.goto('/companies');
    await expect(page.getByRole('heading', { name: '客户公司' })).toBeVisible();
    await expect(page.getByRole('link', { name: '杭州西湖茶业' })).toBeVisible();
    await expectAccessible(page, 'companies (zh-CN)');
    await shot(page, info, 'companies-zh');
  });
});
