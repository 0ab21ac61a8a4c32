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
 *   person's motion much better than their own, the track ids are mapped back — also when one
 *   of the tracks vanished a frame after the swap, and when the tracker swapped as a track
 *   appeared (the new id given to the person beside it);
 * - **re-identification**: when the tracker sends an appearance descriptor per track (`look`),
 *   the book learns how each person looks and swaps back two persons of different visits whose
 *   tracks, since a moment they were close, look like each other's person; it stitches a new
 *   track to the vanished person it looks like, and doubts no rival it does not look like;
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
  /** The tracker's appearance descriptor of whoever the track was this frame (re-identification), if it sends one. */
  look?: readonly number[];
  /** No other track was within LOOK_CLEAN_M this frame (the descriptor is not mixed with a neighbour's). */
  clean?: boolean;
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
  /**
   * From `since` on this person may be someone else: a new track was stitched to them, or to
   * another visit's person, while both had vanished close together (the nearer last sighting
   * need not be the right one). `sessions` are the visits they may have been mixed up with.
   * `until`: appearance showed them to be themselves from then on (`lookN`: how many descriptors
   * their learnt appearance had when the doubt began — one learnt since may be the other's).
   */
  doubt?: { since: number; sessions: string[]; until?: number; lookN: number };
  /** The last time a new track continued this person: when, where it appeared, and where and when the person was last seen before. */
  stitch?: { at: number; to: { x: number; y: number }; from: { x: number; y: number }; lostAt: number };
  /**
   * How this person looks to the tracker: the sum of their clean appearance descriptors, how many
   * (`n`; LOOK_MATURE make it usable) and up to which sample time they were read. Memory only:
   * never written to the ledger.
   */
  look?: { sum: number[]; n: number; upTo: number; cleanAt: number };
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
  /** Persons expected within this of each other are checked for a swap of their track ids. */
  swapCheckM: number;
  /** A swap is undone only when the swapped assignment fits the persons' motion better by this many metres (mean over the window)… */
  swapMarginM: number;
  /** …and each id it moves strayed from its person's motion by at least half this (persons closer than that cannot be told apart). */
  swapMinSeparationM: number;
  /** A possible swap is judged on the frames of this long after it (the repair comes that much later, and moves those frames' samples). */
  swapWindowMs: number;
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
  swapWindowMs: 400,
  historyMs: 120_000,
  exitNearM: 2,
};

