import { z } from 'zod';
import type { HealthPayload, TagReportPayload } from '@storeedge/device-drivers';
import { DeviceSimulator, type DeviceSimulatorBaseOptions } from './device-simulator.ts';
import { simulatorErrors } from './errors.ts';

export interface EslTagConfig {
  tagId: string;
  /** What the tag shows at start; undefined for a blank tag. */
  contentHash?: string;
  /** Default: 2900-3100 mV, drawn from the gateway's rng. */
  batteryMv?: number;
}

export interface EslGatewayOptions extends DeviceSimulatorBaseOptions {
  /** The tags this gateway serves: ids, or full configs. */
  tags: readonly (string | EslTagConfig)[];
  /** Time from a `label.show` to the tag's report (radio wake-up, transfer, e-paper refresh). Default 300-1500 ms. */
  radioDelayMs?: { min: number; max: number };
  /** Each tag checks in once per interval (spread evenly over it); null turns check-ins off. Default 60 s. */
  checkinIntervalMs?: number | null;
  /** Probability that a `label.show` is lost on the radio (no update, no report). Default 0. */
  dropRate?: number;
}

/** `cmd/label.show`: put the image with this content hash on a tag. Other fields (image, page, …) are not simulated. */
export const labelShowCommand = z.object({
  tagId: z.string().min(1).max(64),
  contentHash: z.string().regex(/^[0-9a-f]{16,64}$/),
});
export type LabelShowCommand = z.infer<typeof labelShowCommand>;

interface TagState {
  readonly tagId: string;
  contentHash: string | undefined;
  batteryMv: number;
  /** Updates to one tag go over the radio one after another, so they apply in command order. */
  radioBusyUntil: number;
}

export interface EslGatewayCounters {
  /** label.show commands applied to a tag (reported back). */
  labelsShown: number;
  /** label.show commands lost on the radio (dropRate). */
  labelsDropped: number;
  /** tag.report events sent (label updates, check-ins and reboots). */
  reports: number;
}

/** An e-paper shelf-label gateway that relays `label.show` to its tags and forwards their reports. */
export class EslGatewaySimulator extends DeviceSimulator {
  readonly #tags = new Map<string, TagState>();
  readonly #radioDelayMs: { min: number; max: number };
  readonly #checkinIntervalMs: number | null;
  readonly #dropRate: number;
  readonly #counters: EslGatewayCounters = { labelsShown: 0, labelsDropped: 0, reports: 0 };
  #nextCheckin = 0;

