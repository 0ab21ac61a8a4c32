import {
  contentHashOf,
  tagType as knownTagType,
  type RefusalReason,
  type TagDeliveryPayload,
  type TagImageCommand,
  type TagLedCommand,
  type TagReportPayload,
} from '@storeedge/device-drivers';
import type { Clock } from '../clock.ts';
import { simulatorErrors } from '../errors.ts';
import type { Rng } from '../random.ts';
import { Battery } from './battery.ts';
import { copyCounters, emptyCounters, shownIn, type EslRadioCounters, type EslTagTruth, type ShownContent, type ShownRecord } from './ground-truth.ts';
import { resolveRadioOptions, resolveTagConfigs, type EslRadioOptions, type EslTagConfig, type ResolvedEslRadioOptions } from './radio-options.ts';
import { Timeline } from './timeline.ts';

/** Where the radio's messages to the agent go (the gateway publishes them over MQTT). */
export interface EslRadioSink {
  /** `transfer` and `boot` reports matter to the agent's delivery state; `heartbeat` is telemetry. */
  report(report: TagReportPayload, cause: 'transfer' | 'boot' | 'heartbeat'): void;
  delivery(delivery: TagDeliveryPayload): void;
}

export interface EslRadioInit extends EslRadioOptions {
  /** Used in error messages. */
  deviceId: string;
  clock: Clock;
  rng: Rng;
  tags: readonly (string | EslTagConfig)[];
  sink: EslRadioSink;
  /** A radio step threw (a simulator bug); the other tags keep running. */
  onError: (error: unknown) => void;
}

/** What a command got at once: queued, or refused with a reason (also sent as `tag.delivery`). */
export type SubmitOutcome = { state: 'queued' } | { state: 'refused'; reason: RefusalReason };

interface PendingImage {
  readonly version: number;
  readonly contentHash: string;
  readonly bytes: number;
  attemptsLeft: number;
  /** A transfer of it broke off once: a later timeout is reported as `transfer-error`. */
  broke: boolean;
}

interface PendingLed {
  readonly requestId: string;
  readonly blinks: number;
  attemptsLeft: number;
}

interface Transfer {
  readonly tag: SimTag;
  readonly image: PendingImage;
  sent: number;
  /** The radio epoch it started in: a gateway restart abandons it. */
  readonly radioEpoch: number;
  /** The tag's boot count when it started: a reboot breaks it off. */
  readonly boots: number;
}

/** A tag is its own check-in event (one object per tag, however often it wakes). */
interface SimTag {
  readonly kind: 'checkin';
  readonly tagId: string;
  readonly tagType: string;
  readonly hasLed: boolean;
  readonly battery: Battery;
  readonly history: ShownRecord[];
  /** Ground truth: what the screen shows. */
  shown: ShownContent;
  /** The gateway's anti-replay floor: the highest version it accepted (or saw the tag show), with its hash. */
  highest: { version: number; contentHash: string } | undefined;
  dead: boolean;
  inRange: boolean;
  /** Consecutive check-ins nobody answered (drives the back-off). */
  missed: number;
  /** When the tag wakes next; a check-in event due at another time is stale (rescheduled or cancelled). */
  nextCheckinAt: number;
  /** The radio slot promised to the tag (its next check-in) when it found the radio busy. */
  slot: number | undefined;
  boots: number;
  lastReportAt: number;
  readonly rssiBase: number;
  readonly temperatureOffset: number;
  readonly firstCheckinMs: number | undefined;
  waiting: PendingImage | undefined;
  inFlight: Transfer | undefined;
  led: PendingLed | undefined;
}

type RadioEvent =
  | SimTag
  | { kind: 'block'; transfer: Transfer }
  | { kind: 'housekeeping' }
  | { kind: 'reboot'; tag: SimTag }
  | { kind: 'range'; tag: SimTag };

