import { describe, expect, it } from 'vitest';
import { HQ_SUBSCRIPTIONS, isValidStoreId, parseSyncTopic, syncTopics } from '../src/topics.ts';

describe('sync topics', () => {
  it('are the four topics of docs/sync.md', () => {
    expect(syncTopics('s1')).toEqual({
      batch: 'storeedge/v1/s1/up/batch',
      status: 'storeedge/v1/s1/up/status',
      ack: 'storeedge/v1/s1/down/ack',
      doc: 'storeedge/v1/s1/down/doc',
    });
    expect(HQ_SUBSCRIPTIONS).toEqual(['storeedge/v1/+/up/batch', 'storeedge/v1/+/up/status']);
  });

  it('round-trip through parseSyncTopic', () => {
    const topics = syncTopics('store_0042-B');
    expect(parseSyncTopic(topics.batch)).toEqual({ storeId: 'store_0042-B', direction: 'up', kind: 'batch' });
    expect(parseSyncTopic(topics.status)).toEqual({ storeId: 'store_0042-B', direction: 'up', kind: 'status' });
    expect(parseSyncTopic(topics.ack)).toEqual({ storeId: 'store_0042-B', direction: 'down', kind: 'ack' });
    expect(parseSyncTopic(topics.doc)).toEqual({ storeId: 'store_0042-B', direction: 'down', kind: 'doc' });
  });

  it.each([
    'storeedge/v1/s1/up/doc',
    'storeedge/v1/s1/down/batch',
    'storeedge/v1/s1/up/batch/extra',
    'storeedge/v1/+/up/batch',
    'storeedge/v2/s1/up/batch',
    'other/v1/s1/up/batch',
    'storeedge/v1//up/batch',
    'storeedge/v1/s1/sideways/batch',
    '',
  ])('parseSyncTopic ignores %j', (topic) => {
    expect(parseSyncTopic(topic)).toBeUndefined();
  });

  it('store ids are one topic level without wildcards', () => {
    for (const good of ['s1', 'S-1_a', 'x'.repeat(64)]) expect(isValidStoreId(good), good).toBe(true);
    for (const bad of ['', 'x'.repeat(65), 's/1', 's+', 's#', 's 1', 's.1', '*', 7]) expect(isValidStoreId(bad), String(bad)).toBe(false);
    expect(() => syncTopics('s/1')).toThrow(TypeError);
    expect(() => syncTopics('#')).toThrow(TypeError);
  });
});