  constructor(options: EslGatewayOptions) {
    super({ ...options, kind: 'esl-gateway', model: options.model ?? 'storeedge-sim-esl-gw' });
    const invalid = (message: string) => simulatorErrors.SIM_ERR_CONFIG_INVALID(`${options.deviceId}: ${message}`, { deviceId: options.deviceId });
    this.#radioDelayMs = options.radioDelayMs ?? { min: 300, max: 1_500 };
    if (!(this.#radioDelayMs.min >= 0) || !(this.#radioDelayMs.max >= this.#radioDelayMs.min)) {
      throw invalid('radioDelayMs needs 0 <= min <= max');
    }
    this.#checkinIntervalMs = options.checkinIntervalMs === undefined ? 60_000 : options.checkinIntervalMs;
    if (this.#checkinIntervalMs !== null && !(this.#checkinIntervalMs > 0)) throw invalid('checkinIntervalMs must be > 0 or null');
    this.#dropRate = options.dropRate ?? 0;
    if (!(this.#dropRate >= 0 && this.#dropRate <= 1)) throw invalid('dropRate must be in [0, 1]');
    for (const entry of options.tags) {
      const config = typeof entry === 'string' ? { tagId: entry } : entry;
      if (this.#tags.has(config.tagId)) throw invalid(`tag ${config.tagId} is listed twice`);
      this.#tags.set(config.tagId, {
        tagId: config.tagId,
        contentHash: config.contentHash,
        batteryMv: config.batteryMv ?? this.rng.int(2_900, 3_100),
        radioBusyUntil: 0,
      });
    }
  }

  tagIds(): string[] {
    return [...this.#tags.keys()];
  }

  /** The content hash a tag shows now (undefined: blank), as ground truth. */
  displayedHash(tagId: string): string | undefined {
    return this.#tag(tagId).contentHash;
  }

  /** A tag loses its image (battery swap, watchdog) and reports `reason: 'boot'` without a hash. */
  rebootTag(tagId: string): Promise<void> {
    const tag = this.#tag(tagId);
    tag.contentHash = undefined;
    return this.#report(tag, 'boot');
  }

  eslStats(): EslGatewayCounters {
    return { ...this.#counters };
  }

  protected override onCommand(type: string, payload: unknown): boolean {
    switch (type) {
      case 'label.show':
        this.#labelShow(payload);
        return true;
      default:
        return false; // counted as ignored by the base class
    }
  }

  protected override onStart(): void {
    const tagCount = this.#tags.size;
    if (this.#checkinIntervalMs === null || tagCount === 0) return;
    // One tag per tick, round-robin: the same check-in rate per tag as all-at-once, without a
    // burst of a whole store's tags that would trip the broker's per-device rate limit.
    this.every(this.#checkinIntervalMs / tagCount, () => this.#checkinNext(), 'tag check-in');
  }

  protected override healthReport(): Omit<HealthPayload, 'at'> {
    return { ...super.healthReport(), temperatureC: Math.round(this.rng.normal(24, 0.5) * 10) / 10 };
  }

  #labelShow(payload: unknown): void {
    const parsed = labelShowCommand.safeParse(payload);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw this.makeError('SIM_ERR_COMMAND_INVALID', `label.show: ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`);
    }
    const { tagId, contentHash } = parsed.data;
    const tag = this.#tags.get(tagId);
    if (tag === undefined) throw this.makeError('SIM_ERR_COMMAND_INVALID', `label.show: tag ${tagId} is not served by this gateway`);
    if (this.rng.chance(this.#dropRate)) {
      this.#counters.labelsDropped++;
      return;
    }
    const now = this.clock.now();
    const applyAt = Math.max(now + Math.round(this.rng.uniform(this.#radioDelayMs.min, this.#radioDelayMs.max)), tag.radioBusyUntil + 1);
    tag.radioBusyUntil = applyAt;
    this.after(
      applyAt - now,
      () => {
        tag.contentHash = contentHash;
        // An e-paper refresh is the costly part of a tag's day.
        tag.batteryMv = Math.max(0, tag.batteryMv - 0.2);
        this.#counters.labelsShown++;
        void this.#report(tag, 'checkin'); // a failed publish is already counted and reported
      },
      'label.show',
    );
  }

  #checkinNext(): void {
    const tags = [...this.#tags.values()];
    const tag = tags[this.#nextCheckin % tags.length]!;
    this.#nextCheckin++;
    if (!this.online) {
      this.countDroppedOffline();
      return;
    }
    void this.#report(tag, 'checkin');
  }

  #report(tag: TagState, reason: TagReportPayload['reason']): Promise<void> {
    this.#counters.reports++;
    const report: Omit<TagReportPayload, 'at'> = {
      tagId: tag.tagId,
      batteryMv: Math.round(tag.batteryMv),
      rssi: Math.round(Math.min(-30, this.rng.normal(-67, 4))),
      reason,
      ...(tag.contentHash === undefined ? {} : { contentHash: tag.contentHash }),
    };
    return this.publishEvent('tag.report', report, { qos: 1 });
  }

  #tag(tagId: string): TagState {
    const tag = this.#tags.get(tagId);
    if (tag === undefined) {
      throw simulatorErrors.SIM_ERR_ARGUMENT_INVALID(`${this.deviceId}: no tag ${tagId}`, { deviceId: this.deviceId });
    }
    return tag;
  }
}
