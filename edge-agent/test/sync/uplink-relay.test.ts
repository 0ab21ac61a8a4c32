import { afterEach, describe, expect, it } from 'vitest';
import { contentHash, parseHlc, toRanges, type UplinkAck, type UplinkBatch } from '@storeedge/sync';
import { Ledger } from '../../src/ledger/index.ts';
import { Metrics } from '../../src/metrics.ts';
import { syncSettingsSchema, type UplinkSettings } from '../../src/sync/settings.ts';
import { UplinkRelay } from '../../src/sync/uplink-relay.ts';
import { FakeClock, flush } from './fake-clock.ts';

function uplinkSettings(overrides: Partial<UplinkSettings> = {}): UplinkSettings {
  return syncSettingsSchema.parse({ upstream: { url: 'mqtt://hq.invalid' }, uplink: { pollIntervalMs: 50, retryBaseMs: 1_000, retryMaxMs: 8_000, ...overrides } }).uplink;
}

interface Rig {
  clock: FakeClock;
  ledger: Ledger;
  relay: UplinkRelay;
  metrics: Metrics;
  published: UplinkBatch[];
  /** Next publishes reject with this error (once each). */
  failNext: (count: number) => void;
  append: (n: number, stream?: string) => void;
  /** HQ's ack of a batch: everything in it, unless told otherwise. */
  ack: (batch: UplinkBatch, patch?: Partial<UplinkAck>) => void;
  seqs: () => number[];
}

const rigs: Rig[] = [];
afterEach(() => {
  for (const rig of rigs.splice(0)) {
    rig.relay.stop();
    rig.ledger.close();
    rig.metrics.close();
  }
});

function rig(settings: Partial<UplinkSettings> = {}): Rig {
  const clock = new FakeClock();
  const ledger = Ledger.open(':memory:', { now: () => clock.now() });
  const metrics = new Metrics();
  const published: UplinkBatch[] = [];
  let failures = 0;
  let appended = 0;
  const relay = new UplinkRelay({
    ledger,
    storeId: 's1',
    settings: uplinkSettings(settings),
    clock,
    random: () => 1,
    metrics,
    publish: (payload) => {
      if (failures > 0) {
        failures -= 1;
        return Promise.reject(new Error('broker said no'));
      }
      published.push(JSON.parse(payload) as UplinkBatch);
      return Promise.resolve();
    },
  });
  const r: Rig = {
    clock,
    ledger,
    relay,
    metrics,
    published,
    failNext: (count) => (failures = count),
    append(n, stream = 'receipts') {
      for (let i = 0; i < n; i++) {
        appended += 1;
        ledger.append({ type: 'checkout.receipt.issued', stream, key: `receipt:${appended}`, payload: { receiptId: `rc-${appended}`, totalMinor: 100 + appended }, outbox: true });
      }
    },
    ack(batch, patch = {}) {
      const seqs = batch.records.map((rec) => rec.seq);
      const ack: UplinkAck = { v: 1, epoch: batch.epoch, batch: batch.batch, acked: toRanges(seqs), watermark: 0, rejected: [], ...patch };
      relay.handleAck(JSON.stringify(ack));
    },
    seqs: () => published.flatMap((b) => b.records.map((rec) => rec.seq)),
  };
  rigs.push(r);
  return r;
}

const pendingIds = (ledger: Ledger) => ledger.outboxPending().map((row) => row.id);

