import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAvailable, launchChromium, screenshot, watchProblems } from './browser.ts';
import { startLiveStore, users, type LiveStore, type Shopper } from './live-store.ts';

/**
 * The store manager's dashboard in headless Chromium (Debian's, via playwright-core) against a
 * real agent, with a simulated shelf, gate, tracker and ESL gateway talking MQTT to it in real
 * time. The tests run in order on one store: each step's shoppers and picks build on the last.
 * No wall-clock assertions: every wait is for a condition, bounded by a timeout.
 */
const run = chromiumAvailable();
const WAIT = 30_000;

/**
 * The browser globals the page-side callbacks use (the project's tsconfig has no DOM lib).
 * Callbacks, not strings: a string would be eval'd in the page, which its CSP rightly refuses.
 */
interface PageElement {
  textContent: string | null;
  complete?: boolean;
  naturalWidth?: number;
}
declare const document: { querySelectorAll(selector: string): { length: number }; querySelector(selector: string): PageElement | null; activeElement: PageElement | null };
declare const location: { hash: string };
declare function getComputedStyle(element: PageElement | null): { outlineStyle: string };

/** Waits until exactly `n` elements match. */
function count(page: Page, selector: string, n: number): Promise<unknown> {
  return page.waitForFunction(([s, k]) => document.querySelectorAll(s).length === k, [selector, n] as const, { timeout: WAIT });
}

