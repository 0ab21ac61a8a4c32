import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AgentApi } from '../../src/http/api.ts';
import { createHttpServer } from '../../src/http/server.ts';
import { silentLogger } from '../../src/log.ts';
import { testAccess } from '../helpers/http-access.ts';
import { order, orderRig, T0, HOUR, type OrderRig } from './order-fixture.ts';

describe('orders HTTP API (the agent’s server and error handler)', () => {
  let r: OrderRig;
  let app: FastifyInstance;
  const { access, authorization } = testAccess();
  beforeEach(async () => {
    r = orderRig();
    app = await createHttpServer({ storeId: 'store-test', bus: r.bus, orders: r.orders } as unknown as AgentApi, silentLogger(), access);
    r.send(order('o-1', [{ sku: 'cola-330', qty: 2 }, { sku: 'chips-150', qty: 1 }], { collectBy: T0 + HOUR }));
    r.send(order('o-2', [{ sku: 'shampoo-400', qty: 1 }], { collectBy: T0 + 2 * HOUR }));
  });
  afterEach(async () => {
    await app.close();
    r.close();
  });

  const call = async (method: 'GET' | 'POST', url: string, payload?: unknown) => {
    const res = await app.inject({ method, url, headers: { authorization }, ...(payload === undefined ? {} : { payload: payload as object }) });
    return { status: res.statusCode, json: res.json() as Record<string, any> };
  };

  it('lists the work (open and picked, soonest first) and shows an order with its pick list', async () => {
    const list = await call('GET', '/api/orders');
    expect(list.status).toBe(200);
    expect(list.json.total).toBe(2);
    expect(list.json.orders.map((o: { orderId: string }) => o.orderId)).toEqual(['o-1', 'o-2']);
    expect((await call('GET', '/api/orders?state=picked&limit=5')).json).toEqual({ orders: [], total: 0 });

    const one = await call('GET', '/api/orders/o-1');
    expect(one.status).toBe(200);
    expect(one.json).toMatchObject({ orderId: 'o-1', state: 'open', reservedUnits: 3, pickList: [{ sku: 'cola-330', stops: [{ trayId: 't1', take: 2 }, { trayId: 't5', take: 0 }] }, { sku: 'chips-150' }] });
  });

  it('moves an order through picked and collected, and answers a cancel after that with 409', async () => {
    const picked = await call('POST', '/api/orders/o-1/picked', { lines: [{ sku: 'cola-330', qty: 2 }, { sku: 'chips-150', qty: 0 }] });
    expect(picked.status).toBe(200);
    expect(picked.json).toMatchObject({ state: 'picked', pickedUnits: 2, pickedBy: 'test', pickList: null });
    expect((await call('POST', '/api/orders/o-1/collected', {})).json).toMatchObject({ state: 'collected', closedBy: 'test' });
    expect(await call('POST', '/api/orders/o-1/cancel', { reason: 'too late' })).toMatchObject({ status: 409, json: { error: { code: 'EDGE_ERR_ORDER_STATE' } } });
    expect((await call('POST', '/api/orders/o-2/cancel', { reason: 'out of date' })).json).toMatchObject({ state: 'cancelled', closeReason: 'out of date' });
    expect((await call('GET', '/api/orders?state=all')).json.orders.map((o: { state: string }) => o.state)).toEqual(['collected', 'cancelled']);
  });

  it('answers bad queries and bodies with catalogued errors', async () => {
    const cases: Array<[string, 'GET' | 'POST', string, unknown, number, string]> = [
      ['unknown order', 'GET', '/api/orders/nope', undefined, 404, 'EDGE_ERR_ORDER_NOT_FOUND'],
      ['unknown state', 'GET', '/api/orders?state=lost', undefined, 400, 'EDGE_ERR_BAD_REQUEST'],
      ['limit out of range', 'GET', '/api/orders?limit=0', undefined, 400, 'EDGE_ERR_BAD_REQUEST'],
      ['unknown query field', 'GET', '/api/orders?customerRef=c-7f3a', undefined, 400, 'EDGE_ERR_BAD_REQUEST'],
      ['picked without lines', 'POST', '/api/orders/o-1/picked', {}, 400, 'EDGE_ERR_BAD_REQUEST'],
      ['a negative quantity', 'POST', '/api/orders/o-1/picked', { lines: [{ sku: 'cola-330', qty: -1 }] }, 400, 'EDGE_ERR_BAD_REQUEST'],
      ['an unknown body field', 'POST', '/api/orders/o-1/picked', { lines: [{ sku: 'cola-330', qty: 1 }], shelf: 't1' }, 400, 'EDGE_ERR_BAD_REQUEST'],
      ['a line missing', 'POST', '/api/orders/o-1/picked', { lines: [{ sku: 'cola-330', qty: 2 }] }, 422, 'EDGE_ERR_ORDER_PICK_INVALID'],
      ['more than ordered', 'POST', '/api/orders/o-1/picked', { lines: [{ sku: 'cola-330', qty: 3 }, { sku: 'chips-150', qty: 1 }] }, 422, 'EDGE_ERR_ORDER_PICK_INVALID'],
      ['collected before picked', 'POST', '/api/orders/o-1/collected', {}, 409, 'EDGE_ERR_ORDER_STATE'],
      ['collected: unknown field', 'POST', '/api/orders/o-1/collected', { by: 'x' }, 400, 'EDGE_ERR_BAD_REQUEST'],
      ['cancel: empty reason', 'POST', '/api/orders/o-1/cancel', { reason: '' }, 400, 'EDGE_ERR_BAD_REQUEST'],
      ['cancel an unknown order', 'POST', '/api/orders/nope/cancel', {}, 404, 'EDGE_ERR_ORDER_NOT_FOUND'],
    ];
    for (const [what, method, url, body, status, code] of cases) {
      const res = await call(method, url, body);
      expect([what, res.status, res.json.error?.code]).toEqual([what, status, code]);
    }
    expect(r.orders.order('o-1').state).toBe('open');
    expect(r.outbox('orders').map((e) => e.type)).toEqual(['order.reserved', 'order.reserved']);
  });
});
