import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { chromiumPath, launchChromium } from '../../src/dashboard/chromium.ts';

export { chromiumPath, launchChromium };

/**
 * Whether the browser tests can run here. Without /usr/bin/chromium they are skipped with a
 * message, unless STOREEDGE_REQUIRE_CHROMIUM=1 (set by .ci/run), where that is a failure.
 */
export function chromiumAvailable(): boolean {
  if (existsSync(chromiumPath)) return true;
  const message = `dashboard browser tests: ${chromiumPath} is missing — install it with \`apt-get install -y chromium\` (as root); skipping`;
  if (process.env.STOREEDGE_REQUIRE_CHROMIUM === '1') throw new Error(`${message.replace('; skipping', '')} (STOREEDGE_REQUIRE_CHROMIUM=1)`);
  console.warn(message);
  return false;
}

/**
 * Where the tests put their screenshots: docs/dashboard/ (the ones docs/dashboard.md shows) with
 * STOREEDGE_UPDATE_SCREENSHOTS=1, else a temporary folder — a plain `npm test` leaves the
 * checkout as it was.
 */
export const screenshotDir =
  process.env.STOREEDGE_UPDATE_SCREENSHOTS === '1' ? resolve(import.meta.dirname, '../../../docs/dashboard') : resolve(tmpdir(), 'storeedge-dashboard-screenshots');

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(screenshotDir, { recursive: true });
  await page.screenshot({ path: resolve(screenshotDir, `${name}.png`), fullPage: true });
}

/**
 * Script errors and console errors of a page (a CSP violation is one). Refused requests are left
 * out: the browser logs every 4xx, and the tests make some on purpose (a wrong password).
 */
export function watchProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  return problems;
}