/** What the book decided while reading a frame (the checkout records these). */
export type TrackDecision =
  | { kind: 'entered'; personId: string; sessionId: string; trackId: string; at: number }
  /**
   * `doubtWith`: other visits' persons who had vanished about as near (the stitch may have picked the wrong one);
   * `doubtSince`: from when they may be mixed up (at or before `at`: a rival's own stitch a moment earlier).
   */
  | { kind: 'stitched'; personId: string; sessionId: string | null; trackId: string; at: number; doubtWith?: string[]; doubtSince?: number }
  /** From the frame at `since` on, the track that fed `personIds[0]` was `personIds[1]` and the other way round (decided at `at`). */
  | { kind: 'swapped'; trackIds: [string, string]; personIds: [string, string]; since: number; at: number }
  /** These persons (of different visits) may be mixed up from `since` on: a swap as a track appeared that position cannot confirm. */
  | { kind: 'doubted'; personIds: string[]; since: number; at: number }
  /** Appearance showed these persons in doubt to be themselves: no longer in doubt from `at` on. */
  | { kind: 'cleared'; personIds: string[]; at: number }
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
  /** The track each person was last seen under. */
  readonly #trackOf = new Map<string, string>();
  /** When each track id of the last `stitchMs` first appeared, oldest first. */
  readonly #trackFirstAt = new Map<string, number>();
  readonly #entries: PendingEntry[] = [];
  #nextPerson = 1;
  #now = 0;
  /** Times of the frames within `swapWindowMs`, oldest first. */
  readonly #frameTimes: number[] = [];
  /** Pairs of persons that were close (or rivals for one stitch) lately: where the tracker may have mixed them up. */
  readonly #contacts = new Map<string, Contact>();
  /** When each person in doubt was last checked against their appearance. */
  readonly #doubtCheckedAt = new Map<string, number>();

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

  /** These persons (of different visits) may be mixed up with each other from `since` on (see `Person.doubt`). */
  markDoubt(personIds: readonly string[], since: number): void {
    const persons = personIds.flatMap((id) => this.#persons.get(id) ?? []);
    for (const p of persons) {
      const others = persons.filter((q) => q !== p && q.sessionId !== null && q.sessionId !== p.sessionId).map((q) => q.sessionId!);
      if (others.length === 0) continue;
      const open = p.doubt !== undefined && p.doubt.until === undefined;
      p.doubt = { since: open ? Math.min(p.doubt!.since, since) : since, sessions: [...new Set([...(p.doubt?.sessions ?? []), ...others])], lookN: p.look?.n ?? 0 };
    }
  }

  /** Appearance showed these persons to be themselves from `at` on (see `Person.doubt`); replayed after a restart. */
  clearDoubt(personIds: readonly string[], at: number): void {
    for (const id of personIds) {
      const doubt = this.#persons.get(id)?.doubt;
      if (doubt !== undefined && doubt.until === undefined && doubt.since <= at) doubt.until = at;
    }
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
    for (const [trackId, firstAt] of this.#trackFirstAt) {
      if (at - firstAt <= this.options.stitchMs) break;
      this.#trackFirstAt.delete(trackId);
    }
    const seen = new Set<string>();
    const tracks = payload.tracks.filter((t) => !seen.has(t.id) && seen.add(t.id)); // a repeated id in one frame: the first wins
    // Known ids first, so a new id is never stitched to a person still visible in this frame.
    const here = new Set<Person>();
    for (const track of tracks) {
      const personId = this.#trackToPerson.get(track.id);
      if (personId !== undefined) here.add(this.#persons.get(personId)!);
    }
    const continuing: Array<{ person: Person; x: number; y: number; hands: Point3[]; trackId: string; look?: readonly number[] }> = [];
    for (const track of tracks) {
      const personId = this.#trackToPerson.get(track.id);
      if (personId === undefined) this.#trackFirstAt.set(track.id, at);
      const person = personId === undefined ? this.#newTrack(track.id, track.x, track.y, track.look, at, here, decisions) : this.#persons.get(personId)!;
      here.add(person);
      if (person.gone) person.gone = false;
      continuing.push({ person, x: track.x, y: track.y, hands: track.hands ?? [], trackId: track.id, ...(track.look !== undefined ? { look: track.look } : {}) });
    }
    const nearest = this.#noteContacts(continuing, at);
    continuing.forEach((c, i) => {
      this.#record(c.person, { at, x: c.x, y: c.y, hands: c.hands, ...(c.look !== undefined ? { look: c.look, clean: nearest[i]! >= LOOK_CLEAN_M } : {}) });
      this.#trackOf.set(c.person.id, c.trackId);
    });
    this.#repairSwaps(continuing, at, decisions);
    this.#enrolLooks(continuing, at);
    this.#checkLooks(at, decisions);
    this.#clearDoubts(continuing, at, decisions);
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
  #newTrack(trackId: string, x: number, y: number, look: readonly number[] | undefined, at: number, visible: ReadonlySet<Person>, decisions: TrackDecision[]): Person {
    const here = { x, y };
    const entry = this.#entries.find((e) => e.remaining > 0 && at >= e.at - 1_000 && distance(here, e.gate) <= e.gate.radiusM);
    if (entry !== undefined) {
      entry.remaining--;
      const person = this.#create(entry.sessionId, at);
      this.#trackToPerson.set(trackId, person.id);
      decisions.push({ kind: 'entered', personId: person.id, sessionId: entry.sessionId, trackId, at });
      return person;
    }
    const near: Array<{ person: Person; d: number }> = [];
    for (const person of this.#persons.values()) {
      // Vanished (or missing from this frame while not yet declared gone): a dropout may continue under a new id.
      if (visible.has(person) || person.exitedAt !== null || !(person.lastAt < at)) continue;
      const last = person.samples.at(-1);
      if (last === undefined || at - person.lastAt > this.options.stitchMs) continue;
      const d = distance(here, last);
      const reach = 0.5 + (this.options.maxSpeedMps * (at - person.lastAt)) / 1_000;
      if (d <= reach) near.push({ person, d });
    }
    near.sort((a, b) => a.d - b.d);
    // How the new track looks (when the tracker says) against each candidate's appearance: one that looks clearly more
    // like it than the nearest is taken instead, and a rival it clearly does not look like is no rival.
    const looksLike = (p: Person) => (look === undefined ? undefined : similarity(look, p));
    const nearestLooks = near[0] === undefined ? undefined : looksLike(near[0].person);
    if (nearestLooks !== undefined) {
      let k = 0;
      near.forEach((n, i) => {
        const s = looksLike(n.person);
        if (s !== undefined && s >= nearestLooks + LOOK_STITCH_MARGIN && s > (looksLike(near[k]!.person) ?? -Infinity)) k = i;
      });
      if (k > 0) near.unshift(...near.splice(k, 1));
    }
    const best = near[0]?.person;
    if (best !== undefined) {
      this.#trackToPerson.set(trackId, best.id);
      // Another visit's person vanished about as near, or came back a moment ago about as near: by position either could
      // be this one. Both are in doubt from then on, unless appearance tells them apart. (A new track right beside
      // someone in view is judged once its window has passed: #repairSwapsAtAppearance.)
      const bestLooks = looksLike(best);
      const rivals = (best.sessionId === null ? [] : this.#stitchRivals(best, near, here, at)).filter((r) => {
        const s = looksLike(r);
        return bestLooks === undefined || s === undefined || bestLooks - s < LOOK_STITCH_MARGIN;
      });
      // Whoever else could have been this track: the appearance check compares them once both are in view.
      if (look !== undefined) for (const n of near) if (n.person !== best) this.#touch(best, n.person, at);
      const last = best.samples.at(-1)!;
      best.stitch = { at, to: here, from: { x: last.x, y: last.y }, lostAt: best.lastAt };
      const doubtSince = Math.min(at, ...rivals.map((r) => (r.stitch !== undefined && at - r.stitch.at <= this.options.stitchMs ? r.stitch.at : at)));
      if (rivals.length > 0) this.markDoubt([best.id, ...rivals.map((r) => r.id)], doubtSince);
      decisions.push({ kind: 'stitched', personId: best.id, sessionId: best.sessionId, trackId, at, ...(rivals.length > 0 ? { doubtWith: rivals.map((r) => r.id), doubtSince } : {}) });
      return best;
    }
    const person = this.#create(null, at);
    this.#trackToPerson.set(trackId, person.id);
    decisions.push({ kind: 'unbound', personId: person.id, trackId, at });
    return person;
  }

  /**
   * Other visits' persons a new track at `here` could continue about as well as `best` (within
   * STITCH_DOUBT_M in summed distance): one that vanished as well, or one a new track continued
   * a moment ago — when that track and this one could have continued each other's person instead.
   */
  #stitchRivals(best: Person, near: ReadonlyArray<{ person: Person; d: number }>, here: { x: number; y: number }, at: number): Person[] {
    const o = this.options;
    const bestLast = best.samples.at(-1)!;
    const dBest = distance(here, bestLast);
    const reaches = (from: { x: number; y: number }, to: { x: number; y: number }, ms: number) => ms > 0 && distance(from, to) <= 0.5 + (o.maxSpeedMps * ms) / 1_000;
    const out = near.slice(1).filter((r) => r.d - dBest <= STITCH_DOUBT_M && r.person.sessionId !== null && r.person.sessionId !== best.sessionId).map((r) => r.person);
    for (const a of this.#persons.values()) {
      const st = a.stitch;
      if (a === best || out.includes(a) || st === undefined || at - st.at > o.stitchMs || a.sessionId === null || a.sessionId === best.sessionId) continue;
      // Swapped: a's new track continues best, this one continues a.
      if (!reaches(bestLast, st.to, st.at - best.lastAt) || !reaches(st.from, here, at - st.lostAt)) continue;
      const kept = distance(st.to, st.from) + dBest;
      const swapped = distance(st.to, bestLast) + distance(here, st.from);
      if (swapped - kept <= STITCH_DOUBT_M) out.push(a);
    }
    return out;
  }

  /**
   * The tracker swapped ids (research/checkout.md §5.4): from one frame on, each id follows
   * another person — two persons, or three at once in a crowd. One frame cannot tell that from
   * noise (σ 5 cm), so a possible swap is judged on the frames of `swapWindowMs` after it. A
   * person's path is continuous (they may stop, start or turn, but not jump), so where each
   * person's motion before the window puts them at its first frame (a line fitted to their last
   * 0.6 s; where last seen, for one back from a dropout) is compared with where each track's
   * motion in the window puts it then (a line fitted to the window, which averages the noise
   * out). Among the nearby persons whose ids strayed from their own path by half of
   * `swapMinSeparationM`, the ids are mapped back when another assignment joins the paths better
   * by `swapMarginM` than the tracker's, each pair it exchanges was at least `swapMinSeparationM`
   * apart where just seen (the mean of the last two sightings before the window: a velocity
   * extrapolated there overshoots when people stop), and no later split of the window joins them
   * better (else the swap is inside the window and is judged when the window starts there —
   * judged on the persons the swap moves only, so another swap nearby a frame later does not
   * hide this one). A track that vanished inside the window (a dropout just after the swap, or
   * out through the exit lane) is judged on the frames it had.
   * The samples the window recorded under the swapped ids move to their persons too, so a shelf
   * change read after the repair (about a second after the hand left the tray) sees each
   * person's own hands. Persons closer than that cannot be told apart by position at all; their
   * ids stay as the tracker gives them until appearance tells them apart (#checkLooks).
   */
  #repairSwaps(continuing: ReadonlyArray<{ person: Person; trackId: string }>, at: number, decisions: TrackDecision[]): void {
    const o = this.options;
    const times = this.#frameTimes;
    times.push(at);
    while (times.length > 0 && times[0]! < at - o.swapWindowMs) times.shift();
    // The window: the frames since the possible swap, which is the oldest frame within swapWindowMs.
    if (times.length < MIN_WINDOW_FRAMES) return;
    const since = times[0]!;
    const candidates: SwapCandidate[] = [];
    for (const { person, trackId } of continuing) {
      const samples = person.samples;
      const tail = samples.slice(samples.length - times.length);
      if (tail.length !== times.length || tail[0]!.at !== since) continue; // not in every frame of the window
      const before = samples.slice(Math.max(0, samples.length - times.length - PREDICT_SAMPLES), samples.length - times.length);
      const last = before.at(-1);
      if (last === undefined || since - last.at > o.stitchMs) continue;
      candidates.push({ person, trackId, before, tail, ...this.#joint(before, tail) });
    }
    // A track that vanished inside the window (a dropout, or out through the exit lane) after a few frames of it: the swap
    // may have come just before, and the person it leaves behind must not keep the other's id.
    const inFrame = new Set(continuing.map((c) => c.person));
    for (const person of this.#persons.values()) {
      // Seen in the window but not in this frame (most persons are either in view or long gone: cheap to skip).
      if (person.lastAt < since || inFrame.has(person) || person.exitedAt !== null) continue;
      const trackId = this.#trackOf.get(person.id);
      if (trackId === undefined) continue;
      const samples = person.samples;
      let k = samples.length;
      while (k > 0 && samples[k - 1]!.at >= since) k--;
      const tail = samples.slice(k);
      if (tail.length < MIN_VANISHED_FRAMES || tail.length >= times.length || tail.some((s, i) => s.at !== times[i])) continue;
      const before = samples.slice(Math.max(0, k - PREDICT_SAMPLES), k);
      const last = before.at(-1);
      if (last === undefined || since - last.at > o.stitchMs) continue;
      candidates.push({ person, trackId, before, tail, ...this.#joint(before, tail) });
    }
    // Only ids that strayed from their own person's path can have been swapped: the rest keep theirs.
    const strayed = candidates.filter((c) => distance(c.from, c.to) >= o.swapMinSeparationM / 2);
    const repaired = new Set<Person>();
    for (const near of closeGroups(strayed, o.swapCheckM)) {
      const found = this.#bestSwap(near);
      if (found === undefined || found.gain < o.swapMarginM) continue;
      // The swap is at the window's first frame, not inside it: split anywhere later, the paths join less well.
      let later = false;
      const moved = found.group.filter((_, i) => found.perm[i] !== i);
      for (let k = 1; k <= times.length - MIN_WINDOW_FRAMES && !later; k++) {
        if (moved.some((c) => c.tail.length - k < MIN_VANISHED_FRAMES)) break;
        const split = moved.map((c) => ({ ...c, ...this.#joint([...c.before, ...c.tail.slice(0, k)].slice(-PREDICT_SAMPLES), c.tail.slice(k)) }));
        later = (this.#bestSwap(split)?.gain ?? 0) > found.gain;
      }
      if (!later) {
        this.#applySwap(found.group, found.perm, since, at, decisions);
        for (const c of moved) repaired.add(c.person);
      }
    }
    this.#repairSwapsAtAppearance(continuing, candidates, since, at, times.length, repaired, decisions);
  }

  /**
   * A swap as a track appears (research/checkout.md §5.4: a swap needs two persons close): the
   * tracker handed the new id to someone already in view, right beside whom the newcomer (back
   * from a dropout, or just in) appeared, and that person's id to the newcomer. Seen as a new
   * track that starts where a person in view was heading — closer than one body — while that
   * person's own track jumps away in the same frame. The newcomer's own path says nothing (it
   * was lost, or has none), so this is judged on the person in view alone: the new track must
   * join their path better by `FRESH_SWAP_MARGIN_M` than their own track does.
   */
  #repairSwapsAtAppearance(continuing: ReadonlyArray<{ person: Person; trackId: string }>, candidates: readonly SwapCandidate[], since: number, at: number, frames: number, repaired: Set<Person>, decisions: TrackDecision[]): void {
    const o = this.options;
    for (const fresh of continuing) {
      if (this.#trackFirstAt.get(fresh.trackId) !== since || repaired.has(fresh.person)) continue;
      const samples = fresh.person.samples;
      const tail = samples.slice(samples.length - frames);
      if (tail.length !== frames || tail[0]!.at !== since) continue;
      const to = lineAt(tail, since, o.maxSpeedMps);
      let best: { other: SwapCandidate; gain: number } | undefined;
      const unsure: Person[] = [];
      for (const other of candidates) {
        if (other.person === fresh.person || repaired.has(other.person) || other.tail.length !== frames || since - other.before.at(-1)!.at > RECENT_MS) continue;
        const near = distance(other.from, to);
        if (near >= ONE_BODY_M) continue;
        // Appearance (when the tracker sends it): does the person in view still look like themselves, or does the new track?
        // It settles what position leaves in doubt; a swap a frame later is the window's (#repairSwaps).
        const looks = lookVerdict(other.person, other.tail, tail);
        if (looks < 0) continue;
        const jump = distance(other.from, other.to);
        const gain = looks > 0 && jump - near >= 0 && jump >= FRESH_DOUBT_JUMP_M ? Math.max(FRESH_SWAP_MARGIN_M, jump - near) : jump - near;
        if (gain >= FRESH_SWAP_MARGIN_M) {
          if (best === undefined || gain > best.gain) best = { other, gain };
        } else if (gain >= 0 && distance(other.from, other.to) >= FRESH_DOUBT_JUMP_M && other.person.sessionId !== null && fresh.person.sessionId !== null && other.person.sessionId !== fresh.person.sessionId) {
          unsure.push(other.person);
        }
      }
      if (best === undefined) {
        // Their own track jumped (more than noise) and the new one joins their path at least as well, but not clearly
        // better: which of the two is which position cannot tell, so both are in doubt from the new track's first frame.
        if (unsure.length > 0) {
          const personIds = [fresh.person.id, ...unsure.map((p) => p.id)];
          this.markDoubt(personIds, since);
          decisions.push({ kind: 'doubted', personIds, since, at });
        }
        continue;
      }
      const before = samples.slice(Math.max(0, samples.length - frames - PREDICT_SAMPLES), samples.length - frames);
      const newcomer: SwapCandidate = { person: fresh.person, trackId: fresh.trackId, before, tail, from: to, to };
      this.#applySwap([best.other, newcomer], [1, 0], since, at, decisions);
      repaired.add(best.other.person).add(fresh.person);
    }
  }

  /** Notes the persons of this frame that are close to each other (contacts); returns each one's distance to the nearest other. */
  #noteContacts(inFrame: ReadonlyArray<{ person: Person; x: number; y: number; look?: readonly number[] }>, at: number): number[] {
    const nearest = inFrame.map(() => Number.POSITIVE_INFINITY);
    for (let i = 0; i < inFrame.length; i++) {
      for (let j = i + 1; j < inFrame.length; j++) {
        const [a, b] = [inFrame[i]!, inFrame[j]!];
        const d = distance(a, b);
        if (d < nearest[i]!) nearest[i] = d;
        if (d < nearest[j]!) nearest[j] = d;
        if (d < this.options.swapCheckM && a.look !== undefined && b.look !== undefined) this.#touch(a.person, b.person, at);
      }
    }
    for (const [key, c] of this.#contacts) if (at - c.lastAt > LOOK_CONTACT_KEEP_MS) this.#contacts.delete(key);
    return nearest;
  }

  /** a and b were close (or rivals for one new track) at `at`: a contact, or the one they are in goes on. */
  #touch(a: Person, b: Person, at: number): void {
    if (a === b) return;
    const key = a.id < b.id ? `${a.id}|${b.id}` : `${b.id}|${a.id}`;
    const c = this.#contacts.get(key);
    if (c !== undefined) c.lastAt = at;
    else this.#contacts.set(key, { a, b, since: at, lastAt: at, checkedAt: Number.NEGATIVE_INFINITY });
  }

  /**
   * Learns how each person in view looks: their clean descriptors once the swap window has passed
   * over them (a repair may still move the window's samples), the first LOOK_MATURE as they come,
   * then only those that agree with what was learnt (a swap the book missed does not teach it the
   * other person).
   */
  #enrolLooks(inFrame: ReadonlyArray<{ person: Person }>, at: number): void {
    const settled = at - this.options.swapWindowMs;
    for (const { person } of inFrame) {
      const samples = person.samples;
      const model = (person.look ??= { sum: [], n: 0, upTo: Number.NEGATIVE_INFINITY, cleanAt: Number.NEGATIVE_INFINITY });
      let k = samples.length;
      while (k > 0 && samples[k - 1]!.at > model.upTo) k--;
      for (; k < samples.length && samples[k]!.at <= settled; k++) {
        const sample = samples[k]!;
        model.upTo = sample.at;
        const look = sample.look;
        if (!sample.clean || look === undefined) continue;
        model.cleanAt = sample.at;
        if (model.n >= LOOK_ENROL_MAX) continue;
        if (model.n === 0) model.sum = look.map(() => 0);
        if (model.sum.length !== look.length || (model.n >= LOOK_MATURE && cosine(look, model.sum) < LOOK_AGREE)) continue;
        for (let i = 0; i < look.length; i++) model.sum[i]! += look[i]!;
        model.n++;
      }
    }
  }

  /**
   * Re-identification: two persons of different visits who were close lately, both in view and
   * both with a learnt appearance. When, since some moment of their contact, each one's track
   * looks like the other person (the mean cosine gain summed over the two at least
   * LOOK_SWAP_MARGIN, each on LOOK_MIN_EVIDENCE clean frames at least; one of them may look like
   * neither, LOOK_CYCLE_SLACK: a rotation of three is undone in two steps), the tracker swapped them (or the book mapped
   * them wrong: a stitch, a repair) and they are swapped back from the frame between the last
   * clean look of the right person and the first of the wrong one where the two were closest.
   * Position cannot tell persons apart who stood together; this catches what it left.
   */
  #checkLooks(at: number, decisions: TrackDecision[]): void {
    for (const c of this.#contacts.values()) {
      if (at - c.checkedAt < LOOK_CHECK_EVERY_MS) continue;
      const { a, b } = c;
      if (Math.max(a.look?.cleanAt ?? Number.NEGATIVE_INFINITY, b.look?.cleanAt ?? Number.NEGATIVE_INFINITY) <= c.checkedAt) continue;
      if (a.gone || b.gone || a.exitedAt !== null || b.exitedAt !== null || (a.sessionId !== null && a.sessionId === b.sessionId)) continue;
      const ma = lookModel(a);
      const mb = lookModel(b);
      if (ma === undefined || mb === undefined) continue;
      c.checkedAt = at;
      const from = Math.max(c.since, at - LOOK_EVIDENCE_MS);
      const evidence = [...lookEvidence(a, from, ma, mb, 0), ...lookEvidence(b, from, mb, ma, 1)].sort((x, y) => x.at - y.at);
      // The moment since which the tracks look most like each other's persons: the suffix with the largest gain.
      const sum = [0, 0];
      const n = [0, 0];
      let best: { k: number; total: number } | undefined;
      for (let k = evidence.length - 1; k >= 0; k--) {
        const e = evidence[k]!;
        sum[e.who]! += e.gain;
        n[e.who]!++;
        if (n[0]! < LOOK_MIN_EVIDENCE || n[1]! < LOOK_MIN_EVIDENCE) continue;
        const [m0, m1] = [sum[0]! / n[0]!, sum[1]! / n[1]!];
        if (m0 + m1 >= LOOK_SWAP_MARGIN && Math.min(m0, m1) >= -LOOK_CYCLE_SLACK && (best === undefined || sum[0]! + sum[1]! > best.total)) best = { k, total: sum[0]! + sum[1]! };
      }
      if (best === undefined) continue;
      const firstWrong = evidence[best.k]!.at;
      const lastRight = best.k > 0 ? evidence[best.k - 1]!.at : c.since;
      const since = closestApproach(a, b, lastRight, firstWrong) ?? firstWrong;
      this.#swapSince(a, b, since, at, decisions);
    }
  }

  /**
   * A person in doubt whose appearance was learnt before the doubt began, seen clear of others on
   * LOOK_MIN_EVIDENCE × 2 frames since, that look like them more than like any person of the
   * visits they may be mixed up with (mean cosine, by LOOK_STITCH_MARGIN): they are themselves.
   */
  #clearDoubts(inFrame: ReadonlyArray<{ person: Person }>, at: number, decisions: TrackDecision[]): void {
    const cleared: string[] = [];
    for (const { person } of inFrame) {
      const doubt = person.doubt;
      const own = lookModel(person);
      if (doubt === undefined || doubt.until !== undefined || doubt.lookN < LOOK_MATURE || own === undefined) continue;
      if (at - (this.#doubtCheckedAt.get(person.id) ?? Number.NEGATIVE_INFINITY) < LOOK_CHECK_EVERY_MS) continue;
      this.#doubtCheckedAt.set(person.id, at);
      const rivals = this.persons().flatMap((p) => (p !== person && p.sessionId !== null && doubt.sessions.includes(p.sessionId) ? [lookModel(p)] : []));
      if (rivals.length === 0 || rivals.some((m) => m === undefined || m.length !== own.length)) continue;
      const looks = person.samples.slice(firstAtOrAfter(person.samples, doubt.since)).flatMap((s) => (s.clean && s.look !== undefined && s.look.length === own.length ? [s.look] : []));
      if (looks.length < 2 * LOOK_MIN_EVIDENCE) continue;
      const like = (m: readonly number[]) => looks.reduce((sum, l) => sum + cosine(l, m), 0) / looks.length;
      const self = like(own);
      if (rivals.every((m) => self - like(m!) >= LOOK_STITCH_MARGIN)) cleared.push(person.id);
    }
    if (cleared.length === 0) return;
    this.clearDoubt(cleared, at);
    decisions.push({ kind: 'cleared', personIds: cleared, at });
  }

  /** Person a takes b's samples from `since` on (and b's track), b takes a's. */
  #swapSince(a: Person, b: Person, since: number, at: number, decisions: TrackDecision[]): void {
    const trackA = this.#trackOf.get(a.id);
    const trackB = this.#trackOf.get(b.id);
    if (trackA === undefined || trackB === undefined) return;
    const tailA = a.samples.splice(firstAtOrAfter(a.samples, since));
    const tailB = b.samples.splice(firstAtOrAfter(b.samples, since));
    a.samples.push(...tailB);
    b.samples.push(...tailA);
    a.lastAt = a.samples.at(-1)?.at ?? a.lastAt;
    b.lastAt = b.samples.at(-1)?.at ?? b.lastAt;
    this.#trackToPerson.set(trackA, b.id);
    this.#trackToPerson.set(trackB, a.id);
    this.#trackOf.set(a.id, trackB);
    this.#trackOf.set(b.id, trackA);
    decisions.push({ kind: 'swapped', trackIds: [trackA, trackB], personIds: [a.id, b.id], since, at });
  }

  /** Where a person's path before a split puts them at the split, and where a track's path after it puts it then. */
  #joint(before: readonly PersonSample[], after: readonly PersonSample[]): { from: { x: number; y: number }; to: { x: number; y: number } } {
    const o = this.options;
    const splitAt = after[0]!.at;
    const last = before.at(-1)!;
    // Seen just before: moving on as they were; back from a dropout: where last seen.
    const from = splitAt - last.at <= RECENT_MS ? lineAt(before, splitAt, o.maxSpeedMps) : { x: last.x, y: last.y };
    return { from, to: lineAt(after, splitAt, o.maxSpeedMps) };
  }

  /**
   * Among nearby persons, the ids that strayed from their own person's path (by half of
   * `swapMinSeparationM`) reassigned to join the paths best: the assignment and how much better
   * it joins them than the tracker's (metres, summed over the persons).
   */
  #bestSwap(near: readonly SwapCandidate[]): { group: SwapCandidate[]; perm: number[]; gain: number } | undefined {
    const group = near.filter((c) => distance(c.from, c.to) >= this.options.swapMinSeparationM / 2);
    if (group.length < 2) return undefined;
    // cost[i][j]: the gap at the split between person i's path before it and person j's track after it.
    // Back from a dropout, a person was last seen a while ago and may have walked on since: their gaps count only beyond
    // that walk (else a stale last sighting "joins" someone else's track better than their own).
    const slack = group.map((a) => {
      const gapMs = a.tail[0]!.at - a.before.at(-1)!.at;
      return gapMs <= RECENT_MS ? 0 : (gapMs / 1_000) * STALE_WALK_MPS;
    });
    const cost = group.map((a, i) => group.map((b) => Math.max(0, distance(a.from, b.to) - slack[i]!)));
    const kept = group.reduce((sum, _, i) => sum + cost[i]![i]!, 0);
    let best: { group: SwapCandidate[]; perm: number[]; gain: number } | undefined;
    for (const perm of permutations(group.length)) {
      if (perm.every((j, i) => j === i)) continue;
      // Persons seen closer than swapMinSeparationM cannot be told apart by position: their ids stay.
      if (perm.some((j, i) => j !== i && distance(justSeen(group[i]!.before), justSeen(group[j]!.before)) < this.options.swapMinSeparationM)) continue;
      const gain = kept - perm.reduce((sum, j, i) => sum + cost[i]![j]!, 0);
      if (best === undefined || gain > best.gain) best = { group, perm, gain };
    }
    return best;
  }

  /** Person i takes the window's samples (and the track) of person perm[i]; recorded as pairwise swaps. */
  #applySwap(group: readonly SwapCandidate[], perm: readonly number[], since: number, at: number, decisions: TrackDecision[]): void {
    group.forEach((c, i) => {
      const takes = group[perm[i]!]!;
      c.person.samples.splice(c.person.samples.length - c.tail.length, c.tail.length, ...takes.tail);
      c.person.lastAt = takes.tail.at(-1)!.at;
      this.#trackToPerson.set(takes.trackId, c.person.id);
      this.#trackOf.set(c.person.id, takes.trackId);
    });
    // Decomposed into swaps of two: `track[k]` is the track person k holds as the tracks change hands.
    const track = group.map((c) => c.trackId);
    for (let i = 0; i < group.length; i++) {
      const j = track.indexOf(group[perm[i]!]!.trackId);
      if (j === i) continue;
      decisions.push({ kind: 'swapped', trackIds: [track[i]!, track[j]!], personIds: [group[i]!.person.id, group[j]!.person.id], since, at });
      [track[i], track[j]] = [track[j]!, track[i]!];
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
        this.#trackOf.delete(id);
        this.#doubtCheckedAt.delete(id);
        for (const [trackId, personId] of this.#trackToPerson) if (personId === id) this.#trackToPerson.delete(trackId);
      }
    }
  }
}

