// Importing a custom object's records from CSV in a real Chromium against the real local
// server: a "Vehicle" object is defined through the API; on its list page the Import
// button opens the wizard, which suggests the mapping the server would make (a Chinese
// header for the name, a field by its label, an unknown column left out), checks the file
// with a dry run (nothing written, the bad row reported), imports it (money read exactly),
// and leads to the records. The same file again makes nothing new. Then the wizard in
// Chinese. The phone project runs it all at 375 px.

import { expect, test, type Page } from '@playwright/test';
import { apiCall, apiToken, expectAccessible as axe, pageErrors, PASSWORD, shot, uniqueEmail } from './support';

test.use({ locale: 'en-US' });

/** axe with the mouse moved away (a button under the pointer is in its hover colour). */
async function expectAccessible(page: Page, screen: string) {
  await page.mouse.move(0, 0);
  await axe(page, screen);
}

const VEHICLE = {
  key: 'vehicle',
  label: { en: 'Vehicle', 'zh-CN': '车辆' },
  plural_label: { en: 'Vehicles', 'zh-CN': '车辆' },
  fields: [
    { key: 'plate', label: '车牌号', type: 'text' },
    { key: 'price', label: 'Purchase price', type: 'money' },
    { key: 'seats', label: 'Seats', type: 'number' },
  ],
};

const CSV = [
  '名称,车牌号,Purchase price,seats,Colour',
  '东风货车,浙A12345,1250.50 CNY,3,red',
  '五菱面包,浙B67890,88000 CNY,7,white',
  '坏数据车,浙C00000,twelve CNY,5,blue',
].join('\n');

async function upload(page: Page) {
  await page.locator('input[type=file]').setInputFiles({ name: '车辆.csv', mimeType: 'text/csv', buffer: Buffer.from(CSV) });
  await expect(page.getByTestId('import-mapping')).toBeVisible();
}

