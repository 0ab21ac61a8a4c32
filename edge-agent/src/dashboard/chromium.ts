import type { Browser } from 'playwright-core';

/** Debian's Chromium (`apt-get install chromium`): the tests and the dashboard bench never download a browser. */
export const chromiumPath = '/usr/bin/chromium';

/** The flags headless Chromium needs here: no sandbox (root in a container), no GPU, no background traffic. */
export const chromiumArgs = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'];

/** Launches Debian's Chromium headless through playwright-core (loaded only when asked for). */
export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: chromiumPath, headless: true, args: chromiumArgs });
}
