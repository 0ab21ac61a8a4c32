import type { TracksPayload } from '@storeedge/device-drivers';
import type { ScriptedScan } from './checkout-script.ts';
import type { TrackerFrame, TrackerModel, TrackerStats } from './tracker-model.ts';
import type { TrueShelfAction, TrueVisit } from './truth.ts';

/**
 * What the identity evaluation needs of the agent's person book (edge-agent's TrackBook): the
 * entry scans and the tracker frames go in; its persons, their visits and their samples come out.
 */
export interface IdentityBook {
  expectEntry(sessionId: string, gateDevice: string, at: number, party: number): boolean;
  bindEarly(sessionId: string): unknown[];
  ingest(payload: TracksPayload): IdentityDecision[] | null;
  persons(): ReadonlyArray<{
    id: string;
    sessionId: string | null;
    samples: ReadonlyArray<{ at: number; x: number; y: number }>;
    doubt?: { since: number; until?: number };
  }>;
}

/** The decisions the evaluation scores (the book's own type has more). */
export interface IdentityDecision {
  kind: string;
  trackId?: string;
  trackIds?: readonly string[];
  sessionId?: string | null;
  since?: number;
  doubtWith?: readonly string[];
}

/** How well a person book kept track of who is who (docs/checkout.md "Identity"). */
export interface TrackIdentityReport {
  /** What the simulated tracker did: tracks handed out, dropouts, close encounters, id swaps. */
  tracker: TrackerStats;
  /**
   * Id swaps between two persons in view (pairs; `fresh`: one of the two ids appeared in that
   * frame), of them between persons of different visits, and the book's repairs: right (the
   * same two ids from the same frame), false (no such swap), missed.
   */
  swaps: { tracker: number; fresh: number; acrossVisits: number; repairs: number; right: number; false: number; missed: number; missedAcrossVisits: number };
  /** New tracks the book continued a vanished person with: right or wrong visit, and of those how many it marked as doubtful. */
  stitches: { right: number; wrong: number; rightInDoubt: number; wrongInDoubt: number };
  /** Track samples (person × frame) of bound persons, and those the book holds under another visit (in doubt there or not). */
  samples: { total: number; wrongVisit: number; wrongVisitInDoubt: number };
  /**
   * Shelf actions whose actor the book held under another visit at some frame of the action (in
   * doubt there, or not), and whose actor was in doubt at some frame of it, right or wrong (the
   * checkout sends those to review: the price of doubt).
   */
  actions: { total: number; wrongVisit: number; wrongVisitInDoubt: number; inDoubt: number };
  /** Persons, and persons the book held under another visit at some frame. */
  persons: { total: number; everWrong: number };
}

export interface IdentityInputs {
  tracker: TrackerModel;
  frameMs: number;
  endMs: number;
  epochMs: number;
  scans: readonly ScriptedScan[];
  visits: readonly TrueVisit[];
  actions: readonly TrueShelfAction[];
}

/** A sample is judged once it is this old (swap repairs move the samples of their window, ≤ 2 s). */
const SETTLED_MS = 2_000;
/** A shelf action's actor is checked on the frames from this long before it starts to this long after it ends. */
const ACTION_SLACK_MS = 500;

/**
 * Feeds the tracker's frames and the entry scans to `book` in device-time order, as the agent
 * would get them, and scores the book's persons against the truth after the fact: each sample
 * is matched (by time and position) to the person the tracker saw there. The book sees only the
 * frames; the truth never reaches it.
 */