test('custom objects: import records from CSV', async ({ page, request }, info) => {
  test.setTimeout(180_000);
  const phone = info.project.name === 'phone';
  const errors = pageErrors(page);
  const email = uniqueEmail('objects-import');

  await page.goto('/signup');
  await page.getByLabel('Company name').fill('钱塘物流 Qiantang Logistics');
  await page.getByLabel('Your name').fill('Zhou Min');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await page.getByRole('button', { name: 'Create company' }).click();
  await expect(page.getByRole('heading', { name: 'Hello, Zhou Min' })).toBeVisible();
  const token = await apiToken(request, email);
  await apiCall(request, token, 'POST', '/v1/objects', VEHICLE);

  await test.step('the list page leads to the wizard, which suggests the mapping', async () => {
    await page.goto('/objects/vehicle');
    await expect(page.getByRole('heading', { name: 'Vehicles' })).toBeVisible();
    await page.getByRole('button', { name: 'Import' }).click();
    await expect(page).toHaveURL(/\/objects\/vehicle\/import$/);
    await expect(page.getByRole('heading', { name: 'Import Vehicles' })).toBeVisible();
    await expectAccessible(page, 'object import: upload');
    await upload(page);
    for (const [i, label] of ['Name', '车牌号', 'Purchase price', 'Seats', 'Do not import'].entries()) {
      await expect(page.getByTestId(`map-${i}`)).toContainText(label);
    }
    // Only the object's own fields are offered.
    await page.getByTestId('map-4').click();
    const options = page.locator('.ant-select-dropdown:visible');
    await expect(options.getByTitle('Seats', { exact: true })).toBeVisible();
    await expect(options.getByTitle('Email', { exact: true })).toHaveCount(0);
    await page.keyboard.press('Escape');
    await expectAccessible(page, 'object import: mapping');
    await shot(page, info, 'objects-import-mapping-en');
  });

  await test.step('a dry run counts the rows and writes nothing', async () => {
    await page.getByRole('button', { name: 'Check without importing' }).click();
    await expect(page.getByText('What the import would do')).toBeVisible();
    const counts = page.getByTestId('import-counts');
    await expect(counts).toContainText('New2');
    await expect(counts).toContainText('Failed1');
    const rows = page.getByTestId('import-rows');
    await expect(rows.getByRole('row')).toHaveCount(2); // the header and the bad row
    await expect(rows).toContainText('4');
    const none = await apiCall(request, token, 'GET', '/v1/objects/vehicle/records');
    expect(none.data).toEqual([]);
    await expectAccessible(page, 'object import: dry run');
    await shot(page, info, 'objects-import-check-en');
  });

  await test.step('the import makes the records, money read exactly', async () => {
    await page.getByRole('button', { name: 'Import now' }).click();
    await expect(page.getByRole('heading', { name: 'Import finished' })).toBeVisible();
    await expect(page.getByTestId('import-progress')).toHaveAttribute('aria-valuenow', '100');
    const counts = page.getByTestId('import-counts');
    await expect(counts).toContainText('New2');
    await expect(counts).toContainText('Failed1');
    await expect(page.getByTestId('import-rows')).toContainText('Failed');
    // The bad cell's field by its label.
    await expect(page.getByTestId('import-rows')).toContainText('Purchase price:');
    await expectAccessible(page, 'object import: done');
    await shot(page, info, 'objects-import-done-en');

    const stored = await apiCall(request, token, 'GET', '/v1/objects/vehicle/records?sort=name');
    const byName = Object.fromEntries((stored.data as { name: string; custom: Record<string, unknown> }[]).map((r) => [r.name, r.custom]));
    expect(Object.keys(byName).sort()).toEqual(['东风货车', '五菱面包'].sort());
    expect(byName['东风货车']).toMatchObject({ plate: '浙A12345', price: { amount_minor: 125050, currency: 'CNY' }, seats: 3 });
    expect(byName['五菱面包']).toMatchObject({ price: { amount_minor: 8800000, currency: 'CNY' } });

    await page.getByRole('button', { name: 'View Vehicles' }).click();
    await expect(page).toHaveURL(/\/objects\/vehicle$/);
    await expect(page.getByTestId('shown-count')).toHaveText('2 shown');
    await expect(page.getByRole('link', { name: '东风货车' })).toBeVisible();
    await expect(page.getByRole('link', { name: '五菱面包' })).toBeVisible();
    await expect(page.getByText('坏数据车')).toHaveCount(0);
    await expect(page.getByTestId(phone ? 'record-cards' : 'record-table')).toContainText('浙A12345');
    await expectAccessible(page, 'vehicles after import');
    await shot(page, info, 'objects-import-list-en');
  });

  await test.step('the same file again makes nothing new', async () => {
    await page.getByRole('button', { name: 'Import' }).click();
    await upload(page);
    await page.getByRole('button', { name: 'Check without importing' }).click();
    await expect(page.getByText('What the import would do')).toBeVisible();
    await page.getByRole('button', { name: 'Import now' }).click();
    await expect(page.getByRole('heading', { name: 'Import finished' })).toBeVisible();
    await expect(page.getByTestId('import-counts')).toContainText('New0');
    const stored = await apiCall(request, token, 'GET', '/v1/objects/vehicle/records');
    expect(stored.data).toHaveLength(2);
  });

  await test.step('in Chinese', async () => {
    const saved = page.waitForResponse((r) => r.url().endsWith('/v1/me') && r.request().method() === 'PATCH');
    if (phone) {
      await page.getByRole('button', { name: 'Account' }).click();
    } else {
      await page.getByTestId('language-switch').click();
    }
    await page.getByRole('menuitem', { name: '简体中文' }).click();
    await saved;
    await page.goto('/objects/vehicle');
    await expect(page.getByRole('heading', { name: '车辆' })).toBeVisible();
    await page.getByRole('button', { name: '导入' }).click();
    await expect(page.getByRole('heading', { name: '导入车辆' })).toBeVisible();
    await upload(page);
    await expect(page.getByTestId('map-0')).toContainText('名称');
    await expect(page.getByTestId('map-4')).toContainText('不导入');
    await expectAccessible(page, 'object import: mapping (zh-CN)');
    await shot(page, info, 'objects-import-mapping-zh');
  });

  expect(errors).toEqual([]);
});
