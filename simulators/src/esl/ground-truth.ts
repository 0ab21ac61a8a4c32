import type { RefusalReason } from '@storeedge/device-drivers';

/**
 * What the simulator knows and the agent must not: what each tag really shows, and what the
 * radio did. A scenario report compares the agent's belief with this; none of it goes over
 * MQTT.
 */

/** What a tag's screen shows; `contentHash` undefined is a blank (or boot) screen. */
export interface ShownContent {
  contentHash: string | undefined;
  version: number | undefined;
}

/** From `at` on, the tag showed this (until the next record). */
export interface ShownRecord extends ShownContent {
  at: number;
}

/** The content shown at time `t`: the last record at or before `t` (the first record also covers earlier times). */
export function shownIn(history: readonly ShownRecord[], t: number): ShownContent {
  let lo = 0;
  let hi = history.length - 1;
  // Binary search for the last record with at <= t.
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (history[mid]!.at <= t) lo = mid;
    else hi = mid - 1;
  }
  const record = history[lo]!;
  return { contentHash: record.contentHash, version: record.version };
}

export interface EslRadioCounters {
  /** `tag.image` commands that reached the radio (valid JSON of the right shape). */
  imagesReceived: number;
  /** Of those, queued (the rest were refused). */
  imagesQueued: number;
  /** `tag.led` commands that reached the radio, and of those queued. */
  ledReceived: number;
  ledQueued: number;
  /** Commands refused, by reason. */
  refused: Record<RefusalReason, number>;
  /** Waiting items a newer one for the same tag replaced (images and LED flashes). */
  superseded: number;
  /** Items the gateway gave up on, by reason. */
  failed: { timeout: number; 'transfer-error': number };
  transfersStarted: number;
  /** Transfers the tag completed (the image is on its screen). */
  transfersCompleted: number;
  /** Transfers cut off (tag out of range, rebooted, dead); the item waits for the next check-in. */
  transfersBroken: number;
  /** Image bytes sent over the air, broken transfers included. */
  bytesOnAir: number;
  /** Images handed to a tag that already showed them: the tag cancelled at once. The agent should never cause this. */
  resentUnchanged: number;
  /** LED commands delivered, and single flashes made (flashes × repeats each). */
  ledFlashes: number;
  ledBlinks: number;
  /** Tag reboots (spontaneous and rebootTag()). */
  reboots: number;
  /** Check-ins the gateway heard, and those nobody heard (out of range, radio down). */
  checkins: number;
  checkinsMissed: number;
  /** Check-ins told to come back later because the radio was busy with another transfer. */
  busyDeferrals: number;
  /** `tag.report` events made, by cause. */
  reports: { transfer: number; boot: number; heartbeat: number };
  /** `tag.delivery` events made. */
  deliveries: number;
  /** Gateway restarts, and pending items they lost. */
  restarts: number;
  queueLostOnRestart: number;
  /** Tags whose battery fell below the minimum (they stop; the screen keeps its last image). */
  deadTags: number;
  /** Tags moved out of or into range (rangeChurn and setInRange()). */
  rangeChanges: number;
}

export function emptyCounters(): EslRadioCounters {
  return {
    imagesReceived: 0,
    imagesQueued: 0,
    ledReceived: 0,
    ledQueued: 0,
    refused: { 'stale-version': 0, 'hash-mismatch': 0, 'wrong-type': 0, 'unknown-tag': 0, 'queue-full': 0, 'not-supported': 0 },
    superseded: 0,
    failed: { timeout: 0, 'transfer-error': 0 },
    transfersStarted: 0,
    transfersCompleted: 0,
    transfersBroken: 0,
    bytesOnAir: 0,
    resentUnchanged: 0,
    ledFlashes: 0,
    ledBlinks: 0,
    reboots: 0,
    checkins: 0,
    checkinsMissed: 0,
    busyDeferrals: 0,
    reports: { transfer: 0, boot: 0, heartbeat: 0 },
    deliveries: 0,
    restarts: 0,
    queueLostOnRestart: 0,
    deadTags: 0,
    rangeChanges: 0,
  };
}

/** A deep copy, so a caller's snapshot does not move on. */
export function copyCounters(counters: EslRadioCounters): EslRadioCounters {
  return { ...counters, refused: { ...counters.refused }, failed: { ...counters.failed }, reports: { ...counters.reports } };
}

/** One tag as the simulator sees it now. */
export interface EslTagTruth {
  tagId: string;
  tagType: string;
  hasLed: boolean;
  shown: ShownContent;
  batteryMv: number;
  /** Below the battery minimum: the tag no longer wakes. */
  dead: boolean;
  inRange: boolean;
  /** The image waiting in the gateway's queue, or moving over the air. */
  pending: { version: number; contentHash: string; inFlight: boolean } | undefined;
  ledPending: boolean;
  /** The highest version the gateway accepted for this tag (anti-replay floor). */
  highestVersion: number | undefined;
  reboots: number;
}
