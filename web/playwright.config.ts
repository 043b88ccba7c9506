// End-to-end tests: Debian's Chromium (no browser download) against the real local server
// on a fresh data directory, at a desktop and at a phone viewport.

import { defineConfig, devices } from '@playwright/test';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const port = Number(process.env.CRM_E2E_PORT ?? 3100);
// Set once in the runner; workers inherit it, so every test reads the same server's mail.
process.env.CRM_E2E_DATA_DIR ??= mkdtempSync(join(tmpdir(), 'crm-e2e-'));
const dataDir = process.env.CRM_E2E_DATA_DIR;

const chromium = {
  executablePath: process.env.CRM_CHROMIUM ?? '/usr/bin/chromium',
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
};

export default defineConfig({
  testDir: 'e2e',
  timeout: 120_000,
  // Generous: in CI the browser shares two cores with the AWS pass of the Rust tests.
  expect: { timeout: 20_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list']],
  outputDir: process.env.CRM_E2E_OUTPUT ?? 'test-results',
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    launchOptions: chromium,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
  projects: [
    { name: 'desktop', use: { ...devices['Desktop Chrome'], viewport: { width: 1366, height: 860 }, launchOptions: chromium } },
    {
      name: 'phone',
      use: { ...devices['Pixel 7'], viewport: { width: 375, height: 812 }, launchOptions: chromium },
    },
  ],
  webServer: {
    // The server the README starts, with the console this build produced.
    // CRM_E2E_SERVER names a built `crm` (infra/test.sh passes the one its tests built);
    // otherwise cargo builds and runs it.
    command: `${process.env.CRM_E2E_SERVER ?? 'cargo run --quiet -p crm --'} --bind 127.0.0.1:${port} --data-dir ${dataDir}`,
    cwd: '..',
    url: `http://127.0.0.1:${port}/`,
    timeout: 15 * 60_000,
    reuseExistingServer: false,
    stdout: 'ignore',
    stderr: 'pipe',
    env: {
      CRM_CONSOLE_DIR: join(import.meta.dirname, 'dist'),
      CRM_AUTH_ANSWER_FLOOR_MS: '100',
      CRM_WORKER_INTERVAL_MS: '200',
    },
  },
});
