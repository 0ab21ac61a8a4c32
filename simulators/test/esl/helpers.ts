import { contentHashOf, type TagDeliveryPayload, type TagImageCommand, type TagLedCommand, type TagReportPayload } from '@storeedge/device-drivers';
import { SimClock } from '../../src/clock.ts';
import { EslRadio, type EslRadioOptions, type EslTagConfig } from '../../src/esl/index.ts';
import { Rng } from '../../src/random.ts';

/** A tag type with an LED (device-drivers esl/tag-types.ts). */
export const TAG_TYPE = 'm3-2.9-bwr';

/** An encoded image of `size` bytes whose content depends on `seed`, with its hash. */
export function image(size: number, seed = 1): { bytes: Buffer; contentHash: string; base64: string } {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + seed * 17) & 0xff;
  return { bytes, contentHash: contentHashOf(bytes), base64: bytes.toString('base64') };
}

export function imageCommand(tagId: string, version: number, size: number, seed = version, overrides: Partial<TagImageCommand> = {}): TagImageCommand {
  const { contentHash, base64 } = image(size, seed);
  return { at: 0, tagId, version, contentHash, tagType: TAG_TYPE, encoding: 'raw', priority: 'price', image: base64, ...overrides };
}

export function ledCommand(tagId: string, requestId: string, overrides: Partial<TagLedCommand> = {}): TagLedCommand {
  return { at: 0, tagId, requestId, colour: 'green', flashes: 3, repeats: 2, ...overrides };
}

export interface RadioRig {
  clock: SimClock;
  radio: EslRadio;
  reports: Array<TagReportPayload & { cause: string }>;
  deliveries: TagDeliveryPayload[];
  errors: unknown[];
  start: number;
  /** Deliveries for one tag, as `state[:reason]` strings. */
  states(tagId: string): string[];
}

/** A radio on a SimClock with a recording sink; deterministic defaults (no jitter) unless overridden. */
export function radioRig(tags: readonly (string | EslTagConfig)[], options: EslRadioOptions = {}, seed = 'esl-test'): RadioRig {
  const clock = new SimClock();
  const reports: RadioRig['reports'] = [];
  const deliveries: TagDeliveryPayload[] = [];
  const errors: unknown[] = [];
  const radio = new EslRadio({
    deviceId: 'esl-gw-test',
    clock,
    rng: new Rng(seed),
    tags,
    sink: { report: (report, cause) => reports.push({ ...report, cause }), delivery: (delivery) => deliveries.push(delivery) },
    onError: (error) => errors.push(error),
    checkinJitter: 0,
    defaultTagType: TAG_TYPE,
    ...options,
  });
  return {
    clock,
    radio,
    reports,
    deliveries,
    errors,
    start: clock.now(),
    states: (tagId) => deliveries.filter((d) => d.tagId === tagId).map((d) => (d.reason === undefined ? d.state : `${d.state}:${d.reason}`)),
  };
}
