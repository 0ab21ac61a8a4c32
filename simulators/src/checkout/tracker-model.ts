import type { TracksPayload } from '@storeedge/device-drivers';
import type { Rng } from '../random.ts';
import type { CheckoutTrackerOptions } from './checkout-options.ts';
import { distance, type Point } from './floor-plan.ts';
import type { PersonMotion } from './motion.ts';

/** Which person a track of a frame really is (simulator-internal; tests measure the noise with it). */
export interface TrackTruth {
  personId: string;
  trackId: string;
  x: number;
  y: number;
}

export interface TrackerFrame {
  /** Simulated ms. */
  t: number;
  tracks: TracksPayload['tracks'];
  truth: TrackTruth[];
}

export interface TrackerStats {
  /** Track ids handed out (first appearances and returns after a dropout). */
  tracks: number;
  /** Track losses drawn (each hides a person for a while; they return under a new id). */
  dropouts: number;
  /** Times two visible persons came closer than swapDistanceM, and how many of those swapped ids. */
  encounters: number;
  swaps: number;
  /** Hands reported and hands left out of frames. */
  handsSeen: number;
  handsDropped: number;
}

/** Two persons stop being a close encounter only once they are this much further apart (no flicker at the threshold). */
const ENCOUNTER_HYSTERESIS_M = 0.1;

interface PersonTrack {
  motion: PersonMotion;
  index: number;
  trackId: string | undefined;
  /** Hidden intervals [start, end), drawn when the person first appears. */
  dropouts: Array<[number, number]>;
  /** Dropouts begun when the current id was given; one more means the person was lost and comes back new. */
  dropoutsSeen: number;
}

/**
 * The overhead tracker (research/checkout.md §5.4): a frame every 1/fps s with each visible
 * person's torso and hands plus Gaussian noise, hands missing from frames now and then, tracks
 * lost for a while (the person comes back under a new id) and, when two persons come close,
 * their ids swapped. Track ids are `trk-<n>` and know nothing of tokens or persons.
 */
export class TrackerModel {
  readonly stats: TrackerStats = { tracks: 0, dropouts: 0, encounters: 0, swaps: 0, handsSeen: 0, handsDropped: 0 };
  readonly #o: CheckoutTrackerOptions;
  readonly #persons: PersonMotion[];
  readonly #rng: Rng;
  readonly #noise: Rng;
  readonly #swapRng: Rng;
  readonly #handRng: Rng;
  /** Appearance: the looks persons wear, each person's own look, and the per-frame noise. */
  readonly #lookRng: Rng;
  readonly #styles: number[][] = [];
  readonly #looks = new Map<string, number[]>();
  readonly #drift = new Map<string, { at: number; v: number[] }>();
  #pending = 0;
  #present: PersonTrack[] = [];
  #close = new Set<string>();
  #nextTrack = 1;
  #lastT = -Infinity;

  constructor(persons: readonly PersonMotion[], options: CheckoutTrackerOptions, rng: Rng) {
    this.#o = options;
    this.#persons = [...persons].sort((a, b) => a.appearAt - b.appearAt);
    this.#rng = rng;
    this.#noise = rng.fork('noise');
    this.#swapRng = rng.fork('swaps');
    this.#handRng = rng.fork('hands');
    this.#lookRng = rng.fork('looks');
    const styleRng = rng.fork('looks/styles');
    for (let k = 0; k < options.look.styles && options.look.dims > 0; k++) this.#styles.push(unitVector(styleRng, options.look.dims));
  }

