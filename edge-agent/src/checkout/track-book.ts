import type { Gate, TracksPayload } from '@storeedge/device-drivers';

/**
 * Person tracks from an overhead tracking system (research/checkout.md §5.4): who is where, and
 * where their hands are. The tracker's own track ids are not trusted as identities — tracks drop
 * out and come back under a new id, and two people who pass close to each other may swap ids —
 * so the book keeps *persons* of its own, maps track ids onto them and binds persons to
 * checkout sessions:
 * - **entry**: the entry lane scanned a token for a party of n; the next n new tracks that
 *   appear at that lane within `entryWindowMs` are that party (one cart);
 * - **dropout**: a new track appearing where a bound person vanished a moment ago (within
 *   `stitchMs`, and no farther than a walk at `maxSpeedMps` allows) continues that person;
 * - **identity swap**: when two persons are close and their tracks' positions fit the other
 *   person's motion much better than their own, the track ids are mapped back;
 * - **exit**: a person who vanishes within the exit lane's radius has left.
 * Driven only by the frames' device timestamps, so it runs the same in simulated time.
 */

export interface Point3 {
  x: number;
  y: number;
  z: number;
}

export interface PersonSample {
  at: number;
  x: number;
  y: number;
  hands: Point3[];
}

export interface Person {
  readonly id: string;
  sessionId: string | null;
  /** Samples of the last `historyMs`, oldest first. */
  readonly samples: PersonSample[];
  lastAt: number;
  /** Vanished from the frames (dropout or exit); `exitedAt` set when it was at an exit lane. */
  gone: boolean;
  exitedAt: number | null;
}

export interface TrackBookOptions {
  /** New tracks at the entry lane this long after a scan belong to its party. */
  entryWindowMs: number;
  /** A track missing from the frames this long is gone. */
  goneMs: number;
  /** A new track may continue a vanished person for this long. */
  stitchMs: number;
  /** …if it is no farther from where the person vanished than this speed allows (plus 0.5 m). */
  maxSpeedMps: number;
  /** Persons closer than this are checked for a swap of their track ids. */
  swapCheckM: number;
  /** A swap is undone only when the swapped assignment fits the two predictions better by this many metres… */
  swapMarginM: number;
  /** …and the two predictions were at least this far apart. */
  swapMinSeparationM: number;
  /** Motion history kept per person. */
  historyMs: number;
  /** A person lost from view within this distance of an exit lane, and not continued within `stitchMs`, walked out. */
  exitNearM: number;
}

export const defaultTrackBookOptions: TrackBookOptions = {
  entryWindowMs: 10_000,
  goneMs: 1_000,
  stitchMs: 5_000,
  maxSpeedMps: 2,
  swapCheckM: 1,
  swapMarginM: 0.2,
  swapMinSeparationM: 0.3,
  historyMs: 120_000,
  exitNearM: 2,
};

/** What the book decided while reading a frame (the checkout records these). */
export type TrackDecision =
  | { kind: 'entered'; personId: string; sessionId: string; trackId: string; at: number }
  | { kind: 'stitched'; personId: string; sessionId: string | null; trackId: string; at: number }
  | { kind: 'swapped'; trackIds: [string, string]; personIds: [string, string]; at: number }
  | { kind: 'exited'; personId: string; sessionId: string | null; at: number }
  | { kind: 'unbound'; personId: string; trackId: string; at: number };

interface PendingEntry {
  sessionId: string;
  gate: Gate;
  at: number;
  remaining: number;
}

export class TrackBook {
  readonly options: TrackBookOptions;
  #gates: Gate[];
  readonly #persons = new Map<string, Person>();
  readonly #trackToPerson = new Map<string, string>();
  readonly #entries: PendingEntry[] = [];
  #nextPerson = 1;
  #now = 0;

  constructor(gates: readonly Gate[], options: Partial<TrackBookOptions> = {}) {
    this.#gates = [...gates];
    this.options = { ...defaultTrackBookOptions, ...options };
  }

  /** The store model changed: its lanes (persons and bindings stay). */
  setGates(gates: readonly Gate[]): void {
    this.#gates = [...gates];
    for (const entry of this.#entries) {
      const gate = this.#gates.find((g) => g.device === entry.gate.device && g.lane === 'entry');
      if (gate !== undefined) entry.gate = gate;
    }
  }

