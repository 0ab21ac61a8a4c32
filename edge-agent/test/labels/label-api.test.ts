import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import type { AgentApi } from '../../src/http/api.ts';
import { createHttpServer } from '../../src/http/server.ts';
import { silentLogger } from '../../src/log.ts';
import { testAccess } from '../helpers/http-access.ts';
import { labelRig, labelsOf, type LabelRig } from './label-fixture.ts';

const { access, authorization } = testAccess();
let rig: LabelRig | undefined;
let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  rig?.close();
  rig = undefined;
  app = undefined;
});

/** The agent's real HTTP server (its error handler and 404s; it registers the label routes on the facade's `labels`); the rest of the facade is not used here. */
async function serve(r: LabelRig): Promise<FastifyInstance> {
  const api = { storeId: 'store-test', bus: r.bus, inventory: {}, checkout: {}, prices: {}, labels: r.service, setQueueDepth: () => {} } as unknown as AgentApi;
  return createHttpServer(api, silentLogger(), access);
}

describe('labels API', () => {
  it('GET /api/labels pages through the tags with desired vs confirmed price, versions and health', async () => {
    rig = await labelRig({ labels: labelsOf(5, { gateways: 2 }) });
    rig.deliver(rig.publisher.images('tag-00001')[0]!);
    app = await serve(rig);

    const first = await app.inject({ headers: { authorization }, method: 'GET', url: '/api/labels?limit=2' });
    expect(first.statusCode).toBe(200);
    const page1 = first.json<{ labels: Array<Record<string, unknown>>; next: string | null; total: number }>();
    expect(page1.total).toBe(5);
    expect(page1.labels.map((l) => l.id)).toEqual(['tag-00000', 'tag-00001']);
    expect(page1.labels[1]).toEqual({
      id: 'tag-00001',
      sku: 'sku-1',
      gateway: 'gw-1',
      tagType: 'oepl-29',
      trayId: null,
      state: 'confirmed',
      stale: false,
      currency: 'EUR',
      desiredPriceMinor: 199,
      confirmedPriceMinor: 199,
      desiredVersion: 1,
      confirmedVersion: 1,
      batteryMv: 2_900,
      rssi: -60,
      lastSeen: rig.clock.now(),
    });
    expect(page1.labels[0]).toMatchObject({ state: 'queued', confirmedPriceMinor: null, confirmedVersion: null, lastSeen: null });
    expect(page1.next).toBe('tag-00001');
    const page2 = (await app.inject({ headers: { authorization }, method: 'GET', url: `/api/labels?limit=2&after=${page1.next}` })).json<typeof page1>();
    expect(page2.labels.map((l) => l.id)).toEqual(['tag-00002', 'tag-00003']);
    const page3 = (await app.inject({ headers: { authorization }, method: 'GET', url: `/api/labels?limit=2&after=${page2.next}` })).json<typeof page1>();
    expect(page3).toMatchObject({ next: null });
    expect(page3.labels.map((l) => l.id)).toEqual(['tag-00004']);

    const filtered = (await app.inject({ headers: { authorization }, method: 'GET', url: '/api/labels?state=confirmed&gateway=gw-1' })).json<typeof page1>();
    expect(filtered.labels.map((l) => l.id)).toEqual(['tag-00001']);

    const bad = await app.inject({ headers: { authorization }, method: 'GET', url: '/api/labels?limit=0&colour=red' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ error: { code: 'EDGE_ERR_BAD_REQUEST' } });
  });

  it('GET /api/labels/:id gives the detail; unknown ids are 404 with a code', async () => {
    rig = await labelRig({ labels: labelsOf(1) });
    app = await serve(rig);
    const res = await app.inject({ headers: { authorization }, method: 'GET', url: '/api/labels/tag-00000' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      id: 'tag-00000',
      desired: { version: 1, priority: 'price', content: { sku: 'sku-0', priceMinor: 199 } },
      shown: null,
      delivery: { phase: 'queued', attempts: 0 },
    });
    const missing = await app.inject({ headers: { authorization }, method: 'GET', url: '/api/labels/nope' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ error: { code: 'EDGE_ERR_LABEL_NOT_FOUND' } });
  });

  it('GET /api/labels/:id/image returns the PNG of exactly the confirmed bytes, 404 before a confirmation', async () => {
    rig = await labelRig({ labels: labelsOf(1) });
    app = await serve(rig);
    const before = await app.inject({ headers: { authorization }, method: 'GET', url: '/api/labels/tag-00000/image' });
    expect(before.statusCode).toBe(404);
    expect(before.json()).toMatchObject({ error: { code: 'EDGE_ERR_LABEL_NOT_CONFIRMED' } });

    const v1 = rig.publisher.images()[0]!;
    rig.deliver(v1);
    rig.prices.set('sku-0', { priceMinor: 99 }); // desired changes; the image stays what the tag shows
    await rig.service.idle();
    const res = await app.inject({ headers: { authorization }, method: 'GET', url: '/api/labels/tag-00000/image' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('image/png');
    expect(res.rawPayload.subarray(4)).toEqual(Buffer.from(v1.image, 'base64'));
  });

  it('POST /api/labels/:id/flash validates the body strictly and refuses beyond the budget with 429', async () => {
    rig = await labelRig({ labels: labelsOf(1) });
    app = await serve(rig);
    for (const body of [{ colour: 'purple' }, { flashes: 16 }, { flashes: 2.5 }, { repeats: 0 }, { colour: 'red', extra: 1 }, ['red']]) {
      const res = await app.inject({ headers: { authorization }, method: 'POST', url: '/api/labels/tag-00000/flash', payload: body as object });
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json()).toMatchObject({ error: { code: 'EDGE_ERR_BAD_REQUEST' } });
    }
    const ok = await app.inject({ headers: { authorization }, method: 'POST', url: '/api/labels/tag-00000/flash', payload: { colour: 'red' } });
    expect(ok.statusCode).toBe(202);
    expect(ok.json()).toMatchObject({ tagId: 'tag-00000', colour: 'red', flashes: 3, repeats: 2, state: 'requested' });
    const limited = await app.inject({ headers: { authorization }, method: 'POST', url: '/api/labels/tag-00000/flash', payload: {} });
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toMatchObject({ error: { code: 'EDGE_ERR_LABEL_FLASH_LIMITED' } });
    const unknown = await app.inject({ headers: { authorization }, method: 'POST', url: '/api/labels/nope/flash', payload: {} });
    expect(unknown.statusCode).toBe(404);
  });
});
