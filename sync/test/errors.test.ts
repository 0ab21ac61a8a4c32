import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isSyncErrorCode, SyncError, syncError, syncErrorCodes } from '../src/errors.ts';

const source = readFileSync(new URL('../src/errors.ts', import.meta.url), 'utf8');

describe('sync error catalogue', () => {
  it('has the codes the wire contract names', () => {
    expect([...syncErrorCodes].sort()).toEqual(
      [
        'SYNC_ERR_DOC_MALFORMED',
        'SYNC_ERR_DOC_UNKNOWN_KEY',
        'SYNC_ERR_DOC_SIGNATURE',
        'SYNC_ERR_DOC_WRONG_STORE',
        'SYNC_ERR_DOC_STALE',
        'SYNC_ERR_DOC_BODY_HASH',
        'SYNC_ERR_DOC_BODY_INVALID',
        'SYNC_ERR_DOC_TOO_LARGE',
        'SYNC_ERR_DOC_UNSUPPORTED_KIND',
        'SYNC_ERR_DOC_KEY_SELF_REVOKE',
        'SYNC_ERR_DOC_EXPIRED',
        'SYNC_ERR_UPLINK_MALFORMED',
        'SYNC_ERR_UPLINK_HASH',
        'SYNC_ERR_UPLINK_CONFLICT',
        'SYNC_ERR_CHECKPOINT_FORK',
        'SYNC_ERR_ACK_MALFORMED',
        'SYNC_ERR_CLOCK_SKEW',
      ].sort(),
    );
  });

  it('documents every code with a one-line comment right above it', () => {
    for (const code of syncErrorCodes) {
      expect(source, `${code} needs a /** … */ line above it`).toMatch(new RegExp(`/\\*\\* [^\\n]+ \\*/\\n\\s+${code}:`));
    }
  });

  it('makes errors with the code, a default message and details', () => {
    for (const code of syncErrorCodes) {
      const error = syncError(code);
      expect(error).toBeInstanceOf(SyncError);
      expect(error).toBeInstanceOf(Error);
      expect(error.code).toBe(code);
      expect(error.message.length).toBeGreaterThan(0);
      expect(error.details).toBeUndefined();
    }
    const error = syncError('SYNC_ERR_DOC_STALE', 'version 3 ≤ 4', { version: 3 });
    expect(error.message).toBe('version 3 ≤ 4');
    expect(error.details).toEqual({ version: 3 });
  });

  it('recognises its own codes only', () => {
    expect(isSyncErrorCode('SYNC_ERR_DOC_STALE')).toBe(true);
    expect(isSyncErrorCode('SYNC_ERR_NOPE')).toBe(false);
    expect(isSyncErrorCode('toString')).toBe(false);
  });
});