  /** A person's own look (drawn once per person, from a stream of its own: the other draws do not shift). */
  lookOf(personId: string): readonly number[] {
    let look = this.#looks.get(personId);
    if (look === undefined) {
      const { dims, personal } = this.#o.look;
      const r = this.#rng.fork(`looks/${personId}`);
      const style = r.pick(this.#styles);
      const own = unitVector(r, dims);
      look = normalise(style.map((v, i) => v + personal * own[i]!));
      this.#looks.set(personId, look);
    }
    return look;
  }

  /** What the tracker's re-identification sees of the person at `torso` this frame: their look, part of a close neighbour's, and noise. */
  #describe(person: PersonMotion, t: number, torso: Point, visible: ReadonlyArray<{ track: PersonTrack; torso: Point }>): number[] {
    const { dims, noise, drift, driftMs, occlusionM } = this.#o.look;
    const sd = noise / Math.sqrt(dims);
    // The drift: an AR(1) walk per person, stationary at norm about `drift`.
    const driftSd = drift / Math.sqrt(dims);
    const was = this.#drift.get(person.id);
    const a = was === undefined ? 0 : Math.exp(-(t - was.at) / driftMs);
    const v = Array.from({ length: dims }, (_, i) => a * (was?.v[i] ?? 0) + Math.sqrt(1 - a * a) * this.#lookRng.normal(0, driftSd));
    this.#drift.set(person.id, { at: t, v });
    let look = this.lookOf(person.id).map((x, i) => x + v[i]!);
    let nearest: { motion: PersonMotion; d: number } | undefined;
    for (const other of visible) {
      if (other.track.motion === person) continue;
      const d = distance(torso, other.torso);
      if (d < occlusionM && (nearest === undefined || d < nearest.d)) nearest = { motion: other.track.motion, d };
    }
    if (nearest !== undefined) {
      const w = 0.5 * (1 - nearest.d / occlusionM) * this.#lookRng.next();
      const theirs = this.lookOf(nearest.motion.id);
      look = look.map((v, i) => (1 - w) * v + w * theirs[i]!);
    }
    return normalise(look.map((v) => v + this.#lookRng.normal(0, sd))).map((v) => Math.round(v * 1_000) / 1_000);
  }

  /** The frame at simulated time t (call with increasing t). */
  frame(t: number): TrackerFrame {
    if (t < this.#lastT) throw new Error(`tracker model: frame(${t}) is before the last frame (${this.#lastT})`);
    this.#lastT = t;
    while (this.#pending < this.#persons.length && this.#persons[this.#pending]!.appearAt <= t) {
      const motion = this.#persons[this.#pending]!;
      this.#present.push({ motion, index: this.#pending++, trackId: undefined, dropouts: this.#drawDropouts(motion), dropoutsSeen: 0 });
    }
    this.#present = this.#present.filter((p) => p.motion.goneAt > t);

    const visible: Array<{ track: PersonTrack; torso: Point }> = [];
    for (const track of this.#present) {
      let begun = 0;
      let hidden = false;
      for (const [from, to] of track.dropouts) {
        if (from > t) break;
        begun++;
        if (t < to) hidden = true;
      }
      if (hidden) continue;
      if (track.trackId === undefined || begun !== track.dropoutsSeen) {
        track.trackId = `trk-${this.#nextTrack++}`;
        track.dropoutsSeen = begun;
        this.stats.tracks++;
      }
      visible.push({ track, torso: track.motion.torsoAt(t) });
    }
    this.#swapCloseOnes(visible);

    const { positionSigmaM, handSigmaM, handDropout } = this.#o;
    const tracks: TracksPayload['tracks'] = [];
    const truth: TrackTruth[] = [];
    for (const { track, torso } of visible) {
      const hands: Array<{ x: number; y: number; z: number }> = [];
      for (const hand of track.motion.handsAt(t)) {
        if (this.#handRng.chance(handDropout)) {
          this.stats.handsDropped++;
          continue;
        }
        this.stats.handsSeen++;
        hands.push({ x: mm(this.#noise.normal(hand.x, handSigmaM)), y: mm(this.#noise.normal(hand.y, handSigmaM)), z: mm(this.#noise.normal(hand.z, handSigmaM)) });
      }
      const id = track.trackId!;
      const look = this.#o.look.dims > 0 ? { look: this.#describe(track.motion, t, torso, visible) } : {};
      tracks.push({ id, x: mm(this.#noise.normal(torso.x, positionSigmaM)), y: mm(this.#noise.normal(torso.y, positionSigmaM)), hands, ...look });
      truth.push({ personId: track.motion.id, trackId: id, x: torso.x, y: torso.y });
    }
    const order = (id: string) => Number(id.slice(4));
    tracks.sort((a, b) => order(a.id) - order(b.id));
    return { t, tracks, truth };
  }

  /** Each pair that comes within swapDistanceM is one encounter; with swapProbability the two ids swap. */
  #swapCloseOnes(visible: ReadonlyArray<{ track: PersonTrack; torso: Point }>): void {
    const { swapDistanceM, swapProbability } = this.#o;
    const close = new Set<string>();
    for (let i = 0; i < visible.length; i++) {
      for (let j = i + 1; j < visible.length; j++) {
        const a = visible[i]!;
        const b = visible[j]!;
        const d = distance(a.torso, b.torso);
        if (d > swapDistanceM + ENCOUNTER_HYSTERESIS_M) continue;
        const key = a.track.index < b.track.index ? `${a.track.index}|${b.track.index}` : `${b.track.index}|${a.track.index}`;
        const was = this.#close.has(key);
        if (was || d < swapDistanceM) close.add(key);
        if (was || d >= swapDistanceM) continue;
        this.stats.encounters++;
        if (this.#swapRng.chance(swapProbability)) {
          [a.track.trackId, b.track.trackId] = [b.track.trackId, a.track.trackId];
          this.stats.swaps++;
        }
      }
    }
    this.#close = close;
  }

  /** Poisson track losses over the person's stay, each hiding them for trackDropoutMs. */
  #drawDropouts(motion: PersonMotion): Array<[number, number]> {
    const { trackDropoutPerMin, trackDropoutMs } = this.#o;
    const out: Array<[number, number]> = [];
    if (trackDropoutPerMin <= 0) return out;
    const rng = this.#rng.fork(`dropouts/${motion.id}`);
    for (let t = motion.appearAt; ; ) {
      t += rng.exponential(60_000 / trackDropoutPerMin);
      if (t >= motion.goneAt) break;
      const length = rng.uniform(trackDropoutMs[0], trackDropoutMs[1]);
      out.push([t, t + length]);
      this.stats.dropouts++;
      t += length;
    }
    return out;
  }
}

function unitVector(rng: Rng, dims: number): number[] {
  return normalise(Array.from({ length: dims }, () => rng.normal()));
}

function normalise(v: readonly number[]): number[] {
  const norm = Math.hypot(...v) || 1;
  return v.map((x) => x / norm);
}

function mm(metres: number): number {
  return Math.round(metres * 1_000) / 1_000;
}
