import { describe, expect, it } from 'vitest';
import { rfidReadsPayload } from '../../src/payloads.ts';
import { decodeImpinjR700, decodeZebraIotConnector, parseVendorTime, toRfidReadsPayloads, type RfidRead } from '../../src/rfid/index.ts';

const receivedAt = Date.UTC(2025, 0, 1);

/**
 * The tagInventory event of reelyactive/barnowl-impinj `lib/testlistener.js` (an R700 webhook
 * posts arrays of these; `lib/impinjdecoder.js` reads the array form), with fixed values.
 */
const impinjEvent = {
  timestamp: '2023-11-14T22:13:20.500Z',
  hostname: 'impinj-01-23-45',
  eventType: 'tagInventory',
  tagInventoryEvent: {
    epc: 'ftqQOAUQAnEAAsCu',
    epcHex: '7EDA9038051002710002C0AE',
    tid: '4oARcCAAFM2bWgjs',
    tidHex: 'E2801170200014CD9B5A08EC',
    pc: 'NAA=',
    antennaPort: 1,
    antennaName: 'ANTENNA-NAME',
    peakRssiCdbm: -5325,
    frequency: 927250,
    transmitPowerCdbm: 3000,
    lastSeenTime: '2023-11-14T22:13:20.123456789Z',
    phaseAngle: 69.0,
  },
};

const impinjRead: RfidRead = { epc: '7EDA9038051002710002C0AE', antenna: 1, rssi: -53.25, pc: 0x3400, at: Date.UTC(2023, 10, 14, 22, 13, 20, 123) };

function withTag(fields: Record<string, unknown>, drop: string[] = []): object {
  const tag: Record<string, unknown> = { ...impinjEvent.tagInventoryEvent, ...fields };
  for (const key of drop) delete tag[key];
  return { ...impinjEvent, tagInventoryEvent: tag };
}