/** A new track is a doubtful continuation when another visit's vanished person was at most this much farther from it than the one it continues. */
const STITCH_DOUBT_M = 1;
/**
 * Two persons' centres closer than this overlap (a body is about 0.4 m across): a new track that
 * close to where a person in view was heading may have taken that person's id (a swap as the track
 * appeared).
 */
const ONE_BODY_M = 0.3;
/** Samples before a possible swap that predict a person's motion (0.6 s at 10 fps). */
const PREDICT_SAMPLES = 6;
/** A person seen this recently before the window is moving as before; seen longer ago (a dropout), they are only where they were last seen. */
const RECENT_MS = 300;
/** A track's path after a split is a line through at least this many frames. */
const MIN_WINDOW_FRAMES = 3;
/** Someone back from a dropout may have walked on at up to this speed since last seen (the simulated shoppers walk 0.8–1.3 m/s). */
const STALE_WALK_MPS = 1.3;
/** A track that vanished inside the window is judged on this many frames of it at least. */
const MIN_VANISHED_FRAMES = 1;
/** A new track beside someone in view takes their place when it joins their path better by this much than their own track. */
const FRESH_SWAP_MARGIN_M = 0.1;
/**
 * …and the two are in doubt when it joins their path at least as well as their own track, which
 * jumped by this much (σ 5 cm noise strays less; at 0.08 m four-within-1m seed 2 had three
 * visits reviewed for nothing).
 */
