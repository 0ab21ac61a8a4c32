import { z } from 'zod';

/**
 * The RFID presence tracker's knobs, schema and defaults side by side. docs/rfid-presence.md
 * explains each rule and where its default comes from (research/rfid.md §4.3). Every field is
 * optional; `rfidPresenceOptions.parse({})` gives the defaults.
 */

const ms = z.number().int().positive();
const zoneId = z.string().min(1).max(64).regex(/^[A-Za-z0-9._:-]+$/, 'zone ids are letters, digits and . _ : -');

export const exitOptions = z.strictObject({
  /** Counted reads (after duplicate suppression) at an exit's antennas within `windowMs` that make `exited`. Default 2. */
  reads: z.number().int().min(1).max(32).default(2),
  /** The exit's sliding window. Items pass a portal in about a second, so it is short. Default 1000 ms. */
  windowMs: ms.max(60_000).default(1_000),
  /** A tag that exited cannot exit again until it is present in a zone again or no exit read came for this long (a shopper lingering in the door). Default 60 s. */
  rearmMs: ms.default(60_000),
  /** How long exits stay queryable by `exitedBetween()`. Default 24 h. */
  retentionMs: ms.default(24 * 60 * 60 * 1_000),
});

export const zoneOverride = z.strictObject({
  /** Absence timeout for tags present in this zone (ms without a counted read → `departed`). */
  absenceTimeoutMs: ms.optional(),
  /** Reads weaker than this (dBm) at this zone's antennas are ignored (counted as `belowMinRssi`). A portal's RSSI gate. */
  minRssi: z.number().min(-150).max(20).optional(),
  /** Exit zones only: override `exit.reads`. */
  exitReads: z.number().int().min(1).max(32).optional(),
  /** Exit zones only: override `exit.windowMs`. */
  exitWindowMs: ms.max(60_000).optional(),
});

export const rfidPresenceOptions = z
  .strictObject({
    /** Length of one read cycle (ALE event cycle), aligned on device time. Default 1000 ms. */
    cycleMs: ms.min(50).max(60_000).default(1_000),
    /** Reads of one tag by one antenna in the same aligned slot of this length count once. Must divide `cycleMs`. Default 250 ms. */
    duplicateWindowMs: ms.default(250),
    /** A cycle is decided this long after its end, so a reader whose batch arrives a little late (clock skew, network) still counts. Default 500 ms. */
    latenessMs: z.number().int().nonnegative().max(60_000).default(500),
    /** n of k-of-n: the smoothing window, in cycles. Default 4. */
    windowCycles: z.number().int().min(1).max(64).default(4),
    /** k of k-of-n: cycles with a (non cross-)read in a zone, among the last n, for the tag to be present there. Default 2. */
    presentCycles: z.number().int().min(1).max(64).default(2),
    /** A present tag with no counted read in its zone for this long is `departed`. Default 15 s. */
    absenceTimeoutMs: ms.default(15_000),
    /**
     * A read more than this many dB weaker than the tag's own reference (the smoothed peak RSSI
     * in the zone it is present in) is a cross-read from the fringe of another zone's field.
     * null turns the RSSI comparison off (counts only). Default 8 dB.
     */
    crossReadMarginDb: z.number().nonnegative().max(60).nullable().default(8),
    /**
     * Hysteresis for moves: the zone a tag is present in must have been silent for q cycles,
     * where q is the smallest number with (1 − p)^q ≤ this, p being the lower 2σ bound of the
     * tag's observed read rate there (SMURF-style adaptive window). Default 0.001.
     */
    moveFalseQuietProbability: z.number().gt(0).lt(1).default(0.001),
    /** Bounds of q, in cycles. Defaults 2 and 8. */
    moveQuietMinCycles: z.number().int().min(1).max(64).default(2),
    moveQuietMaxCycles: z.number().int().min(1).max(64).default(8),
    /** EWMA weight of one cycle in the per-tag read rate p̂ and reference RSSI. Default 0.1. */
    smoothing: z.number().gt(0).max(1).default(0.1),
    exit: exitOptions.prefault({}),
    /** Per-zone overrides, by zone id. */
    zones: z.record(zoneId, zoneOverride).default({}),
  })
  .superRefine((o, ctx) => {
    if (o.cycleMs % o.duplicateWindowMs !== 0) {
      ctx.addIssue({ code: 'custom', path: ['duplicateWindowMs'], message: `must divide cycleMs (${o.cycleMs}), e.g. ${o.cycleMs / 4}` });
    }
    if (o.presentCycles > o.windowCycles) {
      ctx.addIssue({ code: 'custom', path: ['presentCycles'], message: `k (${o.presentCycles}) cannot exceed windowCycles n (${o.windowCycles})` });
    }
    if (o.moveQuietMinCycles > o.moveQuietMaxCycles) {
      ctx.addIssue({ code: 'custom', path: ['moveQuietMinCycles'], message: 'must be <= moveQuietMaxCycles' });
    }
    // A move needs the old zone silent for up to moveQuietMaxCycles; a shorter absence timeout
    // would turn every slow move into departed + arrived.
    const quietMs = (o.moveQuietMaxCycles + 1) * o.cycleMs;
    const check = (timeout: number, path: (string | number)[]) => {
      if (timeout <= quietMs) {
        ctx.addIssue({ code: 'custom', path, message: `must exceed (moveQuietMaxCycles + 1) × cycleMs = ${quietMs} ms, or moves are reported as departed + arrived` });
      }
    };
    check(o.absenceTimeoutMs, ['absenceTimeoutMs']);
    for (const [zone, override] of Object.entries(o.zones)) {
      if (override.absenceTimeoutMs !== undefined) check(override.absenceTimeoutMs, ['zones', zone, 'absenceTimeoutMs']);
    }
  });

/** What a caller passes: every field optional. */
export type RfidPresenceOptionsInput = z.input<typeof rfidPresenceOptions>;
/** The options with every default filled in. */
export type RfidPresenceOptions = z.output<typeof rfidPresenceOptions>;
export type ZoneOverride = z.output<typeof zoneOverride>;