  /**
   * Tracks that appeared at the entry lane shortly before the scan reached the agent (the tracker
   * and the gate are separate devices; their messages may arrive in either order) and are nobody's
   * yet: bound now, up to the party's remaining places, earliest first.
   */
  bindEarly(sessionId: string, earlyMs = 3_000): TrackDecision[] {
    const entry = this.#entries.find((e) => e.sessionId === sessionId && e.remaining > 0);
    if (entry === undefined) return [];
    const decisions: TrackDecision[] = [];
    const waiting = [...this.#persons.values()]
      .filter((p) => p.sessionId === null && p.exitedAt === null && p.samples.length > 0 && p.samples[0]!.at >= entry.at - earlyMs && distance(p.samples[0]!, entry.gate) <= entry.gate.radiusM)
      .sort((a, b) => a.samples[0]!.at - b.samples[0]!.at);
    for (const person of waiting) {
      if (entry.remaining <= 0) break;
      entry.remaining--;
      person.sessionId = sessionId;
      const trackId = [...this.#trackToPerson].find(([, id]) => id === person.id)?.[0];
      if (trackId !== undefined) decisions.push({ kind: 'entered', personId: person.id, sessionId, trackId, at: this.#now });
    }
    return decisions;
  }

  /** A party member's entry recorded before a restart: one fewer track to expect. */
  consumeEntry(sessionId: string): void {
    const entry = this.#entries.find((e) => e.sessionId === sessionId && e.remaining > 0);
    if (entry !== undefined) entry.remaining--;
  }

  /** Latest frame time seen (device time), 0 before the first frame. */
  get now(): number {
    return this.#now;
  }

  persons(): Person[] {
    return [...this.#persons.values()];
  }

  person(id: string): Person | undefined {
    return this.#persons.get(id);
  }

  /** Persons bound to a session. */
  personsOf(sessionId: string): Person[] {
    return this.persons().filter((p) => p.sessionId === sessionId);
  }

  /** The entry lane scanned a token: the next `party` new tracks at `gateDevice` belong to `sessionId`. */
  expectEntry(sessionId: string, gateDevice: string, at: number, party: number): boolean {
    const gate = this.#gates.find((g) => g.device === gateDevice && g.lane === 'entry') ?? (this.#gates.length === 0 ? { device: gateDevice, lane: 'entry' as const, x: Number.NaN, y: Number.NaN, radiusM: 1 } : undefined);
    if (gate === undefined) return false;
    this.#entries.push({ sessionId, gate, at, remaining: party });
    return true;
  }

  /** Restores a binding recorded before a restart: track id → person → session. */
  restore(trackId: string, personId: string, sessionId: string | null, _at: number): void {
    let person = this.#persons.get(personId);
    if (person === undefined) {
      // Not seen since the restart: `lastAt` starts at the first frame after it (see ingest), so the
      // binding is kept for `historyMs` of store time whatever the age of the binding event.
      person = { id: personId, sessionId, samples: [], lastAt: Number.NaN, gone: true, exitedAt: null };
      this.#persons.set(personId, person);
      const n = Number(personId.replace(/^p-/, ''));
      if (Number.isInteger(n) && n >= this.#nextPerson) this.#nextPerson = n + 1;
    }
    person.sessionId = sessionId;
    this.#trackToPerson.set(trackId, personId);
  }

  /** Reads one tracker frame; returns what it decided. Frames older than the newest are ignored (returns null). */
  ingest(payload: TracksPayload): TrackDecision[] | null {
    const at = payload.at;
    if (at < this.#now) return null;
    this.#now = at;
    for (const person of this.#persons.values()) if (Number.isNaN(person.lastAt)) person.lastAt = at;
    const decisions: TrackDecision[] = [];
    this.#dropExpiredEntries(at);
    const seen = new Set<string>();
    const tracks = payload.tracks.filter((t) => !seen.has(t.id) && seen.add(t.id)); // a repeated id in one frame: the first wins
    // Known ids first, so a new id is never stitched to a person still visible in this frame.
    const here = new Set<Person>();
    for (const track of tracks) {
      const personId = this.#trackToPerson.get(track.id);
      if (personId !== undefined) here.add(this.#persons.get(personId)!);
    }
    const continuing: Array<{ person: Person; x: number; y: number; hands: Point3[]; trackId: string }> = [];
    for (const track of tracks) {
      const personId = this.#trackToPerson.get(track.id);
      const person = personId === undefined ? this.#newTrack(track.id, track.x, track.y, at, here, decisions) : this.#persons.get(personId)!;
      here.add(person);
      if (person.gone) person.gone = false;
      continuing.push({ person, x: track.x, y: track.y, hands: track.hands ?? [], trackId: track.id });
    }
    this.#undoSwaps(continuing, at, decisions);
    for (const c of continuing) this.#record(c.person, { at, x: c.x, y: c.y, hands: c.hands });
    for (const person of this.#persons.values()) {
      if (person.gone || at - person.lastAt < this.options.goneMs) continue;
      person.gone = true;
      const last = person.samples.at(-1);
      if (last !== undefined && this.#atLane(last, 'exit')) {
        person.exitedAt = person.lastAt;
        decisions.push({ kind: 'exited', personId: person.id, sessionId: person.sessionId, at: person.lastAt });
      }
    }
    // Lost from view close to the exit and not picked up again while a new track could still continue them: they walked
    // out while the tracker had lost them (a dropout over the exit lane). Elsewhere a lost person is left to `lostAfterMs`.
    for (const person of this.#persons.values()) {
      if (!person.gone || person.exitedAt !== null || person.sessionId === null || at - person.lastAt < this.options.stitchMs) continue;
      const last = person.samples.at(-1);
      if (last === undefined || !this.#atLane(last, 'exit', this.options.exitNearM)) continue;
      person.exitedAt = person.lastAt;
      decisions.push({ kind: 'exited', personId: person.id, sessionId: person.sessionId, at: person.lastAt });
    }
    this.#prune(at);
    return decisions;
  }

  /** A new track id: a party member at the entry, a vanished person coming back, or someone unbound. */
  #newTrack(trackId: string, x: number, y: number, at: number, visible: ReadonlySet<Person>, decisions: TrackDecision[]): Person {
    const here = { x, y };
    const entry = this.#entries.find((e) => e.remaining > 0 && at >= e.at - 1_000 && distance(here, e.gate) <= e.gate.radiusM);
    if (entry !== undefined) {
      entry.remaining--;
      const person = this.#create(entry.sessionId, at);
      this.#trackToPerson.set(trackId, person.id);
      decisions.push({ kind: 'entered', personId: person.id, sessionId: entry.sessionId, trackId, at });
      return person;
    }
    let best: Person | undefined;
    let bestD = Number.POSITIVE_INFINITY;
    for (const person of this.#persons.values()) {
      // Vanished (or missing from this frame while not yet declared gone): a dropout may continue under a new id.
      if (visible.has(person) || person.exitedAt !== null || !(person.lastAt < at)) continue;
      const last = person.samples.at(-1);
      if (last === undefined || at - person.lastAt > this.options.stitchMs) continue;
      const d = distance(here, last);
      const reach = 0.5 + (this.options.maxSpeedMps * (at - person.lastAt)) / 1_000;
      if (d <= reach && d < bestD) {
        best = person;
        bestD = d;
      }
    }
    if (best !== undefined) {
      this.#trackToPerson.set(trackId, best.id);
      decisions.push({ kind: 'stitched', personId: best.id, sessionId: best.sessionId, trackId, at });
      return best;
    }
    const person = this.#create(null, at);
    this.#trackToPerson.set(trackId, person.id);
    decisions.push({ kind: 'unbound', personId: person.id, trackId, at });
    return person;
  }

  /**
   * The tracker swapped two persons' ids: at one frame each id jumps to where the *other* person
   * was just seen. Between two frames (0.1 s) a walker moves ≤ 0.15 m and tracker noise is a few
   * centimetres, so each person is expected where they were just seen (the mean of their last two
   * sightings — not a prediction from their velocity, which overshoots when they stop or turn), and
   * a swap is undone only when the two were at least `swapMinSeparationM` apart, both ids moved
   * from where they were just seen (together by more than that separation, each by more than a
   * quarter of it), and the swapped assignment fits better by `swapMarginM`. Persons closer than that cannot be told apart by position at all
   * (research/checkout.md §5.4 — vision's re-identification would); their ids are left as the
   * tracker gives them.
   */
  #undoSwaps(continuing: Array<{ person: Person; x: number; y: number; trackId: string; hands: Point3[] }>, at: number, decisions: TrackDecision[]): void {
    const o = this.options;
    const seen = new Map<Person, { x: number; y: number } | undefined>();
    const justSeen = (person: Person) => {
      if (!seen.has(person)) seen.set(person, lastSeen(person, at));
      return seen.get(person);
    };
    for (let i = 0; i < continuing.length; i++) {
      for (let j = i + 1; j < continuing.length; j++) {
        const a = continuing[i]!;
        const b = continuing[j]!;
        if (a.person === b.person) continue;
        // Far apart now and before: no swap to look at.
        if (distance(a, b) > o.swapCheckM + 1) continue;
        const pa = justSeen(a.person);
        const pb = justSeen(b.person);
        if (pa === undefined || pb === undefined) continue;
        const separation = distance(pa, pb);
        if (separation < o.swapMinSeparationM || separation > o.swapCheckM) continue;
        const swappedFits = distance(a, pb) + distance(b, pa) + o.swapMarginM < distance(a, pa) + distance(b, pb);
        // Both ids jumped: together by more than the two were apart, and neither by less than a quarter of it.
        const keptFails = distance(a, pa) + distance(b, pb) > separation && Math.min(distance(a, pa), distance(b, pb)) > separation / 4;
        if (!swappedFits || !keptFails) continue;
        this.#trackToPerson.set(a.trackId, b.person.id);
        this.#trackToPerson.set(b.trackId, a.person.id);
        decisions.push({ kind: 'swapped', trackIds: [a.trackId, b.trackId], personIds: [a.person.id, b.person.id], at });
        const person = a.person;
        a.person = b.person;
        b.person = person;
      }
    }
  }

  #create(sessionId: string | null, at: number): Person {
    const person: Person = { id: `p-${this.#nextPerson++}`, sessionId, samples: [], lastAt: at, gone: false, exitedAt: null };
    this.#persons.set(person.id, person);
    return person;
  }

  #record(person: Person, sample: PersonSample): void {
    person.samples.push(sample);
    person.lastAt = sample.at;
    person.exitedAt = null;
  }

  /** Is the point within a gate of this lane (or within `beyondM` of one)? */
  #atLane(point: { x: number; y: number }, lane: Gate['lane'], beyondM = 0): boolean {
    return this.#gates.some((g) => g.lane === lane && distance(point, g) <= g.radiusM + beyondM);
  }

  #dropExpiredEntries(at: number): void {
    for (let i = this.#entries.length - 1; i >= 0; i--) {
      const e = this.#entries[i]!;
      if (e.remaining <= 0 || at - e.at > this.options.entryWindowMs) this.#entries.splice(i, 1);
    }
  }

  #prune(at: number): void {
    const horizon = at - this.options.historyMs;
    for (const [id, person] of this.#persons) {
      const samples = person.samples;
      let drop = 0;
      while (drop < samples.length && samples[drop]!.at < horizon) drop++;
      if (drop > 0) samples.splice(0, drop);
      // Forget persons long gone (their bindings are in the ledger).
      if (person.gone && at - person.lastAt > this.options.historyMs) {
        this.#persons.delete(id);
        for (const [trackId, personId] of this.#trackToPerson) if (personId === id) this.#trackToPerson.delete(trackId);
      }
    }
  }
}

/** Where the person was just seen: the mean of their last two sightings, if the last is at most 0.3 s old (else undefined). */
function lastSeen(person: Person, at: number): { x: number; y: number } | undefined {
  const s = person.samples;
  const last = s.at(-1);
  if (last === undefined || at - last.at > 300) return undefined;
  const before = s.at(-2);
  return before === undefined || last.at - before.at > 300 ? { x: last.x, y: last.y } : { x: (last.x + before.x) / 2, y: (last.y + before.y) / 2 };
}

export function distance(a: { x: number; y: number }, b: { x: number; y: number }): number {
  return Math.hypot(a.x - b.x, a.y - b.y);
}
