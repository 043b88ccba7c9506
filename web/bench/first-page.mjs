// How long the contact list takes to show its first page in a real Chromium, from the
// start of a full page load (the console's code, resuming the session from its cookie,
// the first API page) to the first row on screen. Run by the load benchmark
// (functions/local/benches/load.rs) against its server with 100,000 contacts:
//   node bench/first-page.mjs <base url> <email> <password> [loads]
// Prints one JSON line: {"samples": n, "p50_ms": …, "p95_ms": …}.
import { chromium } from '@playwright/test';

const [base, email, password, loadsArg] = process.argv.slice(2);
if (!base || !email || !password) {
  console.error('usage: first-page.mjs <base url> <email> <password> [loads]');
  process.exit(2);
}
const loads = Number(loadsArg ?? 20);
const browser = await chromium.launch({
  executablePath: process.env.CRM_CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const page = await browser.newPage({ viewport: { width: 1366, height: 860 }, locale: 'en-US' });
await page.goto(`${base}/login`);
await page.getByLabel('Email').fill(email);
await page.getByLabel('Password').fill(password);
await page.getByRole('button', { name: 'Sign in' }).click();
await page.waitForURL(`${base}/`);

const row = page.locator('[data-testid="contact-table"] .ant-table-row').first();
const times = [];
// The first load warms the browser's cache as a returning user's would be.
for (let i = 0; i <= loads; i++) {
  const started = performance.now();
  await page.goto(`${base}/contacts`, { waitUntil: 'commit' });
  await row.waitFor({ state: 'visible', timeout: 30_000 });
  if (i > 0) times.push(performance.now() - started);
}
await browser.close();
times.sort((a, b) => a - b);
const at = (q) => times[Math.min(times.length - 1, Math.floor(q * times.length))];
console.log(JSON.stringify({ samples: times.length, p50_ms: Math.round(at(0.5)), p95_ms: Math.round(at(0.95)) }));
