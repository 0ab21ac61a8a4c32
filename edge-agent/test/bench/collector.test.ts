import { describe, expect, it } from 'vitest';
import { ReceiptCollector } from '../../src/bench/collector.ts';
import { messageIndex, weightMessage } from '../../src/bench/generator-protocol.ts';
import { weightPayload } from '@storeedge/device-drivers';

const index = new Map([
  ['shelf-0000', 0],
  ['shelf-0001', 1],
]);

describe('ReceiptCollector', () => {
  it('records the first receipt per (device, seq) and counts duplicates and unmatched messages', () => {
    const c = new ReceiptCollector(index, 3);
    c.receive('shelf-0001', 2, 100);
    c.receive('shelf-0001', 2, 200);
    c.receive('shelf-0000', 0, 150);
    c.receive('shelf-9999', 0, 1);
    c.receive('shelf-0000', 3, 1);
    c.receive('shelf-0000', '1', 1);
    c.receive('shelf-0000', undefined, 1);
    expect(c.received).toBe(2);
    expect(c.duplicates).toBe(1);
    expect(c.unmatched).toBe(4);
    expect(c.receivedAt[messageIndex(1, 2, 3)]).toBe(100);
    expect(c.receivedAt[messageIndex(0, 0, 3)]).toBe(150);
    expect(Number.isNaN(c.receivedAt[messageIndex(0, 1, 3)]!)).toBe(true);
    expect(c.lastAt).toBe(150);
  });

  it('settle resolves true as soon as the target is reached', async () => {
    const c = new ReceiptCollector(index, 2);
    const settled = c.settle(2, 10_000, 10_000);
    c.receive('shelf-0000', 0);
    setTimeout(() => c.receive('shelf-0001', 1), 5);
    await expect(settled).resolves.toBe(true);
  });

  it('settle resolves false once nothing arrives for the quiet period', async () => {
    const c = new ReceiptCollector(index, 2);
    c.receive('shelf-0000', 0);
    await expect(c.settle(4, 30, 10_000)).resolves.toBe(false);
    await expect(c.settle(1, 30, 10_000)).resolves.toBe(true);
  });
});

describe('weightMessage', () => {
  it('is a valid weight payload of the device contract, with seq and the requested channels', () => {
    const parsed = weightPayload.parse(JSON.parse(weightMessage(17, 4, 1_700_000_000_123)));
    expect(parsed.seq).toBe(17);
    expect(parsed.at).toBe(1_700_000_000_123);
    expect(parsed.channels.map((c) => c.ch)).toEqual([0, 1, 2, 3]);
  });
});
