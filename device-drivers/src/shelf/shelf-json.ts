import type { Reject } from '../errors.ts';
import { weightPayload, type WeightPayload } from '../payloads.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A native shelf's `evt/weight` MQTT payload (docs/mqtt.md) as the canonical sample: the same
 * `weightPayload` schema the serial path's `sampleToWeightPayload` ends in, so both kinds of
 * shelf reach the agent in one shape. Never throws: bad UTF-8 or JSON is
 * DRV_ERR_JSON_MALFORMED, a wrong shape DRV_ERR_JSON_SCHEMA naming the first bad field.
 */
export function decodeShelfJson(bytes: Uint8Array | string): WeightPayload | Reject {
  let body: unknown;
  try {
    body = JSON.parse(typeof bytes === 'string' ? bytes : utf8.decode(bytes));
  } catch (error) {
    return { code: 'DRV_ERR_JSON_MALFORMED', reason: error instanceof Error ? error.message : String(error) };
  }
  const result = weightPayload.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  return { code: 'DRV_ERR_JSON_SCHEMA', reason: `${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}` };
}