describe('UplinkRelay', () => {
  it('sends outbox rows in id order as batches of the documented shape, at most maxInFlightBatches unacked', () => {
    const r = rig({ batchRecords: 3, maxInFlightBatches: 2, backlogRecordsPerSec: 1_000_000 });
    r.append(10);
    r.relay.start();
    r.clock.advance(1_000);
    expect(r.published).toHaveLength(0); // nothing before the link is up
    r.relay.connected();
    expect(r.published).toHaveLength(2);
    const [first] = r.published;
    const row = r.ledger.outboxPending({ limit: 1 })[0]!;
    expect(first).toMatchObject({ v: 1, store: 's1', epoch: r.ledger.epoch, batch: `${r.ledger.epoch}:1-3` });
    expect(first!.records[0]).toEqual({
      seq: row.id,
      stream: 'receipts',
      type: 'checkout.receipt.issued',
      key: 'receipt:1',
      at: row.event.at,
      hlc: row.hlc,
      payload: row.event.payload,
      hash: contentHash(row.event),
    });
    expect(parseHlc(first!.records[0]!.hlc)).toBeDefined();
    expect(r.seqs()).toEqual([1, 2, 3, 4, 5, 6]);

    r.ack(r.published[0]!);
    expect(r.seqs()).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]); // a slot freed: the next batch at once
    expect(pendingIds(r.ledger)).toEqual([4, 5, 6, 7, 8, 9, 10]);
    for (const batch of r.published.slice(1)) r.ack(batch);
    r.ack(r.published[3]!);
    expect(r.ledger.stats().outboxPending).toBe(0);
    expect(r.relay.status()).toMatchObject({ inFlightBatches: 0, consecutiveFailures: 0, lastAckBatch: `${r.ledger.epoch}:10-10` });
  });

  it('wakes on new outbox rows by polling, without waiting for anything else', () => {
    const r = rig();
    r.relay.start();
    r.relay.connected();
    r.clock.advance(500);
    expect(r.published).toHaveLength(0);
    r.append(2);
    r.clock.advance(50);
    expect(r.seqs()).toEqual([1, 2]);
  });

  it('marks sent only rows it sent, and ignores acks of another epoch and malformed acks', async () => {
    const r = rig({ batchRecords: 2, maxInFlightBatches: 1 });
    r.relay.start();
    r.relay.connected();
    r.append(6);
    r.clock.advance(50);
    const batch = r.published[0]!;
    expect(batch.records.map((rec) => rec.seq)).toEqual([1, 2]);

    r.relay.handleAck(JSON.stringify({ v: 1, epoch: 'another-epoch', batch: batch.batch, acked: [[1, 6]], watermark: 6, rejected: [] }));
    expect(pendingIds(r.ledger)).toEqual([1, 2, 3, 4, 5, 6]);
    r.relay.handleAck('{"v":1,');
    r.relay.handleAck(JSON.stringify({ v: 1, epoch: r.ledger.epoch, batch: batch.batch, acked: [[0, 1]], watermark: 0, rejected: [] }));
    expect(pendingIds(r.ledger)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(await counterValue(r.metrics, 'storeedge_sync_acks_ignored_total', { reason: 'other-epoch' })).toBe(1);
    expect(await counterValue(r.metrics, 'storeedge_sync_acks_ignored_total', { reason: 'malformed' })).toBe(2);

    // HQ claims more than was sent: only 1–2 (sent) count; 3–6 stay pending and go next.
    r.ack(batch, { acked: [[1, 6]], watermark: 6 });
    expect(pendingIds(r.ledger)).toEqual([3, 4, 5, 6]);
    expect(r.published.at(-1)!.records.map((rec) => rec.seq)).toEqual([3, 4]);
    // A watermark covers rows sent since (3–4), not those never sent (5–6).
    r.relay.handleAck(JSON.stringify({ v: 1, epoch: r.ledger.epoch, batch: 'unrelated', acked: [], watermark: 6, rejected: [] }));
    expect(pendingIds(r.ledger)).toEqual([5, 6]);
  });

  it('marks rows HQ rejected as rejected: kept, counted, never re-sent', async () => {
    const r = rig({ batchRecords: 10 });
    r.append(3);
    r.relay.start();
    r.relay.connected();
    r.ack(r.published[0]!, { acked: [[1, 1], [3, 3]], rejected: [{ seq: 2, code: 'SYNC_ERR_UPLINK_CONFLICT', reason: 'key held with another hash' }] });
    expect(r.ledger.stats()).toMatchObject({ outboxPending: 0, outboxRejected: 1 });
    r.relay.connected(); // a reconnect re-sends whatever is unacknowledged: nothing
    r.clock.advance(60_000);
    expect(r.published).toHaveLength(1);
    expect(await counterValue(r.metrics, 'storeedge_sync_uplink_records_total', { outcome: 'rejected' })).toBe(1);
  });

  it('T14: after a failed publish it drains by itself within the retry interval, with no new local write', async () => {
    const r = rig({ batchRecords: 5, retryBaseMs: 1_000 });
    r.append(12);
    r.failNext(1);
    r.relay.start();
    r.relay.connected();
    await flush();
    expect(r.relay.status()).toMatchObject({ consecutiveFailures: 1, lastError: expect.stringContaining('broker said no') });
    const before = r.published.length;
    // Back-off for the first failure: at most retryBaseMs (random = 1 here).
    r.clock.advance(999);
    expect(r.published.length).toBe(before);
    r.clock.advance(1);
    for (let i = 0; i < 10 && r.ledger.stats().outboxPending > 0; i++) {
      for (const batch of r.published.splice(0)) r.ack(batch);
      r.clock.advance(50);
    }
    expect(r.ledger.stats().outboxPending).toBe(0);
  });

  it('re-sends from the oldest unacknowledged row after an ack timeout, with exponential back-off', async () => {
    const r = rig({ batchRecords: 2, maxInFlightBatches: 2, ackTimeoutMs: 5_000, retryBaseMs: 1_000, retryMaxMs: 8_000, backlogRecordsPerSec: 1_000_000 });
    r.relay.start();
    r.relay.connected();
    r.append(4);
    r.clock.advance(50);
    expect(r.seqs()).toEqual([1, 2, 3, 4]);
    r.ack(r.published[1]!); // 3–4 acked, 1–2 never
    r.published.length = 0;
    r.clock.advance(5_000); // timeout of 1–2
    expect(r.relay.status().consecutiveFailures).toBe(1);
    r.clock.advance(1_000); // back-off 1 s
    expect(r.seqs()).toEqual([1, 2]);
    r.published.length = 0;
    r.clock.advance(5_000 + 2_000); // second timeout, back-off 2 s
    expect(r.seqs()).toEqual([1, 2]);
    expect(r.relay.status().consecutiveFailures).toBe(2);
    // A late ack of an abandoned batch still counts (those rows were sent).
    r.ack(r.published[0]!);
    expect(r.ledger.stats().outboxPending).toBe(0);
    expect(r.relay.status().consecutiveFailures).toBe(0);
    expect(await counterValue(r.metrics, 'storeedge_sync_uplink_batches_total', { outcome: 'timeout' })).toBe(2);
  });

  it('re-sends unacknowledged rows after a reconnect', () => {
    const r = rig({ batchRecords: 10 });
    r.append(3);
    r.relay.start();
    r.relay.connected();
    r.relay.disconnected();
    r.append(1);
    r.clock.advance(10_000);
    expect(r.seqs()).toEqual([1, 2, 3]); // nothing while down
    r.relay.connected();
    expect(r.seqs()).toEqual([1, 2, 3, 1, 2, 3, 4]);
  });

  it('drains the backlog at backlogRecordsPerSec while rows queued since the connection go at once', () => {
    const r = rig({ batchRecords: 50, maxInFlightBatches: 100, backlogRecordsPerSec: 100 });
    r.append(1_000, 'inventory'); // two days offline
    r.relay.start();
    r.relay.connected();
    const autoAck = () => {
      for (const batch of r.published.splice(0)) {
        sent.push(...batch.records.map((rec) => rec.seq));
        r.ack(batch);
      }
    };
    const sent: number[] = [];
    autoAck();
    expect(sent).toHaveLength(100); // a second's worth (the bucket) at once
    r.clock.advance(2_000);
    autoAck();
    expect(sent.length).toBeGreaterThanOrEqual(250); // then 100 a second
    expect(sent.length).toBeLessThanOrEqual(300);

    // A sale now: out within one poll, ahead of 750 backlog rows.
    r.append(1, 'receipts');
    r.clock.advance(50);
    const live = r.published.flatMap((b) => b.records).filter((rec) => rec.stream === 'receipts');
    expect(live.map((rec) => rec.seq)).toEqual([1_001]);
    autoAck();
    expect(r.relay.status().drainingBacklog).toBe(true);

    r.clock.advance(8_000);
    autoAck();
    expect(new Set(sent).size).toBe(1_001);
    expect(r.ledger.stats().outboxPending).toBe(0);
    expect(r.relay.status().drainingBacklog).toBe(false);
    expect(sent.filter((seq) => seq <= 1_000)).toEqual(Array.from({ length: 1_000 }, (_, i) => i + 1)); // backlog in order
  });

  it('keeps a batch within batchBytes (a single larger row still goes, alone)', () => {
    const r = rig({ batchRecords: 100, batchBytes: 2_048 });
    r.relay.start();
    r.relay.connected();
    r.ledger.append({ type: 'big', stream: 'receipts', key: 'big', payload: { blob: 'x'.repeat(5_000) }, outbox: true });
    r.append(20);
    r.clock.advance(50);
    const batches: UplinkBatch[] = [];
    for (let i = 0; i < 20 && r.ledger.stats().outboxPending > 0; i++) {
      for (const batch of r.published.splice(0)) {
        batches.push(batch);
        r.ack(batch);
      }
      r.clock.advance(50);
    }
    expect(batches[0]!.records.map((rec) => rec.key)).toEqual(['big']);
    for (const batch of batches.slice(1)) expect(Buffer.byteLength(JSON.stringify(batch))).toBeLessThanOrEqual(2_048);
    expect(batches.flatMap((b) => b.records.map((rec) => rec.seq))).toEqual(Array.from({ length: 21 }, (_, i) => i + 1));
  });
});

async function counterValue(metrics: Metrics, name: string, labels: Record<string, string>): Promise<number> {
  const metric = await metrics.registry.getSingleMetric(name)?.get();
  return metric?.values.find((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val))?.value ?? 0;
}
