// What the end-to-end tests share: API calls a partner would make (to set up data the
// journey does not click through), the mail the server dropped, accessibility checks and
// screenshots.

import AxeBuilder from '@axe-core/playwright';
import { expect, type APIRequestContext, type Page, type TestInfo } from '@playwright/test';
import { createHmac } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const PASSWORD = 'plum tree at dawn 42';

export function uniqueEmail(prefix: string) {
  return `${prefix}-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`;
}

/** A partner-style sign-in (JSON mode), for setting up data through the API. */
export async function apiToken(request: APIRequestContext, email: string, password = PASSWORD): Promise<string> {
  const res = await request.post('/v1/auth/login', { data: { email, password } });
  expect(res.status(), await res.text()).toBe(200);
  return ((await res.json()) as { access_token: string }).access_token;
}

export async function apiCall(
  request: APIRequestContext,
  token: string,
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
  path: string,
  data?: unknown,
  headers: Record<string, string> = {},
) {
  const res = await request.fetch(path, {
    method,
    data: data as never,
    headers: { authorization: `Bearer ${token}`, ...headers },
  });
  const text = await res.text();
  expect(res.ok(), `${method} ${path}: ${res.status()} ${text}`).toBeTruthy();
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

/** The newest mail the server dropped for `to` (the local mail transport writes JSON). */
export function latestMail(to: string): { subject: string; text: string } {
  const dir = join(process.env.CRM_E2E_DATA_DIR!, 'mail');
  const mails = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as { id: string; to: string; subject: string; text: string })
    .filter((m) => m.to === to)
    .sort((a, b) => (a.id < b.id ? 1 : -1));
  if (!mails[0]) throw new Error(`no mail to ${to}`);
  return mails[0];
}

/** axe-core on the current screen: no serious or critical violation. */
export async function expectAccessible(page: Page, screen: string) {
  // Judge the settled screen: colours halfway through a fade (a toast, a drawer) are no
  // colours a reader sees for long, and axe would measure their contrast.
  await page
    .waitForFunction(() => document.getAnimations().every((a) => a.playState !== 'running'), undefined, {
      timeout: 5_000,
    })
    .catch(() => undefined);
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  const bad = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const summary = bad.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(' | ')}`);
  expect(summary, `axe on ${screen}`).toEqual([]);
  axeLog.push({ screen, violations: results.violations.length, serious: bad.length });
}

export const axeLog: { screen: string; violations: number; serious: number }[] = [];

/** A screenshot of a main screen, kept in e2e/screenshots for the README and reviews. */
export async function shot(page: Page, info: TestInfo, name: string) {
  await page.waitForLoadState('networkidle');
  await expect(page.locator('.ant-spin-spinning, .ant-skeleton-active')).toHaveCount(0);
  const suffix = info.project.name === 'phone' ? '-phone' : '';
  await page.screenshot({ path: join(import.meta.dirname, 'screenshots', `${name}${suffix}.png`) });
}

/** Nothing secret may sit where page scripts can read it. */
export async function expectNoTokenInStorage(page: Page) {
  const stored = await page.evaluate(() => {
    const all: string[] = [document.cookie];
    for (const s of [localStorage, sessionStorage]) {
      for (let i = 0; i < s.length; i++) {
        const k = s.key(i)!;
        all.push(k, s.getItem(k) ?? '');
      }
    }
    return all.join('\n');
  });
  expect(stored).not.toMatch(/eyJ[\w-]+\.[\w-]+|crt\.|crm_refresh/);
}

/** Uncaught errors of a page: a journey ends with none. */
export function pageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`${e.message}\n${e.stack ?? ''}`));
  return errors;
}

/** The current TOTP code (RFC 6238: SHA-1, 30 s, 6 digits) of a base32 secret, as an
 * authenticator app shows it. */
export function totp(secret: string, at = Date.now()): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of secret.replace(/=+$/, '').toUpperCase()) {
    const v = alphabet.indexOf(c);
    if (v < 0) continue;
    bits += v.toString(2).padStart(5, '0');
  }
  const key = Buffer.from((bits.match(/.{8}/g) ?? []).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 30_000)));
  const mac = createHmac('sha1', key).update(counter).digest();
  const offset = mac[mac.length - 1]! & 0xf;
  const code = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return String(code).padStart(6, '0');
}
