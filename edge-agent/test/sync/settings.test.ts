import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';
import { errorOf } from '../helpers/error-of.ts';

describe('config: sync', () => {
  it('is off unless configured, and fills the documented defaults when it is', () => {
    expect(loadConfig({ storeId: 's1' }, '/etc/storeedge').sync).toBeUndefined();
    const config = loadConfig({ storeId: 's1', sync: { upstream: { url: 'mqtts://hq.example:8883', passwordFile: 'secrets/hq', caFile: '/pki/ca.pem' } } }, '/etc/storeedge');
    expect(config.sync).toEqual({
      upstream: {
        url: 'mqtts://hq.example:8883',
        passwordFile: '/etc/storeedge/secrets/hq',
        caFile: '/pki/ca.pem',
        rejectUnauthorized: true,
        protocolVersion: 5,
        sessionExpiryS: 604_800,
        keepaliveS: 30,
        connectTimeoutMs: 10_000,
        reconnectMinMs: 1_000,
        reconnectMaxMs: 60_000,
      },
      trustedKeys: [],
      uplink: { batchRecords: 200, batchBytes: 262_144, maxInFlightBatches: 4, ackTimeoutMs: 30_000, backlogRecordsPerSec: 500, retryBaseMs: 1_000, retryMaxMs: 60_000, pollIntervalMs: 100 },
      downlink: { maxBodyBytes: 67_108_864, maxPendingDocuments: 8 },
      maxSkewMs: 60_000,
      statusIntervalMs: 60_000,
    });
  });

  it('says what to fix', () => {
    const error = errorOf(() =>
      loadConfig({
        storeId: 's1',
        sync: { upstream: { url: 'http://hq', password: 'a', passwordFile: 'b', certFile: 'c.pem' }, trustedKeys: [{ keyId: 'hq-1', publicKey: 'not-a-key' }] },
      }),
    );
    expect(error.message).toContain('sync.upstream.url');
    expect(error.message).toContain('sync.upstream.passwordFile: give password or passwordFile, not both');
    expect(error.message).toContain('sync.upstream.keyFile: a client certificate needs both certFile and keyFile');
    expect(error.message).toContain('sync.trustedKeys.0.publicKey');
  });
});
