// Debian's chromium driven by playwright-core (never a downloaded browser), one launch per test file (a fresh profile
// directory each time), with
// console errors and page errors collected so a test can assert the page stayed clean.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const ARTIFACTS = path.resolve('test-artifacts/dashboard');

export interface TestBrowser {
  context: BrowserContext;
  page: Page;
  /** console.error messages and uncaught exceptions seen so far, plus any dialog that opened. */
  problems: string[];
  dialogs: string[];
  screenshot(name: string): Promise<void>;
  close(): Promise<void>;
}

export async function launchBrowser(opts: { width?: number; height?: number } = {}): Promise<TestBrowser> {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mb-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: opts.width ?? 1200, height: opts.height ?? 900 },
  });
  context.setDefaultTimeout(8000);
  const page = await context.newPage();
  const problems: string[] = [];
  const dialogs: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('dialog', async (d) => {
    dialogs.push(`${d.type()}: ${d.message()}`);
    if (d.type() === 'confirm') await d.accept();
    else await d.dismiss();
  });
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  return {
    context, page, problems, dialogs,
    screenshot: async (name) => { await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true }); },
    close: async () => {
      await context.close();
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}