const FRESH_DOUBT_JUMP_M = 0.1;

/** A descriptor is clean when no other track is this near (a closer neighbour shows in it). */
const LOOK_CLEAN_M = 0.5;
/** A person's appearance is used once learnt from this many clean descriptors… */
const LOOK_MATURE = 10;
/** …and learnt from at most this many (10 s of clean view). */
const LOOK_ENROL_MAX = 100;
/** Once learnt, a descriptor teaches it only if it agrees this well (cosine). */
const LOOK_AGREE = 0.5;
/**
 * A contact (from the first time two were close) is kept this long after they were last close, for
 * the check: people who stood in a crowd may be seen clear of others only well after they parted.
 */
const LOOK_CONTACT_KEEP_MS = 60_000;
/** The appearance check reads clean frames of the last LOOK_EVIDENCE_MS of a contact, every LOOK_CHECK_EVERY_MS (when either has a new one). */
const LOOK_EVIDENCE_MS = 60_000;
const LOOK_CHECK_EVERY_MS = 500;
/** Two persons are swapped back when since some moment each has this many clean frames… */
const LOOK_MIN_EVIDENCE = 5;
/**
 * …looking more like the other person by this much (the sum over the two of the mean cosine gain).
 * With the simulated tracker's defaults a true swap of two persons of different looks gains about
 * 1.5, of two of one style about 0.3; no swap loses as much.
 */
