import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AgentApi } from '../../src/http/api.ts';
import { createHttpServer } from '../../src/http/server.ts';
import { EventBus } from '../../src/events.ts';
import { silentLogger } from '../../src/log.ts';
import { testAccess } from '../helpers/http-access.ts';
import { catalog, day, makeBook, type BookFixture } from './fixture.ts';

describe('price book HTTP routes (the agent’s server and error handler)', () => {
  let app: FastifyInstance;
  let f: BookFixture;
  const { access, authorization } = testAccess();
  beforeEach(async () => {
    f = makeBook();
    f.book.applyCatalog(catalog);
    // The agent's real server registers the price routes on the facade's `prices`.
    app = await createHttpServer({ storeId: 'store-test', bus: new EventBus(), prices: f.book } as unknown as AgentApi, silentLogger(), access);
  });
  afterEach(async () => app.close());

  const call = async (method: 'GET' | 'POST', url: string, payload?: unknown) => {
    const res = await app.inject({ method, url, headers: { authorization }, ...(payload === undefined ? {} : { payload: payload as object }) });
    return { status: res.statusCode, json: res.json() as Record<string, any> };
  };

  it('GET /api/prices lists, filters and pages; the instant defaults to now', async () => {
    const all = await call('GET', '/api/prices');
    expect(all.status).toBe(200);
    expect(all.json.at).toBe(f.now);
    expect(all.json.prices.map((p: { sku: string }) => p.sku)).toEqual(['bread', 'chips', 'cola']);
    const page = await call('GET', '/api/prices?limit=2');
    expect(page.json.next).toBe('chips');
    expect((await call('GET', '/api/prices?after=chips')).json.prices.map((p: { sku: string }) => p.sku)).toEqual(['cola']);
    expect((await call('GET', `/api/prices?sku=cola&at=${day(1)}`)).json).toMatchObject({ at: day(1), prices: [{ sku: 'cola', priceMinor: 100 }], next: null });
    const bad = await call('GET', '/api/prices?limit=0&color=red');
    expect(bad.status).toBe(400);
    expect(bad.json.error.code).toBe('EDGE_ERR_BAD_REQUEST');
  });

  it('GET /api/prices/:sku gives the history; an unknown SKU is a catalogued 404', async () => {
    f.book.setPrice({ sku: 'cola', priceMinor: 120, effectiveFrom: day(3), source: 'hq', reason: 'HQ list', actor: 'hq' });
    const res = await call('GET', `/api/prices/cola?at=${day(4)}`);
    expect(res.status).toBe(200);
    expect(res.json.history.map((r: { priceMinor: number }) => r.priceMinor)).toEqual([100, 120]);
    expect(res.json.current).toMatchObject({ priceMinor: 120, regularMinor: 120 });
    const missing = await call('GET', '/api/prices/nope');
    expect(missing.status).toBe(404);
    expect(missing.json.error.code).toBe('EDGE_ERR_PRICE_UNKNOWN_SKU');
  });

  it('POST /api/prices validates strictly and records a price with its actor', async () => {
    for (const body of [
      { sku: 'cola', priceMinor: 0.99, reason: 'x' },
      { sku: 'cola', priceMinor: '99', reason: 'x' },
      { sku: 'cola', priceMinor: 99 },
      { sku: 'cola', priceMinor: 99, reason: 'x', source: 'hq' },
      { sku: 'cola', priceMinor: 99, reason: 'x', admin: true },
    ]) {
      const res = await call('POST', '/api/prices', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.json.error.code).toBe('EDGE_ERR_BAD_REQUEST');
    }
    expect((await call('POST', '/api/prices', { sku: 'nope', priceMinor: 99, reason: 'x' })).json.error.code).toBe('EDGE_ERR_PRICE_UNKNOWN_SKU');
    f.now = day(2);
    const retro = await call('POST', '/api/prices', { sku: 'cola', priceMinor: 99, reason: 'x', effectiveFrom: day(1) });
    expect(retro).toMatchObject({ status: 422, json: { error: { code: 'EDGE_ERR_PRICE_RETROACTIVE' } } });
    const ok = await call('POST', '/api/prices', { sku: 'cola', priceMinor: 89, reason: 'clearance', source: 'markdown', changeId: 'c1' });
    expect(ok.status).toBe(200);
    expect(ok.json.record).toMatchObject({ sku: 'cola', priceMinor: 89, currency: 'EUR', effectiveFrom: day(2), source: 'markdown', actor: 'test' });
    expect((await call('GET', `/api/prices?sku=cola&at=${day(2)}`)).json.prices[0]).toMatchObject({ priceMinor: 89, wasPriceMinor: 100 });
  });
});