const DAY_MS = 86_400_000;
/** OEPL tag back-off (research/esl.md §1.5, `powermgt.h`). */
const BACKOFF = { afterMisses: 14, hourlyMs: 3_600_000, hourlyCount: 24, twoHourlyMs: 7_200_000, twoHourlyCount: 12, dailyMs: DAY_MS };
/** A tag given a slot comes back this long after the slot before it ends (OEPL `DATA_REQ_RX_WINDOW_SIZE 5` ms). */
const SLOT_GUARD_MS = 5;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * The radio side of an ESL gateway and the tags it serves, on virtual or wall time. Tags wake
 * on their own check-in schedule and can only be reached then; an image waits in a bounded
 * queue (one entry per tag) until its tag checks in, then moves over the one radio in blocks
 * at the air rate. Tags reboot, lose range, run down their batteries. Everything is driven by
 * one Timeline (one clock timer) per gateway.
 */
export class EslRadio {
  #disturbancesOff = false;
  readonly options: ResolvedEslRadioOptions;
  readonly #deviceId: string;
  readonly #clock: Clock;
  readonly #rng: Rng;
  readonly #sink: EslRadioSink;
  readonly #timeline: Timeline<RadioEvent>;
  readonly #tags = new Map<string, SimTag>();
  /** Tags with an image waiting or in flight, or an LED flash waiting: the bounded queue. */
  readonly #queued = new Set<SimTag>();
  readonly #counters = emptyCounters();
  #transfer: Transfer | undefined;
  /** The radio is promised until then: the transfer on air and the slots given to waiting tags. */
  #bookedUntil = 0;
  #radioEpoch = 0;
  #radioUpAt = 0;
  #running = false;