describe.runIf(run)('dashboard in a browser (live simulated store)', () => {
  let store: LiveStore;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let problems: string[];
  let alice: Shopper;
  let bob: Shopper;

  beforeAll(async () => {
    store = await startLiveStore();
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1024, height: 768 } });
    page = await context.newPage();
    page.setDefaultTimeout(WAIT);
    problems = watchProblems(page);
    alice = store.shopper('trk-a', 'tok-alice-0000001');
    bob = store.shopper('trk-b', 'tok-bob-000000002');
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await store?.close();
  });

  /** What the API says, as the test's service token sees it (for diagnostics and set-up). */
  const apiGet = async (path: string): Promise<unknown> => (await fetch(`${store.url}${path}`, { headers: { authorization: store.harness.authorization } })).json();

  const go = async (hash: string) => {
    await page.evaluate((h) => (location.hash = h), hash);
    await page.waitForSelector(`a[aria-current="page"][href="${hash.split('/').slice(0, 2).join('/')}"]`);
  };

  it('refuses pages and mutations without a login, and sends the browser to the login form', async () => {
    const root = await fetch(`${store.url}/`, { redirect: 'manual' });
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/login');
    const resolve = await fetch(`${store.url}/api/review/r-1/resolve`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"lines":[]}' });
    expect(resolve.status).toBe(401);
    const login = await fetch(`${store.url}/login`);
    expect(login.status).toBe(200);
    expect(login.headers.get('content-security-policy')).toContain("default-src 'self'");

    await page.goto(`${store.url}/#/shoppers`);
    await page.waitForURL(/\/login/);
  });

  it('logs in as the manager (after a wrong password)', async () => {
    await page.fill('#name', users.manager.name);
    await page.fill('#password', 'not-the-password');
    await page.click('button[type=submit]');
    await page.waitForSelector('#error:has-text("wrong")');
    await screenshot(page, 'login');
    await page.fill('#password', users.manager.password);
    await page.click('button[type=submit]');
    await page.waitForSelector('body[data-ready="true"]');
    expect(await page.textContent('#user')).toContain('anna · manager');
    await page.waitForSelector('#live:has-text("live")');
  });

  it('watches a cart fill as a shopper takes things', async () => {
    await go('#/shoppers');
    await alice.enter();
    await page.waitForSelector('[data-session][data-state="open"]');
    await alice.goTo('t1');
    await store.pick('t1', 2, [{ shopper: alice }]);
    const cart = page.locator('[data-session] .cart li[data-sku="cola"]');
    await cart.waitFor();
    expect(await cart.textContent()).toMatch(/2 ×\s*Cola 330 ml/);
    await screenshot(page, 'shoppers');
  }, 60_000);

  it('shows a low-stock alert the moment it is raised, gives it to someone, and acknowledges it', async () => {
    await go('#/alerts');
    await alice.goTo('t3');
    await store.pick('t3', 1, [{ shopper: alice }]);
    const row = page.locator('tr[data-kind="low-stock"][data-state="open"]');
    await row.waitFor();
    expect(await row.textContent()).toContain('t3');
    await page.waitForSelector('#badge-alerts:not([hidden])');
    await row.locator('button', { hasText: 'Assign' }).click();
    await page.fill('#assign-to', 'Kim');
    await page.click('#assign-save');
    await page.waitForSelector('tr[data-kind="low-stock"] td.assigned:has-text("Kim")');
    await screenshot(page, 'alerts');
    await row.locator('button', { hasText: 'Acknowledge' }).click();
    await page.waitForSelector('tr[data-kind="low-stock"][data-state="acknowledged"]');
    expect(await page.textContent('tr[data-kind="low-stock"]')).toContain('by anna');
  }, 60_000);

  it('shows an uncertain pick with its evidence in the review queue and resolves it with one click', async () => {
    await go('#/review');
    await bob.enter();
    await Promise.all([alice.goTo('t2', -0.05), bob.goTo('t2', 0.05)]);
    // Both hands on the chips tray while one bag leaves it: who took it is a coin toss.
    await store.pick('t2', 1, [{ shopper: alice, offsetM: -0.05 }, { shopper: bob, offsetM: 0.05 }]);
    const item = page.locator('[data-review]').first();
    await item.waitFor().catch(async (error: Error) => {
      throw new Error(`${error.message}\nthe API's review queue: ${JSON.stringify(await apiGet('/api/review'))}\nsessions: ${JSON.stringify(await apiGet('/api/sessions'))}`);
    });
    await item.locator('svg.plot polyline').waitFor();
    expect(await item.textContent()).toContain('Tray t2');
    await screenshot(page, 'review');

    const reviewId = await item.getAttribute('data-review');
    const accept = item.locator('button.accept');
    expect(await accept.isEnabled()).toBe(true);
    await accept.click();
    await page.waitForSelector(`#review-resolved tr[data-review="${reviewId}"]`);
    expect(await page.textContent(`#review-resolved tr[data-review="${reviewId}"]`)).toContain('anna');
    await page.waitForSelector('#review-open .empty');
  }, 60_000);

  it('issues the receipts when the shoppers leave, and shows them', async () => {
    await go('#/shoppers');
    await Promise.all([alice.leave(), bob.leave()]);
    await count(page, '#receipts tr[data-receipt]', 2);
    const { receipts } = (await apiGet('/api/receipts')) as { receipts: Array<{ receiptId: string; lines: unknown[] }> };
    const alices = receipts.find((r) => r.lines.length > 0)!;
    await page.click(`#receipts tr[data-receipt="${alices.receiptId}"] button`);
    await page.waitForSelector(`#receipt-detail [data-receipt="${alices.receiptId}"] form[aria-label="Refund"]`);
    expect(await page.textContent('#receipt-detail')).toContain('Cola 330 ml');
    await screenshot(page, 'receipts');
  }, 60_000);

  it('shows every label with its preview, and flashes one', async () => {
    await go('#/labels');
    await count(page, '#label-list tr[data-state="confirmed"]', 3);
    await page.click('#label-list button.link:has-text("esl-0001")');
    const preview = page.locator('#label-detail img.preview');
    await preview.waitFor();
    // The PNG the tag confirmed, decoded by the browser.
    await page.waitForFunction(() => {
      const img = document.querySelector('#label-detail img.preview');
      return img !== null && img.complete === true && (img.naturalWidth ?? 0) > 0;
    });
    await page.click('#label-detail button:has-text("Flash this tag")');
    await page.waitForSelector('#toast:has-text("Flash")');
    await page.waitForSelector('#last-flash:not(:has-text("never"))');
    await screenshot(page, 'labels');
  }, 60_000);

  it('shows the devices, the store map, sync and the sales plots', async () => {
    await go('#/devices');
    await count(page, '#device-list tr[data-online="true"]', 4);
    await screenshot(page, 'devices');

    await go('#/map');
    await page.click('button[data-tray="t3"]');
    await page.waitForSelector('#tray-detail h2:has-text("Tray t3")');
    expect(await page.getAttribute('button[data-tray="t3"]', 'data-status')).toBe('low');
    await screenshot(page, 'map');
    // The heat map: Alice took two colas from t1, and one of the chips on t2 was charged.
    await page.selectOption('#map-mode', 'heat');
    await page.waitForSelector('button[data-tray="t1"].heat:has-text("2 taken")');
    await screenshot(page, 'map-heat');

    await go('#/sync');
    await page.waitForSelector('#sync-body .chip:has-text("connected")');
    // The receipts reach HQ: nothing of the checkout stream waits any more.
    await page.waitForSelector('#sync-body :text("Nothing waiting")');
    await screenshot(page, 'sync');

    await go('#/ops');
    await page.waitForSelector('#ops-body svg.plot');
    await screenshot(page, 'ops');
  }, 60_000);

  it('turns a burst of live events into a few reads, not one per event', async () => {
    await go('#/devices');
    await count(page, '#device-list tr[data-online="true"]', 4);
    const reads: string[] = [];
    page.on('request', (request) => {
      if (request.url().endsWith('/api/devices')) reads.push(request.url());
    });
    const read = () => page.waitForResponse((response) => response.url().endsWith('/api/devices'));
    const first = read();
    const bus = store.harness.agent.bus;
    for (let i = 0; i < 500; i++) {
      const at = Date.now();
      bus.emit('device.health', { deviceId: 'shelf-1', kind: 'shelf', deviceTime: at, receivedAt: at, payload: { at, temperatureC: 21 } });
    }
    await first;
    // The events that came while the first read ran give at most one more.
    await read().catch(() => undefined);
    expect(reads.length).toBeGreaterThanOrEqual(1);
    expect(reads.length).toBeLessThanOrEqual(3);
    expect(await page.textContent('#device-list')).toContain('shelf-1');
  });

  it('can be used with the keyboard alone', async () => {
    await go('#/shoppers');
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    await page.focus('#nav-alerts');
    await page.keyboard.press('Enter');
    await page.waitForSelector('a[aria-current="page"][href="#/alerts"]');
    // Visible focus: the outline of :focus-visible.
    await page.focus('#nav-review');
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle)).toBe('solid');
  });

  it('gives staff the views but not the manager\'s actions', async () => {
    const staff = await browser.newContext({ viewport: { width: 1024, height: 768 } });
    const staffPage = await staff.newPage();
    staffPage.setDefaultTimeout(WAIT);
    await staffPage.goto(`${store.url}/login`);
    await staffPage.fill('#name', users.staff.name);
    await staffPage.fill('#password', users.staff.password);
    await staffPage.click('button[type=submit]');
    await staffPage.waitForSelector('body[data-ready="true"][data-role="staff"]');
    await staffPage.locator('#receipts tr[data-receipt] button').first().click();
    await staffPage.waitForSelector('#receipt-detail :text("Only a manager can refund")');
    expect(await staffPage.locator('#receipt-detail form[aria-label="Refund"]').count()).toBe(0);
    // The server refuses it too, with the staff session's cookie and CSRF token.
    const cookie = (await staff.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
    const session = (await (await fetch(`${store.url}/api/auth/session`, { headers: { cookie } })).json()) as { csrfToken: string };
    const { receipts } = (await (await fetch(`${store.url}/api/receipts`, { headers: { cookie } })).json()) as { receipts: Array<{ receiptId: string; lines: Array<{ sku: string }> }> };
    const paid = receipts.find((r) => r.lines.length > 0)!;
    const refund = await fetch(`${store.url}/api/receipts/${paid.receiptId}/corrections`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json', 'x-csrf-token': session.csrfToken },
      body: JSON.stringify({ lines: [{ sku: paid.lines[0]!.sku, quantity: 1 }], reason: 'test' }),
    });
    const status = refund.status;
    expect(status).toBe(403);
    await staffPage.evaluate(() => (location.hash = '#/review'));
    await staffPage.waitForSelector('.page-review .hint:has-text("only a manager can resolve")');
    // Logging out ends the session: back to the form, and the old cookie opens nothing.
    await staffPage.click('#user button:has-text("Log out")');
    await staffPage.waitForURL(/\/login$/);
    expect((await fetch(`${store.url}/api/auth/session`, { headers: { cookie } })).status).toBe(401);
    await staff.close();
  }, 60_000);

  it('logged no script errors and no CSP violations', () => {
    expect(problems).toEqual([]);
    expect(store.errors.map((e) => e.message)).toEqual([]);
  });
});