describe('decodeImpinjR700', () => {
  it('decodes one event (an MQTT message): EPC hex, antenna, centi-dBm RSSI, base64 PC, last-seen time', () => {
    expect(decodeImpinjR700(JSON.stringify(impinjEvent), { receivedAt })).toEqual({ reads: [impinjRead], rejects: [], ignored: 0 });
  });

  it('decodes a webhook batch (an array) and NDJSON stream lines with keep-alive blank lines', () => {
    const second = withTag({ epcHex: '3074257BF7194E4000001A85', antennaPort: 2, peakRssiCdbm: -6100 });
    const batch = decodeImpinjR700(Buffer.from(JSON.stringify([impinjEvent, second])), { receivedAt });
    expect(batch.reads.map((r) => [r.epc, r.antenna, r.rssi])).toEqual([
      ['7EDA9038051002710002C0AE', 1, -53.25],
      ['3074257BF7194E4000001A85', 2, -61],
    ]);
    const ndjson = `${JSON.stringify(impinjEvent)}\r\n\r\n${JSON.stringify(second)}\n`;
    expect(decodeImpinjR700(ndjson, { receivedAt })).toEqual(batch);
  });

  it('falls back to the base64 epc, the event timestamp, then the receive time; optional fields stay absent', () => {
    const minimal = { eventType: 'tagInventory', tagInventoryEvent: { epc: 'MHQle/cZTkAAABqF', antennaPort: 3 } };
    expect(decodeImpinjR700(JSON.stringify(minimal), { receivedAt })).toEqual({
      reads: [{ epc: '3074257BF7194E4000001A85', antenna: 3, at: receivedAt }],
      rejects: [],
      ignored: 0,
    });
    const stamped = decodeImpinjR700(JSON.stringify(withTag({}, ['lastSeenTime'])), { receivedAt });
    expect(stamped.reads[0]!.at).toBe(Date.UTC(2023, 10, 14, 22, 13, 20, 500));
  });

  it('skips events that are not tag reads', () => {
    const status = { timestamp: '2023-11-14T22:13:20Z', hostname: 'impinj-01-23-45', eventType: 'inventoryStatus', inventoryStatusEvent: { status: 'running' } };
    const antenna = { eventType: 'antennaDisconnected', antennaDisconnectedEvent: { antennaPort: 2 } };
    expect(decodeImpinjR700(JSON.stringify([status, impinjEvent, antenna]), { receivedAt })).toEqual({ reads: [impinjRead], rejects: [], ignored: 2 });
  });

  it('malformed JSON is DRV_ERR_JSON_MALFORMED', () => {
    const result = decodeImpinjR700('{"eventType": "tagInventory", ', { receivedAt });
    expect(result.reads).toEqual([]);
    expect(result.rejects).toMatchObject([{ code: 'DRV_ERR_JSON_MALFORMED', reason: expect.stringMatching(/^not JSON/) }]);
    expect(decodeImpinjR700(`${JSON.stringify(impinjEvent)}\n{oops}`).rejects).toMatchObject([{ code: 'DRV_ERR_JSON_MALFORMED', reason: expect.stringMatching(/^line 2 is not JSON/) }]);
  });

  it.each([
    ['a missing antennaPort', withTag({}, ['antennaPort']), 'impinj-r700: tagInventoryEvent.antennaPort: required: enable antennaPort in eventConfig.tagInventory'],
    ['a string antennaPort', withTag({ antennaPort: '1' }), 'tagInventoryEvent.antennaPort:'],
    ['no EPC at all', withTag({}, ['epc', 'epcHex']), 'tagInventoryEvent.epcHex: required: enable epcHex or epc'],
    ['an odd-length EPC', withTag({ epcHex: '7EDA90380510027100' }), 'tagInventoryEvent.epcHex: EPC has 18 hex digits'],
    ['a non-hex EPC', withTag({ epcHex: '7EDA9038051002710002C0AZ' }), 'tagInventoryEvent.epcHex: EPC is not hex'],
    ['a bad base64 EPC', withTag({ epc: 'not base64!' }, ['epcHex']), 'tagInventoryEvent.epc: expected base64'],
    ['a 3-byte PC', withTag({ pc: 'NAAA' }), 'tagInventoryEvent.pc: PC is 3 bytes'],
    ['a bad lastSeenTime', withTag({ lastSeenTime: 'yesterday' }), 'tagInventoryEvent.lastSeenTime: "yesterday" is not an ISO 8601 time'],
    ['no eventType', { tagInventoryEvent: impinjEvent.tagInventoryEvent }, 'impinj-r700: eventType: required'],
    ['a tagInventory without its event', { eventType: 'tagInventory' }, 'tagInventoryEvent: required for eventType "tagInventory"'],
    ['not an object', 42, 'impinj-r700: (root):'],
  ])('%s is DRV_ERR_JSON_SCHEMA naming the field', (_name, event, reason) => {
    const result = decodeImpinjR700(JSON.stringify(event), { receivedAt });
    expect(result.reads).toEqual([]);
    expect(result.rejects).toHaveLength(1);
    expect(result.rejects[0]!.code).toBe('DRV_ERR_JSON_SCHEMA');
    expect(result.rejects[0]!.reason).toContain(reason);
  });

  it('a bad member of a batch is rejected by index; the others are still read', () => {
    const result = decodeImpinjR700(JSON.stringify([impinjEvent, withTag({}, ['antennaPort']), impinjEvent]), { receivedAt });
    expect(result.reads).toEqual([impinjRead, impinjRead]);
    expect(result.rejects).toEqual([
      { code: 'DRV_ERR_JSON_SCHEMA', reason: 'impinj-r700: [1].tagInventoryEvent.antennaPort: required: enable antennaPort in eventConfig.tagInventory' },
    ]);
  });
});

/** research/rfid.md §1.5 (the EPC there is elided as "ad99…25"; a full one stands in). */
const zebraInventory = [
  {
    data: { CRC: '518e', PC: '3000', antenna: 1, channel: 927.25, eventNum: 194, format: 'epc', idHex: 'ad9900000000000000000025', peakRssi: -54, phase: 0.0, reads: 9 },
    timestamp: '2023-02-24T10:14:42.851+0000',
    type: 'INVENTORY',
  },
];

/** The single-object CUSTOM form (an FXR90 mapper test in the public code index). */
const zebraCustom = { data: { idHex: 'aa0004ef55555555aa21bf43', peakRssi: -34, antenna: 4 }, timestamp: '2026-08-13T09:14:28.651+0000', type: 'CUSTOM' };