const LOOK_SWAP_MARGIN = 0.6;
/**
 * One of the two may look like neither (a rotation of three: a has b's body, b has c's): a's track
 * looking like b by the whole margin swaps them as long as b's does not look like b (mean gain
 * above −LOOK_CYCLE_SLACK); b then holds c's body and c b's, which the next check swaps back.
 */
const LOOK_CYCLE_SLACK = 0.2;
/** One descriptor (a new track's first) names a candidate when it is this much more like them (cosine) than like another. */
const LOOK_STITCH_MARGIN = 0.4;

interface Contact {
  a: Person;
  b: Person;
  /** When the two were first and last close (within LOOK_CONTACT_KEEP_MS of each other), and the last check. */
  since: number;
  lastAt: number;
  checkedAt: number;
}

/** A person's learnt appearance (the sum of their descriptors: cosine needs no mean), once mature. */
function lookModel(person: Person): number[] | undefined {
  const model = person.look;
  return model !== undefined && model.n >= LOOK_MATURE ? model.sum : undefined;
}

/** How much a descriptor looks like a person (cosine), if their appearance is learnt. */
function similarity(look: readonly number[], person: Person): number | undefined {
  const model = lookModel(person);
  return model === undefined || model.length !== look.length ? undefined : cosine(look, model);
}