  constructor(init: EslRadioInit) {
    const { deviceId, clock, rng, tags, sink, onError, ...options } = init;
    this.#deviceId = deviceId;
    this.options = resolveRadioOptions(options, deviceId);
    this.#clock = clock;
    this.#rng = rng;
    this.#sink = sink;
    this.#timeline = new Timeline<RadioEvent>(clock, (event, due) => this.#run(event, due), onError);
    const now = clock.now();
    const { battery, outOfRangeShare, defaultTagType } = this.options;
    for (const config of resolveTagConfigs(tags, deviceId)) {
      const shown: ShownContent = { contentHash: config.contentHash, version: config.version };
      const type = config.tagType ?? defaultTagType;
      this.#tags.set(config.tagId, {
        kind: 'checkin',
        tagId: config.tagId,
        tagType: type,
        hasLed: config.hasLed ?? knownTagType(type)?.led ?? true,
        battery: new Battery(battery.capacityMah, config.batteryMv ?? rng.uniform(2_900, 3_100)),
        history: [{ at: now, ...shown }],
        shown,
        highest: config.contentHash === undefined ? undefined : { version: config.version ?? 0, contentHash: config.contentHash },
        dead: false,
        inRange: !(config.outOfRange ?? rng.chance(outOfRangeShare)),
        missed: 0,
        nextCheckinAt: Number.NaN,
        slot: undefined,
        boots: 0,
        lastReportAt: now,
        rssiBase: Math.min(-35, Math.max(-95, rng.normal(-67, 6))),
        temperatureOffset: rng.normal(0, 1),
        firstCheckinMs: config.firstCheckinMs,
        waiting: undefined,
        inFlight: undefined,
        led: undefined,
      });
    }
  }

  /** Schedules every tag's first check-in (a random phase unless configured), housekeeping, reboots and range churn. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    const now = this.#clock.now();
    const { checkinIntervalMs, reportEveryMs, rebootsPerTagPerDay, rangeChurn, housekeepingIntervalMs } = this.options;
    for (const tag of this.#tags.values()) {
      // Heartbeats spread over the report period, so 20 000 tags do not all report in the first minute.
      tag.lastReportAt = now - this.#rng.uniform(0, reportEveryMs);
      if (checkinIntervalMs !== null) this.#scheduleCheckin(tag, now + (tag.firstCheckinMs ?? this.#rng.uniform(0, checkinIntervalMs)));
      if (rebootsPerTagPerDay > 0) this.#timeline.at(now + this.#rng.exponential(DAY_MS / rebootsPerTagPerDay), { kind: 'reboot', tag });
      if (rangeChurn !== null) this.#scheduleRangeChange(tag, now);
    }
    this.#timeline.at(now + housekeepingIntervalMs, { kind: 'housekeeping' });
    this.#timeline.start();
  }

  stop(): void {
    this.#running = false;
    this.#timeline.stop();
  }

  // ---- commands from the agent -------------------------------------------------------------

  /** `cmd/tag.image` (already schema-checked): queue it or refuse it; either way a `tag.delivery` goes out. */
  submitImage(command: TagImageCommand): SubmitOutcome {
    this.#counters.imagesReceived++;
    const { tagId, version, contentHash } = command;
    const refuse = (reason: RefusalReason): SubmitOutcome => {
      this.#counters.refused[reason]++;
      this.#deliver({ tagId, version, contentHash, state: 'refused', reason });
      return { state: 'refused', reason };
    };
    const tag = this.#tags.get(tagId);
    if (tag === undefined) return refuse('unknown-tag');
    if (command.tagType !== tag.tagType) return refuse('wrong-type');
    const bytes = decodeBase64(command.image);
    if (bytes === undefined || contentHashOf(bytes) !== contentHash) return refuse('hash-mismatch');
    // Anti-replay (device-drivers esl/protocol.ts): never below the highest accepted version, and
    // that version only with its own content; the same version and content again is a re-apply.
    const floor = tag.highest;
    if (floor !== undefined && (version < floor.version || (version === floor.version && contentHash !== floor.contentHash))) {
      return refuse('stale-version');
    }
    if (!this.#queued.has(tag) && this.#queued.size >= this.options.pendingLimit) return refuse('queue-full');
    if (tag.waiting !== undefined) this.#supersedeImage(tag, tag.waiting);
    tag.waiting = { version, contentHash, bytes: bytes.length, attemptsLeft: this.options.pendingAttempts, broke: false };
    tag.highest = { version, contentHash };
    this.#queued.add(tag);
    this.#counters.imagesQueued++;
    this.#deliver({ tagId, version, contentHash, state: 'queued' });
    return { state: 'queued' };
  }

  /** `cmd/tag.led` (already schema-checked): flashed at the tag's next check-in. */
  submitLed(command: TagLedCommand): SubmitOutcome {
    this.#counters.ledReceived++;
    const { tagId, requestId } = command;
    const refuse = (reason: RefusalReason): SubmitOutcome => {
      this.#counters.refused[reason]++;
      this.#deliver({ tagId, requestId, state: 'refused', reason });
      return { state: 'refused', reason };
    };
    const tag = this.#tags.get(tagId);
    if (tag === undefined) return refuse('unknown-tag');
    if (!tag.hasLed) return refuse('not-supported');
    if (!this.#queued.has(tag) && this.#queued.size >= this.options.pendingLimit) return refuse('queue-full');
    if (tag.led !== undefined) {
      this.#counters.superseded++;
      this.#deliver({ tagId, requestId: tag.led.requestId, state: 'superseded' });
    }
    tag.led = { requestId, blinks: command.flashes * command.repeats, attemptsLeft: this.options.pendingAttempts };
    this.#queued.add(tag);
    this.#counters.ledQueued++;
    this.#deliver({ tagId, requestId, state: 'queued' });
    return { state: 'queued' };
  }

  // ---- things that happen to the store -----------------------------------------------------

  /** The tag reboots now: a blank screen (unless the gateway's tags cache content) and a `boot` report if heard. */
  /**
   * No more spontaneous reboots or range churn from now on (a scenario's activity is over and it
   * waits for the labels to settle). Tags out of range stay out; scheduled check-ins go on.
   */
  stopDisturbances(): void {
    this.#disturbancesOff = true;
  }

  rebootTag(tagId: string): void {
    this.#reboot(this.#tag(tagId));
  }

  /** Moves a tag out of radio range or back. A tag back in range is heard at its next wake, which back-off may have pushed far out. */
  setInRange(tagId: string, inRange: boolean): void {
    const tag = this.#tag(tagId);
    if (tag.inRange === inRange) return;
    tag.inRange = inRange;
    this.#counters.rangeChanges++;
  }

  /**
   * The gateway reboots: the pending queue and any transfer in flight are lost without a word
   * (as OEPL's radio loses its pending MACs), the radio hears nothing for `restartDowntimeMs`.
   * Tags keep their screens; the gateway keeps its tag database (the anti-replay floor).
   */
  restart(): void {
    const now = this.#clock.now();
    this.#counters.restarts++;
    this.#radioEpoch++;
    for (const tag of this.#queued) {
      this.#counters.queueLostOnRestart += Number(tag.waiting !== undefined) + Number(tag.inFlight !== undefined) + Number(tag.led !== undefined);
      tag.waiting = undefined;
      tag.led = undefined;
      if (tag.inFlight !== undefined) {
        tag.inFlight = undefined;
        this.#scheduleCheckin(tag, now + this.#interval(tag));
      }
    }
    this.#queued.clear();
    this.#transfer = undefined;
    this.#bookedUntil = now;
    this.#radioUpAt = now + this.options.restartDowntimeMs;
  }

  // ---- ground truth --------------------------------------------------------------------------

  tagIds(): string[] {
    return [...this.#tags.keys()];
  }

  /** What the tag shows now. */
  shown(tagId: string): ShownContent {
    return { ...this.#tag(tagId).shown };
  }

  /** What the tag showed at time `t`. */
  shownAt(tagId: string, t: number): ShownContent {
    return shownIn(this.#tag(tagId).history, t);
  }

  /** Every change of the tag's screen, oldest first (the first record is the start). */
  history(tagId: string): readonly ShownRecord[] {
    return this.#tag(tagId).history.map((record) => ({ ...record }));
  }

  tagTruth(tagId: string): EslTagTruth {
    const tag = this.#tag(tagId);
    const pending = tag.inFlight?.image ?? tag.waiting;
    return {
      tagId,
      tagType: tag.tagType,
      hasLed: tag.hasLed,
      shown: { ...tag.shown },
      batteryMv: tag.battery.mv,
      dead: tag.dead,
      inRange: tag.inRange,
      pending: pending === undefined ? undefined : { version: pending.version, contentHash: pending.contentHash, inFlight: tag.inFlight !== undefined },
      ledPending: tag.led !== undefined,
      highestVersion: tag.highest?.version,
      reboots: tag.boots,
    };
  }

  /** Tags with something pending (the queue `pendingLimit` bounds). */
  queueLength(): number {
    return this.#queued.size;
  }

  counters(): EslRadioCounters {
    return copyCounters(this.#counters);
  }

  // ---- the event loop ------------------------------------------------------------------------

  #run(event: RadioEvent, due: number): void {
    switch (event.kind) {
      case 'checkin':
        if (due === event.nextCheckinAt) this.#checkin(event); // else rescheduled or cancelled since
        return;
      case 'block':
        this.#block(event.transfer);
        return;
      case 'housekeeping':
        this.#housekeeping();
        return;
      case 'reboot':
        if (this.#disturbancesOff) return;
        this.#reboot(event.tag);
        if (event.tag.dead) return;
        this.#timeline.at(this.#clock.now() + this.#rng.exponential(DAY_MS / this.options.rebootsPerTagPerDay), event);
        return;
      case 'range':
        if (this.#disturbancesOff) return;
        event.tag.inRange = !event.tag.inRange;
        this.#counters.rangeChanges++;
        this.#scheduleRangeChange(event.tag, this.#clock.now());
        return;
    }
  }

  /**
   * A tag wakes and asks for data. The steps, in order: pay for the wake, be heard (or back
   * off), flash a waiting LED, then hand over a waiting image — cancelled at once when the tag
   * already shows it, deferred when the radio is busy — and send a heartbeat when one is due.
   */
  #checkin(tag: SimTag): void {
    if (tag.dead) return;
    const now = this.#clock.now();
    if (!this.#draw(tag, this.options.battery.checkinUah)) return;
    if (!tag.inRange || now < this.#radioUpAt) {
      tag.missed++;
      this.#counters.checkinsMissed++;
      this.#scheduleCheckin(tag, now + this.#interval(tag));
      return;
    }
    tag.missed = 0;
    this.#counters.checkins++;
    const slot = tag.slot; // this wake is the radio slot the tag was promised
    tag.slot = undefined;
    if (tag.led !== undefined) this.#flash(tag, tag.led);
    if (tag.dead) return; // the flash took the last of the cell
    const image = tag.waiting;
    if (image !== undefined && tag.shown.contentHash === image.contentHash) {
      this.#cancelUnchanged(tag, image);
    } else if (image !== undefined && this.#transfer === undefined && (now >= this.#bookedUntil || slot !== undefined)) {
      this.#startTransfer(tag, image);
      return; // the tag stays awake for the transfer; it reports when done
    } else if (image !== undefined) {
      // One transfer at a time per radio: the tag is told when to come back (OEPL pleaseWaitMs),
      // a slot after those already promised, so waiting tags queue instead of all retrying at once.
      this.#counters.busyDeferrals++;
      this.#heartbeatIfDue(tag);
      const next = Math.max(now, this.#bookedUntil) + SLOT_GUARD_MS;
      this.#bookedUntil = next + this.#airTimeMs(image.bytes);
      this.#scheduleCheckin(tag, next);
      tag.slot = next;
      return;
    } else {
      this.#heartbeatIfDue(tag);
    }
    this.#scheduleCheckin(tag, now + this.#interval(tag));
  }

  /** OEPL: a tag that already holds the MD5 answers the offer with "transfer complete" at once (§1.7). */
  #cancelUnchanged(tag: SimTag, image: PendingImage): void {
    this.#counters.resentUnchanged++;
    tag.waiting = undefined;
    this.#syncQueue(tag);
    if (tag.shown.version !== image.version) this.#show(tag, { contentHash: image.contentHash, version: image.version }, false);
    this.#deliver({ tagId: tag.tagId, version: image.version, contentHash: image.contentHash, state: 'sent' });
    this.#report(tag, 'checkin', 'transfer');
  }

  #startTransfer(tag: SimTag, image: PendingImage): void {
    const now = this.#clock.now();
    const transfer: Transfer = { tag, image, sent: 0, radioEpoch: this.#radioEpoch, boots: tag.boots };
    tag.waiting = undefined;
    tag.inFlight = transfer;
    tag.nextCheckinAt = Number.NaN; // awake for the transfer: no timed check-in until it ends
    this.#transfer = transfer;
    this.#bookedUntil = Math.max(this.#bookedUntil, now + this.#airTimeMs(image.bytes));
    this.#counters.transfersStarted++;
    this.#timeline.at(now + this.#airTimeMs(Math.min(this.options.blockBytes, image.bytes)), { kind: 'block', transfer });
  }

  /** One block has been on the air. */
  #block(transfer: Transfer): void {
    if (transfer.radioEpoch !== this.#radioEpoch) return; // the gateway restarted meanwhile
    const now = this.#clock.now();
    const { tag, image } = transfer;
    const size = Math.min(this.options.blockBytes, image.bytes - transfer.sent);
    transfer.sent += size;
    this.#counters.bytesOnAir += size;
    if (!tag.inRange || tag.dead || tag.boots !== transfer.boots) {
      this.#breakTransfer(transfer);
      return;
    }
    if (transfer.sent < image.bytes) {
      this.#timeline.at(now + this.#airTimeMs(Math.min(this.options.blockBytes, image.bytes - transfer.sent)), { kind: 'block', transfer });
      return;
    }
    this.#endTransfer(transfer);
    this.#counters.transfersCompleted++;
    // XFER_COMPLETE is the only acknowledgement; the redraw follows it (§1.7).
    this.#show(tag, { contentHash: image.contentHash, version: image.version }, true);
    this.#deliver({ tagId: tag.tagId, version: image.version, contentHash: image.contentHash, state: 'sent' });
    this.#report(tag, 'checkin', 'transfer');
    this.#scheduleCheckin(tag, now + this.#interval(tag));
  }

  /** The tag stopped answering mid-transfer: the item waits for the next check-in, unless a newer one took its place. */
  #breakTransfer(transfer: Transfer): void {
    const { tag, image } = transfer;
    this.#endTransfer(transfer);
    this.#counters.transfersBroken++;
    image.broke = true;
    if (tag.waiting === undefined) tag.waiting = image;
    else this.#supersedeImage(tag, image);
    this.#syncQueue(tag);
    if (tag.boots === transfer.boots) this.#scheduleCheckin(tag, this.#clock.now() + this.#interval(tag)); // a reboot scheduled its own
  }

  #endTransfer(transfer: Transfer): void {
    transfer.tag.inFlight = undefined;
    this.#syncQueue(transfer.tag);
    this.#transfer = undefined;
  }

  /** OEPL housekeeping: every pending item loses an attempt; at zero it is dropped (§1.7, ≈ 20 min). */
  #housekeeping(): void {
    for (const tag of [...this.#queued]) {
      const image = tag.waiting;
      if (image !== undefined && --image.attemptsLeft <= 0) {
        tag.waiting = undefined;
        const reason = image.broke ? 'transfer-error' : 'timeout';
        this.#counters.failed[reason]++;
        this.#deliver({ tagId: tag.tagId, version: image.version, contentHash: image.contentHash, state: 'failed', reason });
      }
      const led = tag.led;
      if (led !== undefined && --led.attemptsLeft <= 0) {
        tag.led = undefined;
        this.#counters.failed.timeout++;
        this.#deliver({ tagId: tag.tagId, requestId: led.requestId, state: 'failed', reason: 'timeout' });
      }
      this.#syncQueue(tag);
    }
    this.#timeline.at(this.#clock.now() + this.options.housekeepingIntervalMs, { kind: 'housekeeping' });
  }

  #reboot(tag: SimTag): void {
    if (tag.dead) return;
    const now = this.#clock.now();
    tag.boots++;
    this.#counters.reboots++;
    tag.missed = 0;
    // ZBS tags redraw from their flash cache; others come up blank (§1.7 "Reboot recovery").
    const kept: ShownContent = this.options.cachesContent ? tag.shown : { contentHash: undefined, version: undefined };
    this.#show(tag, kept, true);
    if (tag.dead) return;
    if (tag.inRange && now >= this.#radioUpAt) this.#report(tag, 'boot', 'boot');
    this.#scheduleCheckin(tag, now + this.#interval(tag));
  }

  #flash(tag: SimTag, led: PendingLed): void {
    tag.led = undefined;
    this.#syncQueue(tag);
    this.#counters.ledFlashes++;
    this.#counters.ledBlinks += led.blinks;
    this.#deliver({ tagId: tag.tagId, requestId: led.requestId, state: 'sent' });
    this.#draw(tag, led.blinks * this.options.battery.ledFlashUah);
  }

  // ---- helpers --------------------------------------------------------------------------------

  /** Puts content on the screen (ground truth), paying for the redraw when there is one. */
  #show(tag: SimTag, content: ShownContent, redraw: boolean): void {
    const changed = content.contentHash !== tag.shown.contentHash || content.version !== tag.shown.version;
    if (changed) {
      tag.shown = { ...content };
      tag.history.push({ at: this.#clock.now(), ...tag.shown });
    }
    if (redraw) this.#draw(tag, this.options.battery.redrawUah);
  }

  /** Draws charge; false (and the tag dies) when the cell falls below the minimum. The screen keeps its image. */
  #draw(tag: SimTag, uah: number): boolean {
    tag.battery.draw(uah);
    if (tag.battery.mv >= this.options.battery.minimumMv) return true;
    if (!tag.dead) {
      tag.dead = true;
      tag.nextCheckinAt = Number.NaN;
      this.#counters.deadTags++;
    }
    return false;
  }

  #heartbeatIfDue(tag: SimTag): void {
    if (this.#clock.now() - tag.lastReportAt >= this.options.reportEveryMs) this.#report(tag, 'checkin', 'heartbeat');
  }

  #report(tag: SimTag, reason: TagReportPayload['reason'], cause: 'transfer' | 'boot' | 'heartbeat'): void {
    const now = this.#clock.now();
    tag.lastReportAt = now;
    this.#counters.reports[cause]++;
    const { contentHash, version } = tag.shown;
    this.#sink.report(
      {
        at: Math.round(now),
        tagId: tag.tagId,
        ...(contentHash === undefined ? {} : { contentHash }),
        ...(version === undefined ? {} : { version }),
        tagType: tag.tagType,
        batteryMv: Math.round(tag.battery.mv),
        rssi: Math.round(tag.rssiBase + this.#rng.normal(0, 2)),
        temperatureC: Math.round(21 + tag.temperatureOffset),
        reason,
      },
      cause,
    );
  }

  #deliver(delivery: Omit<TagDeliveryPayload, 'at'>): void {
    this.#counters.deliveries++;
    this.#sink.delivery({ at: Math.round(this.#clock.now()), ...delivery });
  }

  #supersedeImage(tag: SimTag, image: PendingImage): void {
    this.#counters.superseded++;
    this.#deliver({ tagId: tag.tagId, version: image.version, contentHash: image.contentHash, state: 'superseded' });
  }

  #syncQueue(tag: SimTag): void {
    if (tag.waiting !== undefined || tag.inFlight !== undefined || tag.led !== undefined) this.#queued.add(tag);
    else this.#queued.delete(tag);
  }

  /** Replaces the tag's scheduled check-in with one at `due`. */
  #scheduleCheckin(tag: SimTag, due: number): void {
    tag.nextCheckinAt = Number.NaN;
    tag.slot = undefined;
    if (tag.dead || this.options.checkinIntervalMs === null) return;
    tag.nextCheckinAt = due;
    this.#timeline.at(due, tag);
  }

  /** The sleep before the tag's next check-in: the base interval with jitter, or the back-off once unanswered. */
  #interval(tag: SimTag): number {
    const base = this.options.checkinIntervalMs ?? DAY_MS;
    if (this.options.backoff && tag.missed >= BACKOFF.afterMisses) {
      const beyond = tag.missed - BACKOFF.afterMisses;
      if (beyond < BACKOFF.hourlyCount) return BACKOFF.hourlyMs;
      if (beyond < BACKOFF.hourlyCount + BACKOFF.twoHourlyCount) return BACKOFF.twoHourlyMs;
      return BACKOFF.dailyMs;
    }
    const jitter = this.options.checkinJitter;
    return jitter === 0 ? base : base * (1 + this.#rng.uniform(-jitter, jitter));
  }

  #scheduleRangeChange(tag: SimTag, now: number): void {
    const churn = this.options.rangeChurn;
    if (churn === null) return;
    const mean = tag.inRange ? churn.meanInRangeMs : churn.meanOutOfRangeMs;
    this.#timeline.at(now + this.#rng.exponential(mean), { kind: 'range', tag });
  }

  #airTimeMs(bytes: number): number {
    return (bytes / this.options.radioBytesPerSecond) * 1_000;
  }

  #tag(tagId: string): SimTag {
    const tag = this.#tags.get(tagId);
    if (tag === undefined) throw simulatorErrors.SIM_ERR_ARGUMENT_INVALID(`${this.#deviceId}: no tag ${tagId}`, { deviceId: this.#deviceId });
    return tag;
  }
}

/** The bytes of a base64 string, or undefined when it is not base64. */
function decodeBase64(text: string): Uint8Array | undefined {
  if (text.length % 4 !== 0 || !BASE64.test(text)) return undefined;
  return Buffer.from(text, 'base64');
}