describe('decodeZebraIotConnector', () => {
  it('decodes the INVENTORY array form: idHex upper-cased, antenna, dBm RSSI, hex PC, timestamp with a +0000 offset', () => {
    expect(decodeZebraIotConnector(JSON.stringify(zebraInventory), { receivedAt })).toEqual({
      reads: [{ epc: 'AD9900000000000000000025', antenna: 1, rssi: -54, pc: 0x3000, at: Date.UTC(2023, 1, 24, 10, 14, 42, 851) }],
      rejects: [],
      ignored: 0,
    });
  });

  it('decodes the single-object CUSTOM form and a mixed batch; non-tag events are skipped', () => {
    expect(decodeZebraIotConnector(Buffer.from(JSON.stringify(zebraCustom)), { receivedAt }).reads).toEqual([
      { epc: 'AA0004EF55555555AA21BF43', antenna: 4, rssi: -34, at: Date.UTC(2026, 7, 13, 9, 14, 28, 651) },
    ]);
    const heartbeat = { type: 'heartbeat', timestamp: '2023-02-24T10:14:42.851+0000', data: { uptime: 1234 } };
    const result = decodeZebraIotConnector(JSON.stringify([...zebraInventory, heartbeat, zebraCustom]), { receivedAt });
    expect(result.reads.map((r) => r.epc)).toEqual(['AD9900000000000000000025', 'AA0004EF55555555AA21BF43']);
    expect(result.ignored).toBe(1);
    expect(result.rejects).toEqual([]);
  });

  it('uses the receive time when the event has no timestamp', () => {
    const { timestamp: _dropped, ...untimed } = zebraCustom;
    expect(decodeZebraIotConnector(JSON.stringify(untimed), { receivedAt }).reads[0]!.at).toBe(receivedAt);
  });

  it.each([
    ['a missing antenna', { ...zebraCustom, data: { idHex: 'aa0004ef55555555aa21bf43' } }, 'zebra-iot-connector: data.antenna: required'],
    ['a tag-data event without idHex', { type: 'SIMPLE', data: { antenna: 1 } }, 'zebra-iot-connector: data.idHex: required'],
    ['a TID-format read', { ...zebraCustom, data: { ...zebraCustom.data, format: 'tid' } }, 'data.format: "tid": only "epc" reads are supported'],
    ['a short EPC', { ...zebraCustom, data: { ...zebraCustom.data, idHex: 'aa00' } }, 'data.idHex: EPC has 2 bytes; 4-62 allowed'],
    ['a bad PC', { ...zebraCustom, data: { ...zebraCustom.data, PC: '30' } }, 'data.PC: expected 4 hex digits'],
    ['a bad timestamp', { ...zebraCustom, timestamp: '24/02/2023 10:14' }, 'timestamp: "24/02/2023 10:14" is not an ISO 8601 time'],
    ['no data object', { type: 'INVENTORY' }, 'zebra-iot-connector: data: required: an object'],
  ])('%s is DRV_ERR_JSON_SCHEMA naming the field', (_name, event, reason) => {
    const result = decodeZebraIotConnector(JSON.stringify(event), { receivedAt });
    expect(result.reads).toEqual([]);
    expect(result.rejects).toHaveLength(1);
    expect(result.rejects[0]).toMatchObject({ code: 'DRV_ERR_JSON_SCHEMA', reason: expect.stringContaining(reason) });
  });

  it('names the batch member of a bad event, and reads the rest', () => {
    const result = decodeZebraIotConnector(JSON.stringify([zebraCustom, { type: 'CUSTOM', data: { idHex: 'zz' } }]), { receivedAt });
    expect(result.reads).toHaveLength(1);
    expect(result.rejects[0]!.reason).toMatch(/^zebra-iot-connector: \[1\]\.data\.antenna/);
    expect(decodeZebraIotConnector('[{"data":', { receivedAt }).rejects).toMatchObject([{ code: 'DRV_ERR_JSON_MALFORMED' }]);
  });
});

describe('canonical reads', () => {
  it('fit rfidReadsPayload once grouped, 1000 per message', () => {
    const reads = Array.from({ length: 2_500 }, (_, i) => ({ ...impinjRead, epc: i.toString(16).toUpperCase().padStart(24, '0'), at: receivedAt + i }));
    const payloads = toRfidReadsPayloads(reads);
    expect(payloads.map((p) => p.reads.length)).toEqual([1_000, 1_000, 500]);
    expect(payloads.map((p) => p.at)).toEqual([receivedAt + 999, receivedAt + 1_999, receivedAt + 2_499]);
    for (const payload of payloads) expect(rfidReadsPayload.parse(payload)).toEqual(payload);
    expect(payloads[0]!.reads[0]).toEqual({ epc: '000000000000000000000000', antenna: 1, rssi: -53.25 });
  });

  it('vendor times: offsets with and without a colon, fractions of any length', () => {
    expect(parseVendorTime('2023-02-24T10:14:42.851+0000')).toBe(Date.UTC(2023, 1, 24, 10, 14, 42, 851));
    expect(parseVendorTime('2023-02-24T12:14:42.8+02:00')).toBe(Date.UTC(2023, 1, 24, 10, 14, 42, 800));
    expect(parseVendorTime('2023-02-24T10:14:42Z')).toBe(Date.UTC(2023, 1, 24, 10, 14, 42));
    expect(parseVendorTime('2023-02-24 10:14:42Z')).toBeUndefined();
    expect(parseVendorTime('2023-13-24T10:14:42Z')).toBeUndefined();
  });
});
