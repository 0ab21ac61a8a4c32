import type { RfidPresence } from '../../../src/events.ts';
import { RfidPresenceTracker, type RfidPresenceStats } from '../../../src/inventory/rfid/presence-tracker.ts';
import type { RfidPresenceOptionsInput } from '../../../src/inventory/rfid/options.ts';
import { type Delivery, type GeneratedTag, type ScenarioOptions, generateSecond, generateTags, lastChangeAt, scenarioModel, truthAt } from './read-generator.ts';

/**
 * Runs the tracker over a generated scenario in simulated time and scores it against the
 * ground truth. Used by presence-statistics.test.ts (assertions) and measure.ts (the figures in
 * docs/rfid-presence.md).
 */

export interface LatencyFigures {
  count: number;
  medianMs: number;
  p95Ms: number;
  maxMs: number;
}

export interface PresenceFigures {
  tags: number;
  durationMs: number;
  /** Samples (tag × second) are skipped for this long after each true change: the smoothing delay. */
  settleMs: number;
  /** Tag-seconds with the tag in a zone (after the settle time) and how many the tracker had right. */
  zoneSamples: number;
  zoneCorrect: number;
  zoneAccuracy: number;
  /** Tag-seconds with the tag not in the store (before arrival, after exit; after the settle time) that the tracker still showed present. */
  absentSamples: number;
  ghostSamples: number;
  /** True changes (arrival, move, exit) and the events the tracker gave. */
  expectedEvents: number;
  observedEvents: number;
  /** Events beyond the true changes, summed over tags, and the worst tag. */
  extraEvents: number;
  maxExtraEventsPerTag: number;
  tagsWithExtraEvents: number;
  moves: { total: number; asMove: number; asDepartedArrived: number; missed: number; latency: LatencyFigures };
  arrivals: { total: number; detected: number; latency: LatencyFigures };
  exits: { total: number; detected: number; falseExits: number; latency: LatencyFigures };
  stats: RfidPresenceStats;
}

interface TimedEvent extends RfidPresence {
  /** Simulated time the tracker emitted it (when the message or tick that decided it was processed). */
  emittedAt: number;
}

export function runScenario(scenario: ScenarioOptions, trackerOptions: RfidPresenceOptionsInput = {}, settleMs = 12_000): PresenceFigures {
  const tags = generateTags(scenario);
  let now = 0;
  const events: TimedEvent[] = [];
  const tracker = new RfidPresenceTracker({
    model: scenarioModel(),
    options: trackerOptions,
    onPresence: (event) => events.push({ ...event, emittedAt: now }),
  });

  let zoneSamples = 0;
  let zoneCorrect = 0;
  let absentSamples = 0;
  let ghostSamples = 0;
  let pending: Delivery[] = [];
  const seconds = Math.ceil(scenario.durationMs / 1_000);
  for (let second = 0; second < seconds; second++) {
    pending.push(...generateSecond(scenario, tags, second));
    pending.sort((a, b) => a.deliverAt - b.deliverAt);
    const until = (second + 1) * 1_000;
    let i = 0;
    for (; i < pending.length && pending[i]!.deliverAt < until; i++) {
      now = pending[i]!.deliverAt;
      tracker.ingest(pending[i]!.event);
    }
    pending = pending.slice(i);
    now = until;
    tracker.tick(until);

    for (const tag of tags) {
      const changed = lastChangeAt(tag, until);
      if (changed !== undefined && until - changed < settleMs) continue;
      const truth = truthAt(tag, until);
      const seen = tracker.zoneOf(tag.epc);
      if (truth.kind === 'zone') {
        zoneSamples++;
        if (seen === truth.zone) zoneCorrect++;
      } else if (truth.kind === 'gone') {
        absentSamples++;
        if (seen !== undefined) ghostSamples++;
      }
    }
  }

  const byTag = new Map<string, TimedEvent[]>();
  for (const event of events) byTag.set(event.epc, [...(byTag.get(event.epc) ?? []), event]);

  const moveLatencies: number[] = [];
  const arrivalLatencies: number[] = [];
  const exitLatencies: number[] = [];
  let moves = 0;
  let asMove = 0;
  let asDepartedArrived = 0;
  let arrivals = 0;
  let exits = 0;
  let matchedExits = 0;
  let expectedEvents = 0;
  let extraEvents = 0;
  let maxExtra = 0;
  let tagsWithExtra = 0;
  for (const tag of tags) {
    const own = byTag.get(tag.epc) ?? [];
    const expected = expectedChanges(tag);
    expectedEvents += expected;
    const extra = Math.max(0, own.length - expected);
    extraEvents += extra;
    maxExtra = Math.max(maxExtra, extra);
    if (extra > 0) tagsWithExtra++;

    tag.timeline.forEach((change, index) => {
      const next = tag.timeline[index + 1]?.at ?? Number.POSITIVE_INFINITY;
      const during = own.filter((e) => e.emittedAt >= change.at && e.emittedAt < next + settleMs);
      if (change.state.kind === 'zone') {
        const zone = change.state.zone;
        const previous = tag.timeline[index - 1]?.state;
        if (index === 0) {
          arrivals++;
          const hit = during.find((e) => e.kind === 'arrived' && e.zone === zone);
          if (hit) arrivalLatencies.push(hit.emittedAt - change.at);
          return;
        }
        moves++;
        const moved = during.find((e) => e.kind === 'moved' && e.zone === zone && previous?.kind === 'zone' && e.previousZone === previous.zone);
        if (moved) {
          asMove++;
          moveLatencies.push(moved.emittedAt - change.at);
        } else if (during.some((e) => e.kind === 'arrived' && e.zone === zone)) {
          asDepartedArrived++;
        }
      } else if (change.state.kind === 'portal') {
        exits++;
        const gone = tag.timeline[index + 1]?.at ?? change.at;
        const exited = own.find((e) => e.kind === 'exited' && e.emittedAt >= change.at && e.at <= gone);
        if (exited) {
          matchedExits++;
          exitLatencies.push(exited.emittedAt - change.at);
        }
      }
    });
  }
  const exitedEvents = events.filter((e) => e.kind === 'exited').length;

  return {
    tags: tags.length,
    durationMs: scenario.durationMs,
    settleMs,
    zoneSamples,
    zoneCorrect,
    zoneAccuracy: zoneSamples === 0 ? 1 : zoneCorrect / zoneSamples,
    absentSamples,
    ghostSamples,
    expectedEvents,
    observedEvents: events.length,
    extraEvents,
    maxExtraEventsPerTag: maxExtra,
    tagsWithExtraEvents: tagsWithExtra,
    moves: { total: moves, asMove, asDepartedArrived, missed: moves - asMove - asDepartedArrived, latency: latency(moveLatencies) },
    arrivals: { total: arrivals, detected: arrivalLatencies.length, latency: latency(arrivalLatencies) },
    exits: { total: exits, detected: matchedExits, falseExits: exitedEvents - matchedExits, latency: latency(exitLatencies) },
    stats: tracker.stats(),
  };
}

/** One event per arrival, per move and per exit. */
function expectedChanges(tag: GeneratedTag): number {
  return tag.timeline.filter((c) => c.state.kind === 'zone' || c.state.kind === 'portal').length;
}

function latency(values: number[]): LatencyFigures {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => (sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!);
  return { count: sorted.length, medianMs: at(0.5), p95Ms: at(0.95), maxMs: sorted.length === 0 ? Number.NaN : sorted[sorted.length - 1]! };
}
