// Signing in from a browser: a wrong password said plainly, a forgotten password reset by
// the mailed link, and the second step for a user with two-factor sign-in; the session
// survives a reload and renews itself before its access token expires.

import { expect, test } from '@playwright/test';
import { apiCall, apiToken, expectAccessible, latestMail, pageErrors, PASSWORD, shot, totp, uniqueEmail } from './support';

test.use({ locale: 'en-US' });

async function signUp(request: import('@playwright/test').APIRequestContext, email: string) {
  const res = await request.post('/v1/signup', {
    data: { company_name: 'Lotus Tea 莲花茶', name: 'Ada Wu', email, password: PASSWORD },
  });
  expect(res.status()).toBe(201);
}

test('a wrong password is said plainly; a forgotten one is reset by the mailed link', async ({ page, request }, info) => {
  const errors = pageErrors(page);
  const email = uniqueEmail('reset');
  await signUp(request, email);

  await page.goto('/login');
  await expectAccessible(page, 'sign-in');
  await shot(page, info, 'login-en');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill('not my password at all');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toContainText('the email or password is wrong');

  await page.getByRole('link', { name: 'Forgot password?' }).click();
  // Both pages have an Email field: fill the reset page's, once it is there.
  await expect(page.getByRole('heading', { name: 'Reset your password' })).toBeVisible();
  await page.getByLabel('Email').fill(email);
  await page.getByRole('button', { name: 'Send link' }).click();
  await expect(page.getByText('a link is on its way')).toBeVisible();
  const link = /(\/password-reset\?token=\S+)/.exec(latestMail(email).text)?.[1];
  expect(link).toBeTruthy();
  await page.goto(link!);
  await page.getByLabel('New password').fill('a new tune at noon 7');
  await page.getByRole('button', { name: 'Set password' }).click();
  await expect(page.getByText('Your password is changed')).toBeVisible();

  await page.getByRole('link', { name: 'Back to sign in' }).click();
  await expect(page.getByRole('heading', { name: 'Sign in to your CRM' })).toBeVisible();
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill('a new tune at noon 7');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: 'Hello, Ada Wu' })).toBeVisible();
  // A reload resumes the session from the cookie, without signing in again.
  await page.reload();
  await expect(page.getByRole('heading', { name: 'Hello, Ada Wu' })).toBeVisible();
  expect(errors).toEqual([]);
});

test('a user with two-factor sign-in passes the second step; the page returns where it was', async ({ page, request }, info) => {
  const errors = pageErrors(page);
  const email = uniqueEmail('mfa');
  await signUp(request, email);
  const token = await apiToken(request, email);
  const enrolment = await apiCall(request, token, 'POST', '/v1/me/mfa/totp', {});
  const secret = enrolment.secret as string;
  await apiCall(request, token, 'POST', '/v1/me/mfa/totp/confirm', { code: totp(secret), password: PASSWORD });

  await page.goto('/contacts?q=%E8%8E%B2');
  await expect(page).toHaveURL(/\/login\?next=/);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: 'Two-step verification' })).toBeVisible();
  await expectAccessible(page, 'second step');
  await shot(page, info, 'mfa-en');
  await page.getByLabel('Code').fill('000000');
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page.getByText('The code is wrong or has expired.')).toBeVisible();
  // The next 30-second step's code, so a code is never used twice.
  await page.getByLabel('Code').fill(totp(secret, Date.now() + 30_000));
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page).toHaveURL(/\/contacts\?q=%E8%8E%B2$/);
  await expect(page.getByRole('heading', { name: 'Contacts' })).toBeVisible();
  expect(errors).toEqual([]);
});

test('the Chinese sign-up page', async ({ page }, info) => {
  await page.goto('/signup');
  await page.getByTestId('language-switch').click();
  await page.getByRole('menuitem', { name: '简体中文' }).click();
  await expect(page.getByRole('heading', { name: '为您的公司开通 CRM' })).toBeVisible();
  await expectAccessible(page, 'sign-up (zh-CN)');
  await shot(page, info, 'signup-zh');
  // What only the server judges comes back in Chinese too, next to its field.
  await page.getByLabel('公司名称').fill('松竹贸易');
  await page.getByLabel('您的姓名').fill('王芳');
  await page.getByLabel('邮箱').fill('wang@example');
  await expect(page.getByRole('combobox', { name: '语言和地区' }).locator('..')).toContainText('简体中文');
  await page.getByLabel('密码').fill(PASSWORD);
  await page.getByRole('button', { name: '创建公司' }).click();
  await expect(page.getByText('必须为有效的邮箱地址，如 name@example.com')).toBeVisible();
  await shot(page, info, 'signup-error-zh');
});

test('the session renews itself before the access token expires', async ({ page, request }, info) => {
  const email = uniqueEmail('renew');
  await signUp(request, email);
  // The browser's clock only: the page's timers run fast, the server keeps real time.
  await page.clock.install();
  await page.goto('/login');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: 'Hello, Ada Wu' })).toBeVisible();
  const renewed = page.waitForResponse((r) => r.url().endsWith('/v1/auth/refresh') && r.status() === 200);
  // Access tokens live 15 minutes; the console renews a minute before.
  await page.clock.fastForward('14:10');
  await renewed;
  if (info.project.name === 'phone') await page.getByRole('button', { name: 'Menu' }).click();
  await page.getByRole('link', { name: 'Contacts' }).first().click();
  await expect(page.getByRole('heading', { name: 'Contacts' })).toBeVisible();
});
