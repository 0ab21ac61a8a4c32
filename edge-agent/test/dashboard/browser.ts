import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's Chromium (`apt-get install chromium`); the tests never download a browser. */
export const chromiumPath = '/usr/bin/chromium';

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

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

/** Where the tests put the screenshots docs/dashboard.md shows. */
export const screenshotDir = resolve(import.meta.dirname, '../../../docs/dashboard');

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