function cosine(a: readonly number[], b: readonly number[]): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : 0;
}

/** A person's clean descriptors since `from`: how much more each looks like `other` than like `own` (cosine). */
function lookEvidence(person: Person, from: number, own: readonly number[], other: readonly number[], who: 0 | 1): Array<{ at: number; gain: number; who: 0 | 1 }> {
  const out: Array<{ at: number; gain: number; who: 0 | 1 }> = [];
  const samples = person.samples;
  for (let k = firstAtOrAfter(samples, from); k < samples.length; k++) {
    const s = samples[k]!;
    if (s.clean && s.look !== undefined && s.look.length === own.length) out.push({ at: s.at, gain: cosine(s.look, other) - cosine(s.look, own), who });
  }
  return out;
}

/**
 * A new track beside a person in view: +1 when the new track's descriptors look more like that
 * person than their own track's do (by LOOK_STITCH_MARGIN, mean cosine), −1 the other way round,
 * 0 when appearance cannot say (no descriptors, nothing learnt, or too close to call).
 */
function lookVerdict(person: Person, own: readonly PersonSample[], fresh: readonly PersonSample[]): number {
  const mean = (samples: readonly PersonSample[]): number | undefined => {
    let sum = 0;
    let n = 0;
    for (const x of samples) {
      const s = x.look === undefined ? undefined : similarity(x.look, person);
      if (s === undefined) return undefined;
      sum += s;
      n++;
    }
    return n === 0 ? undefined : sum / n;
  };
  const kept = mean(own);
  const swapped = mean(fresh);
  if (kept === undefined || swapped === undefined) return 0;
  return swapped - kept >= LOOK_STITCH_MARGIN ? 1 : kept - swapped >= LOOK_STITCH_MARGIN ? -1 : 0;
}

