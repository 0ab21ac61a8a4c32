import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { contentHash } from '@storeedge/sync';
import { runDemoCommand, startDemo, type RunningDemo } from '../../src/cli/demo-command.ts';
import { uplinkPayload } from '../../src/sync/uplink-relay.ts';

const RECEIPT = 'checkout.receipt.issued';

/** Polls until `condition()` holds (no wall-clock assertions; the test timeout bounds it). */
async function until(condition: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await condition())) await new Promise((resolve) => setTimeout(resolve, 100));
}

describe('storeedge demo', () => {
  let dir: string | undefined;
  let demo: RunningDemo | undefined;
  afterEach(async () => {
    await demo?.stop();
    demo = undefined;
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('runs a store syncing to its own reference HQ (no Mosquitto): the store\'s receipts reach HQ, once each and unchanged', { timeout: 240_000 }, async () => {
    dir = mkdtempSync(join(tmpdir(), 'storeedge-demo-test-'));
    demo = await startDemo({ dir, port: 0, mqttPort: 0, hqPort: 0, seed: 7, shoppersPerMin: 120, logLevel: 'silent' });
    const { agent, hq, storeId } = demo;
    expect(hq.broker?.addresses.mqtt).toMatch(/^mqtt:\/\/127\.0\.0\.1:\d+$/);
    expect(agent.config.sync?.trustedKeys).toEqual([hq.service.signingKey]);

    await until(() => hq.store.count({ store: storeId, type: RECEIPT }) > 0);
    // Every receipt the store has issued so far reaches HQ, with the content the ledger holds
    // (less the shopper's token, which stays in the store).
    const receipts = agent.ledger.events({ type: RECEIPT });
    await until(() => receipts.every((event) => hq.store.recordByKey(storeId, event.key) !== undefined));
    for (const { stream, type, key, at, payload } of receipts) {
      const held = hq.store.recordByKey(storeId, key)!;
      expect(held.hash).toBe(contentHash({ stream, type, key, at, payload: uplinkPayload(payload) }));
      expect(JSON.stringify(held.payload)).not.toContain('"token"');
    }
    expect(hq.store.duplicates(storeId)).toBe(0);

    // What HQ shows over its API: the store online, its receipts held.
    const view = (await (await fetch(`${hq.httpUrl}/api/stores/${storeId}`)).json()) as { connected: boolean; streams: Record<string, number> };
    expect(view.connected).toBe(true);
    expect(view.streams.checkout).toBeGreaterThanOrEqual(receipts.length);
    expect(agent.sync?.health()).toMatchObject({ connected: true, rejected: 0 });

    // The dashboard's logins were made for this run: each works with its role; nothing without one.
    expect((await fetch(`${agent.httpUrl}/api/stock`)).status).toBe(401);
    for (const [login, role] of [[demo.logins.manager, 'manager'], [demo.logins.staff, 'staff']] as const) {
      expect(login.password).toMatch(/^[A-Za-z0-9_-]{24}$/);
      const res = await fetch(`${agent.httpUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(login) });
      expect(await res.json()).toMatchObject({ user: { name: login.name, role } });
    }
    expect(JSON.stringify(agent.config.http)).not.toContain(demo.logins.manager.password);
  });

  it('refuses a bad --hq-port with a usage error', async () => {
    await expect(runDemoCommand(['--hq-port', 'x'])).rejects.toMatchObject({ code: 'EDGE_ERR_CLI_USAGE' });
  });
});