export function evaluateTrackIdentity(inputs: IdentityInputs, book: IdentityBook): TrackIdentityReport {
  const { tracker, frameMs, endMs, epochMs, scans } = inputs;
  const visitOf = new Map<string, string>();
  inputs.visits.forEach((v, i) => v.persons.forEach((p) => visitOf.set(p, `visit-${i + 1}`)));
  const visitOfToken = new Map(inputs.visits.map((v, i) => [v.token, `visit-${i + 1}`]));
  const report: TrackIdentityReport = {
    tracker: tracker.stats,
    swaps: { tracker: 0, fresh: 0, acrossVisits: 0, repairs: 0, right: 0, false: 0, missed: 0, missedAcrossVisits: 0 },
    stitches: { right: 0, wrong: 0, rightInDoubt: 0, wrongInDoubt: 0 },
    samples: { total: 0, wrongVisit: 0, wrongVisitInDoubt: 0 },
    actions: { total: inputs.actions.length, wrongVisit: 0, wrongVisitInDoubt: 0, inDoubt: 0 },
    persons: { total: visitOf.size, everWrong: 0 },
  };
  const sampleTruth = new Map<string, string>();
  const key = (at: number, x: number, y: number) => `${at}|${x}|${y}`;
  const judgedUntil = new Map<string, number>();
  const everWrong = new Set<string>();
  const actionsBy = new Map<string, Array<{ from: number; to: number; index: number }>>();
  inputs.actions.forEach((a, index) => {
    const list = actionsBy.get(a.person) ?? [];
    list.push({ from: a.startAt - ACTION_SLACK_MS, to: a.endAt + ACTION_SLACK_MS, index });
    actionsBy.set(a.person, list);
  });
  const actionWrong = new Map<number, boolean>(); // index → in doubt (false: wrong and not in doubt)
  const actionInDoubt = new Set<number>();
  const judge = (upTo: number) => {
    for (const p of book.persons()) {
      const from = judgedUntil.get(p.id) ?? -Infinity;
      let last = from;
      for (const s of p.samples) {
        if (s.at <= from || s.at > upTo) continue;
        last = Math.max(last, s.at);
        const who = sampleTruth.get(key(s.at, s.x, s.y));
        const want = who === undefined ? undefined : visitOf.get(who);
        if (who === undefined || want === undefined) continue;
        report.samples.total++;
        const doubt = p.doubt !== undefined && p.doubt.since <= s.at && !(s.at >= (p.doubt.until ?? Number.POSITIVE_INFINITY));
        const t = s.at - epochMs;
        if (doubt) for (const a of actionsBy.get(who) ?? []) if (t >= a.from && t <= a.to) actionInDoubt.add(a.index);
        if (p.sessionId === want) continue;
        report.samples.wrongVisit++;
        if (doubt) report.samples.wrongVisitInDoubt++;
        everWrong.add(who);
        for (const a of actionsBy.get(who) ?? []) {
          if (t < a.from || t > a.to) continue;
          // Not in doubt at any wrong frame: a wrong charge nobody reviews.
          actionWrong.set(a.index, (actionWrong.get(a.index) ?? true) && doubt);
        }
      }
      judgedUntil.set(p.id, last);
    }
  };

  const truthSwaps = new Map<string, { across: boolean }>();
  const repairs = new Set<string>();
  const swapKey = (t: number, ids: readonly string[]) => `${t}|${[...ids].sort().join(',')}`;
  let previous = new Map<string, string>(); // track id → person, last frame
  let scan = 0;
  for (let f = 0; ; f++) {
    const t = f * frameMs;
    if (t > endMs) break;
    while (scan < scans.length && scans[scan]!.at <= t) {
      const s = scans[scan++]!;
      const visit = visitOfToken.get(s.token);
      if (s.lane !== 'entry' || visit === undefined) continue;
      book.expectEntry(visit, s.deviceId, epochMs + s.at, s.party);
      book.bindEarly(visit);
    }
    const frame = tracker.frame(t);
    noteSwaps(frame, previous, (ids, persons, fresh) => {
      const across = visitOf.get(persons[0]) !== visitOf.get(persons[1]);
      truthSwaps.set(swapKey(t, ids), { across });
      report.swaps.tracker++;
      if (fresh) report.swaps.fresh++;
      if (across) report.swaps.acrossVisits++;
    });
    previous = new Map(frame.truth.map((x) => [x.trackId, x.personId]));
    const byTrack = new Map(frame.truth.map((x) => [x.trackId, x.personId]));
    for (const track of frame.tracks) sampleTruth.set(key(epochMs + t, track.x, track.y), byTrack.get(track.id)!);
    for (const d of book.ingest({ at: epochMs + t, tracks: frame.tracks }) ?? []) {
      if (d.kind === 'swapped' && d.trackIds !== undefined && d.since !== undefined) repairs.add(swapKey(d.since - epochMs, d.trackIds));
      if (d.kind === 'stitched' && d.trackId !== undefined) {
        const right = d.sessionId === visitOf.get(byTrack.get(d.trackId) ?? '');
        const doubt = d.doubtWith !== undefined && d.doubtWith.length > 0;
        if (right) report.stitches[doubt ? 'rightInDoubt' : 'right']++;
        else report.stitches[doubt ? 'wrongInDoubt' : 'wrong']++;
      }
    }
    if (f % 10 === 0) judge(epochMs + t - SETTLED_MS);
  }
  judge(Infinity);
  report.swaps.repairs = repairs.size;
  for (const k of repairs) if (truthSwaps.has(k)) report.swaps.right++;
  report.swaps.false = repairs.size - report.swaps.right;
  for (const [k, s] of truthSwaps) {
    if (repairs.has(k)) continue;
    report.swaps.missed++;
    if (s.across) report.swaps.missedAcrossVisits++;
  }
  for (const doubt of actionWrong.values()) {
    report.actions.wrongVisit++;
    if (doubt) report.actions.wrongVisitInDoubt++;
  }
  report.actions.inDoubt = actionInDoubt.size;
  report.persons.everWrong = everWrong.size;
  return report;
}

/**
 * The id swaps of one frame: a track id that fed another person in view in the last frame. Each
 * pair once (a rotation of three is three pairs); `fresh` when the other id first appears now.
 */
function noteSwaps(frame: TrackerFrame, previous: ReadonlyMap<string, string>, note: (ids: [string, string], persons: [string, string], fresh: boolean) => void): void {
  const now = new Map(frame.truth.map((x) => [x.personId, x.trackId]));
  for (const x of frame.truth) {
    const before = previous.get(x.trackId);
    if (before === undefined || before === x.personId || !now.has(before)) continue;
    const other = now.get(before)!;
    // The id `before` holds now fed x's person last frame too: the pair is noted from that side (lower person id).
    if (previous.get(other) === x.personId && x.personId > before) continue;
    note([x.trackId, other], [x.personId, before], !previous.has(other));
  }
}