/** The frame in [from, to] at which two persons' samples were closest (undefined when they share none). */
function closestApproach(a: Person, b: Person, from: number, to: number): number | undefined {
  let best: { at: number; d: number } | undefined;
  let j = firstAtOrAfter(b.samples, from);
  for (let k = firstAtOrAfter(a.samples, from); k < a.samples.length && a.samples[k]!.at <= to; k++) {
    const sa = a.samples[k]!;
    while (j < b.samples.length && b.samples[j]!.at < sa.at) j++;
    const sb = b.samples[j];
    if (sb === undefined || sb.at !== sa.at) continue;
    const d = distance(sa, sb);
    if (best === undefined || d < best.d) best = { at: sa.at, d };
  }
  return best?.at;
}

/** The index of the first sample at or after `t` (samples are in time order: by bisection). */
export function firstAtOrAfter(samples: readonly PersonSample[], t: number): number {
  let lo = 0;
  let hi = samples.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (samples[mid]!.at < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

interface SwapCandidate {
  person: Person;
  trackId: string;
  /** The person's samples before the window (up to PREDICT_SAMPLES) and in it (one per frame). */
  before: PersonSample[];
  tail: PersonSample[];
  /** Where the person's path before the window puts them at its first frame. */
  from: { x: number; y: number };
  /** Where the track's path in the window puts it at its first frame. */
  to: { x: number; y: number };
}

/** A least-squares line through the samples (speed capped at `maxSpeedMps`), evaluated at `t`. */
function lineAt(samples: readonly PersonSample[], t: number, maxSpeedMps: number): { x: number; y: number } {
  const n = samples.length;
  const mt = mean(samples.map((s) => s.at));
  const mx = mean(samples.map((s) => s.x));
  const my = mean(samples.map((s) => s.y));
  let stt = 0;
  let stx = 0;
  let sty = 0;
  for (const s of samples) {
    stt += (s.at - mt) ** 2;
    stx += (s.at - mt) * (s.x - mx);
    sty += (s.at - mt) * (s.y - my);
  }
  let [vx, vy] = n < 3 || stt <= 0 ? [0, 0] : [stx / stt, sty / stt];
  const speed = Math.hypot(vx, vy) * 1_000;
  if (speed > maxSpeedMps) [vx, vy] = [(vx * maxSpeedMps) / speed, (vy * maxSpeedMps) / speed];
  return { x: mx + vx * (t - mt), y: my + vy * (t - mt) };
}

/** Where a person was just seen: the mean of their last two sightings (the last alone after a gap). */
function justSeen(before: readonly PersonSample[]): { x: number; y: number } {
  const last = before.at(-1)!;
  const prev = before.at(-2);
  return prev === undefined || last.at - prev.at > RECENT_MS ? last : { x: (last.x + prev.x) / 2, y: (last.y + prev.y) / 2 };
}

function mean(xs: readonly number[]): number {
  return xs.reduce((s, x) => s + x, 0) / xs.length;
}

/**
 * Candidates that could have swapped ids — one person's path and another's track (or the two
 * persons' paths) within `checkM` of each other at the window's start — as groups of two to five
 * (a larger crowd: the five whose ids strayed most — a swapped pair strays by their distance
 * apart, noise by a few centimetres).
 */
function closeGroups(candidates: readonly SwapCandidate[], checkM: number): SwapCandidate[][] {
  const group = candidates.map((_, i) => i);
  const root = (i: number): number => (group[i] === i ? i : (group[i] = root(group[i]!)));
  for (let i = 0; i < candidates.length; i++) {
    for (let j = i + 1; j < candidates.length; j++) {
      const [a, b] = [candidates[i]!, candidates[j]!];
      if (Math.min(distance(a.from, b.from), distance(a.from, b.to), distance(b.from, a.to)) <= checkM) group[root(i)] = root(j);
    }
  }
  const out = new Map<number, number[]>();
  candidates.forEach((_, i) => out.set(root(i), [...(out.get(root(i)) ?? []), i]));
  return [...out.values()]
    .filter((members) => members.length >= 2)
    .map((members) => {
      if (members.length <= MAX_SWAP_GROUP) return members.map((i) => candidates[i]!);
      const strayed = (i: number) => distance(candidates[i]!.from, candidates[i]!.to);
      return members
        .sort((a, b) => strayed(b) - strayed(a))
        .slice(0, MAX_SWAP_GROUP)
        .map((i) => candidates[i]!);
    });
}

/** Persons judged together for one swap (5! = 120 assignments). */
const MAX_SWAP_GROUP = 5;

/** Every ordering of 0..n-1. */
function permutations(n: number): number[][] {
  if (n <= 1) return [[0]];
  const out: number[][] = [];
  for (const rest of permutations(n - 1)) for (let k = 0; k <= rest.length; k++) out.push([...rest.slice(0, k), n - 1, ...rest.slice(k)]);
  return out;
}

export function distance(a: { x: number; y: number }, b: { x: number; y: number }): number {
  return Math.hypot(a.x - b.x, a.y - b.y);
}
