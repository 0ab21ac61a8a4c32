import { trayPlacements, type StoreModel, type WeightPayload } from '@storeedge/device-drivers';
import type { ShelfChange } from '../../events.ts';
import { returnedToLevel } from './burst-rejection.ts';
import { concurrentHosts, dominantNeighbours, drivingNeighbours, neighbourChanged, neighbourSettledBy, shareRange, splitShare, sum, type Host } from './cross-talk.ts';
import { resolveWeightPipelineOptions, type WeightPipelineOptions, type WeightPipelineOptionsInput } from './options.ts';
import { explainDelta, type QuantityEstimate, type SkuWeight } from './quantity.ts';
import { endsPressed, fromSegment, mergeInto, pendingDelta, pendingSigma, TraySegmenter, type PendingChange } from './segmenter.ts';
import type { SettledSegment, SettleState } from './settle-detector.ts';

/** Samples naming a controller or channel the store model does not have (docs/errors.md: dropped, no stock change). */
export interface WeightReject {
  code: 'DRV_ERR_UNKNOWN_CHANNEL';
  deviceId: string;
  channels: number[];
  at: number;
  message: string;
}

export interface WeightPipelineInit {
  /** The store model: trays (controller + channel), their facings' SKUs and the catalog's unit weights. */
  model: StoreModel;
  options?: WeightPipelineOptionsInput;
  /** Called once per payload that names unknown channels (they are also counted). Default: nothing. */
  onReject?: (reject: WeightReject) => void;
  /**
   * Units staff declared they are putting on a tray and that have not arrived yet, per SKU (the
   * inventory's pending restocks). A positive change no SKU explains within maxUnits may be
   * that many units of a declared SKU. Default: none.
   */
  declaredRestocks?: (trayId: string) => ReadonlyMap<string, number>;
  /**
   * Units of other SKUs known to lie on a tray (put there by mistake: the agent passes what its
   * inventory and its checkout know), per SKU. A negative change no SKU of the tray explains may be some of them taken
   * away — decided like a pick, not held as unexplained (a dynamic planogram). Default: none.
   */
  misplacedUnits?: (trayId: string) => ReadonlyMap<string, number>;
}

export interface WeightPipelineCounters {
  /** Tray samples processed. */
  samples: number;
  /** shelf.change events emitted, and how many of them were misplaced. */
  changes: number;
  misplaced: number;
  /** Transients that settled back at their level with no neighbour change: vibration, EMI, a touch. */
  suppressedBursts: number;
  /** Changes that were cross-talk of a neighbour's change (transient or a permanent share). */
  suppressedCrossTalk: number;
  /** …of which the share was added to the neighbour's Δ. */
  attributedCrossTalk: number;
  /** Segments merged into a held change (a quiet plateau inside one handling). */
  merged: number;
  /** Segments a neighbour's handling drove while an unexplained change was held: kept out of its Δ. */
  neighbourShifts: number;
  /** Samples not newer than the tray's last one (redeliveries, clock steps): dropped. */
  outOfOrder: number;
  /** Samples rejected, by code. */
  rejects: { DRV_ERR_UNKNOWN_CHANNEL: number };
}

export interface TrayWeightStatus {
  trayId: string;
  deviceId: string;
  channel: number;
  state: SettleState;
  /** Tracked settled level (tare included; not a stock figure — absolute weight is not trusted). */
  levelG: number;
  noiseSigmaG: number;
  sampleRateHz: number | undefined;
  driftAbsorbedG: number;
  /** Δ of the settled change being held (merging, or waiting for a neighbour), or null. */
  holdingDeltaG: number | null;
  /** Since when the tray's weight has been moving or held undecided (the earliest start of either), or null when it is settled and decided. */
  busySince: number | null;
}

interface TrayRuntime {
  readonly trayId: string;
  readonly deviceId: string;
  readonly channel: number;
  readonly skus: SkuWeight[];
  readonly neighbours: TrayRuntime[];
  readonly segmenter: TraySegmenter;
}

/**
 * The weight signal pipeline: `shelf.weight` samples in, `shelf.change` events out. Pure and
 * per tray, driven only by the samples' device timestamps (so it runs the same in simulated
 * time); absolute weight is never trusted, only settled deltas. The parts, in order:
 * settle-detector (moving statistics, quiet windows) with noise-estimator and drift-tracker
 * → segmenter (event segmentation, merging) → burst-rejection (transients that come back) →
 * cross-talk (shares of a neighbour's change) → quantity (Δ / unit weight with a confidence,
 * alternatives, misplaced). docs/weight-pipeline.md describes the algorithm and its defaults.
 */
export class WeightPipeline {
  readonly options: Readonly<WeightPipelineOptions>;
  readonly #byDevice = new Map<string, Array<TrayRuntime | undefined>>();
  readonly #trays: TrayRuntime[] = [];
  readonly #trayById = new Map<string, TrayRuntime>();
  readonly #holding = new Set<TrayRuntime>();
  readonly #onReject: (reject: WeightReject) => void;
  readonly #declaredRestocks: ((trayId: string) => ReadonlyMap<string, number>) | undefined;
  readonly #misplacedUnits: ((trayId: string) => ReadonlyMap<string, number>) | undefined;
  readonly #catalog: ReadonlyMap<string, { unitWeightG: number; unitWeightSigmaG: number }>;
  readonly #counters: WeightPipelineCounters = {
    samples: 0,
    changes: 0,
    misplaced: 0,
    suppressedBursts: 0,
    suppressedCrossTalk: 0,
    attributedCrossTalk: 0,
    merged: 0,
    neighbourShifts: 0,
    outOfOrder: 0,
    rejects: { DRV_ERR_UNKNOWN_CHANNEL: 0 },
  };

  constructor(init: WeightPipelineInit) {
    this.options = resolveWeightPipelineOptions(init.options);
    this.#onReject = init.onReject ?? (() => undefined);
    this.#declaredRestocks = init.declaredRestocks;
    this.#misplacedUnits = init.misplacedUnits;
    const catalog = new Map(init.model.catalog.map((item) => [item.sku, item]));
    this.#catalog = catalog;
    const placements = trayPlacements(init.model);
    const byId = new Map<string, TrayRuntime>();
    for (const placement of placements) {
      const { tray } = placement;
      const skus = [...new Set(tray.facings.map((f) => f.sku))].flatMap((sku) => {
        const item = catalog.get(sku);
        return item === undefined ? [] : [{ sku, unitWeightG: item.unitWeightG, unitWeightSigmaG: item.unitWeightSigmaG }];
      });
      const runtime: TrayRuntime = {
        trayId: tray.id,
        deviceId: tray.device,
        channel: tray.channel,
        skus,
        neighbours: [],
        segmenter: new TraySegmenter(tray.id, this.options),
      };
      byId.set(tray.id, runtime);
      this.#trayById.set(tray.id, runtime);
      this.#trays.push(runtime);
      let channels = this.#byDevice.get(tray.device);
      if (channels === undefined) this.#byDevice.set(tray.device, (channels = []));
      channels[tray.channel] = runtime;
    }
    for (const placement of placements) {
      const runtime = byId.get(placement.tray.id)!;
      for (const id of placement.neighbours) runtime.neighbours.push(byId.get(id)!);
    }
  }

  /**
   * One controller's sample of all its channels. Returns the changes this sample completes
   * (usually none). Channels the store model does not have are counted and reported as
   * DRV_ERR_UNKNOWN_CHANNEL and never change stock.
   */
  push(deviceId: string, payload: WeightPayload): ShelfChange[] {
    const channels = this.#byDevice.get(deviceId);
    const out: ShelfChange[] = [];
    let unknown: number[] | undefined;
    let closed = false;
    for (const { ch, grams } of payload.channels) {
      const tray = channels?.[ch];
      if (tray === undefined) {
        (unknown ??= []).push(ch);
        this.#counters.rejects.DRV_ERR_UNKNOWN_CHANNEL++;
        continue;
      }
      const detector = tray.segmenter.detector;
      if (detector.lastAt !== undefined && payload.at <= detector.lastAt) {
        this.#counters.outOfOrder++;
        continue;
      }
      this.#counters.samples++;
      const segment = tray.segmenter.push(payload.at, grams);
      if (segment !== undefined) {
        closed = true;
        this.#hold(tray, segment, out);
        tray.segmenter.prune(payload.at);
      }
    }
    if (unknown !== undefined) {
      this.#onReject({
        code: 'DRV_ERR_UNKNOWN_CHANNEL',
        deviceId,
        channels: unknown,
        at: payload.at,
        message: channels === undefined ? `no shelf controller "${deviceId}" in the store model` : `${deviceId}: no tray on channel ${unknown.join(', ')} in the store model`,
      });
    }
    if (closed || this.#holding.size > 0) out.push(...this.#resolve(false));
    return out;
  }

  /** Decides every held change now, without waiting for neighbours or merges (end of a run, shutdown). */
  flush(): ShelfChange[] {
    return this.#resolve(true);
  }

  /**
   * Decides now the changes held on these trays while they are still (not active): for a caller
   * who knows more than the signal — the checkout, when nobody's hand is near a tray whose
   * unexplained change it was holding in case a hand rested there. Other trays are untouched.
   */
  decideHeld(trayIds: Iterable<string>): ShelfChange[] {
    const out: ShelfChange[] = [];
    const wanted = new Set(trayIds);
    for (const tray of this.#trays) {
      if (!wanted.has(tray.trayId) || tray.segmenter.pending === undefined || tray.segmenter.detector.state === 'active') continue;
      this.#decide(tray, out);
    }
    return out;
  }

  counters(): WeightPipelineCounters {
    return { ...this.#counters, rejects: { ...this.#counters.rejects } };
  }

  /** Since when a tray's weight has been moving or held undecided (`trays()`'s `busySince`), or null; null for an unknown tray. */
  busySince(trayId: string): number | null {
    const tray = this.#trayById.get(trayId);
    if (tray === undefined) return null;
    const d = tray.segmenter.detector;
    return busySince(tray.segmenter.pending?.startAt, d.state === 'active' ? d.activeSince : undefined);
  }

  /** Per-tray state for metrics and the dashboard. */
  trays(): TrayWeightStatus[] {
    return this.#trays.map((tray) => {
      const d = tray.segmenter.detector;
      return {
        trayId: tray.trayId,
        deviceId: tray.deviceId,
        channel: tray.channel,
        state: d.state,
        levelG: d.levelG,
        noiseSigmaG: d.sigmaG,
        sampleRateHz: d.periodMs === undefined ? undefined : 1_000 / d.periodMs,
        driftAbsorbedG: d.driftAbsorbedG,
        holdingDeltaG: tray.segmenter.pending === undefined ? null : round(pendingDelta(tray.segmenter.pending), 1),
        busySince: busySince(tray.segmenter.pending?.startAt, d.state === 'active' ? d.activeSince : undefined),
      };
    });
  }

  /**
   * A segment closed on a tray: it becomes the held change, or extends the one already held.
   * A hand resting on the tray (a plateau reached by pressing, or a put-back look-alike while
   * the hand presses before a lift) merges with what follows, and so does a neighbour's
   * cross-talk. But when the new segment is explained on its own and the held change ended
   * with a release (or the two together are not explained), they are two handlings — a
   * put-back or a misplaced item, then a pick a moment later — and the held one is decided first.
   */
  #hold(tray: TrayRuntime, segment: SettledSegment, out: ShelfChange[]): void {
    const held = tray.segmenter.pending;
    const next = fromSegment(segment);
    if (held === undefined) {
      tray.segmenter.pending = next;
      this.#holding.add(tray);
      return;
    }
    if (this.#neighbourShift(tray, held, next, segment)) {
      // The held change stays what it was; the shift is the neighbour's, kept apart from this tray's Δ.
      tray.segmenter.pending = {
        ...held,
        afterG: segment.afterG,
        afterN: segment.afterN,
        sigmaG: segment.sigmaG,
        parts: held.parts + 1,
        foreignG: held.foreignG + (segment.afterG - segment.beforeG),
        foreignAt: segment.confirmedAt,
      };
      this.#counters.neighbourShifts++;
      return;
    }
    if (returnedToLevel(pendingDelta(next), pendingSigma(next, this.options), this.options)) {
      // A transient that came back (a burst, a touch) while the change was held: the level is
      // refreshed, but the change's last handling stays what it was (it tells a press from a release).
      tray.segmenter.pending = { ...held, afterG: segment.afterG, afterN: segment.afterN, sigmaG: segment.sigmaG, parts: held.parts + 1 };
      this.#counters.merged++;
      return;
    }
    const merged = mergeInto(held, segment);
    const split = this.#twoHandlings(tray, held, next, merged);
    if (split) {
      this.#decide(tray, out);
      tray.segmenter.pending = next;
      this.#holding.add(tray);
      return;
    }
    tray.segmenter.pending = merged;
    this.#counters.merged++;
  }

  /**
   * Is the segment that follows a held unexplained change of this tray's own (a misplaced item,
   * or a hand resting — held for unexplainedHoldMs) only a neighbour's handling showing here?
   * Then its shift is not part of the held Δ: merged in, a neighbour's permanent share would
   * change the weight the misplaced item is identified by. (Unless it brings the tray back to
   * the level before the held change: then that was the neighbour's transient all along.)
   */
  #neighbourShift(tray: TrayRuntime, held: PendingChange, next: PendingChange, segment: SettledSegment): boolean {
    if (drivingNeighbours(tray.neighbours, next, held, this.options).length === 0) return false;
    if (dominantNeighbours(tray.neighbours, held, this.options).length > 0) return false;
    const verdict = this.#judge(tray, held);
    if (verdict.kind !== 'change' || !verdict.estimate.misplaced) return false;
    // A held plateau that this segment takes back was the neighbour's transient all along.
    return this.#judge(tray, mergeInto(held, segment)).kind !== 'return';
  }

  /**
   * Are a held change and the segment that follows two handlings? Only when the new segment is
   * the tray's own (explained, not driven by a neighbour). Then: a held change that looked like
   * a neighbour's cross-talk is its own handling (or that neighbour's permanent share) only if
   * the neighbour had settled — its hand gone — before the new segment began and it did not come
   * back; otherwise the held change is its own handling when it ended with a release (a hand
   * lets go of what it put down, or lifts what it took), or when the two together are not explained.
   */
  #twoHandlings(tray: TrayRuntime, held: PendingChange, next: PendingChange, merged: PendingChange): boolean {
    if (dominantNeighbours(tray.neighbours, next, this.options).length > 0) return false;
    const heldVerdict = this.#judge(tray, held);
    const mergedVerdict = this.#judge(tray, merged);
    if (!this.#explained(this.#judge(tray, next))) return this.#twoForeign(tray, held, next, heldVerdict, mergedVerdict);
    const drivers = dominantNeighbours(tray.neighbours, held, this.options);
    if (drivers.length > 0) {
      // Cross-talk comes back when the neighbour's hand leaves: if the neighbour was done before this segment began and the held
      // change stayed, it was this tray's own; if not, the way back is inside this segment.
      // A neighbour whose held change ended pressed still has its hand there (a quiet plateau in the middle of its handling).
      const doneBefore = drivers.every(
        (n) => neighbourSettledBy(n, held.last.confirmedAt, next.startAt) && !(n.segmenter.pending !== undefined && endsPressed(n.segmenter.pending, this.options)),
      );
      return doneBefore && mergedVerdict.kind !== 'return' && heldVerdict.kind !== 'return';
    }
    return !endsPressed(held, this.options) || !this.#explained(mergedVerdict);
  }

  /**
   * Two unexplained handlings in a row, each of the tray's own and each ended by a release, that
   * do not come back together (a hand resting, then lifting, does): two misplaced items.
   */
  #twoForeign(tray: TrayRuntime, held: PendingChange, next: PendingChange, heldVerdict: Verdict, mergedVerdict: Verdict): boolean {
    if (heldVerdict.kind !== 'change' || !heldVerdict.estimate.misplaced || mergedVerdict.kind === 'return') return false;
    if (endsPressed(held, this.options) || endsPressed(next, this.options)) return false;
    return Math.sign(pendingDelta(held)) === Math.sign(pendingDelta(next)) && dominantNeighbours(tray.neighbours, held, this.options).length === 0;
  }

  #explained(verdict: Verdict): boolean {
    return verdict.kind === 'change' && !verdict.estimate.misplaced;
  }

  #resolve(force: boolean): ShelfChange[] {
    const out: ShelfChange[] = [];
    for (;;) {
      const ready = [...this.#holding].filter((tray) => force || this.#ready(tray));
      if (ready.length === 0) return out;
      // Small changes first: a share is attributed to its neighbour before that one is emitted.
      ready.sort((a, b) => Math.abs(pendingDelta(a.segmenter.pending!)) - Math.abs(pendingDelta(b.segmenter.pending!)));
      for (const tray of ready) if (tray.segmenter.pending !== undefined) this.#decide(tray, out);
    }
  }

  /**
   * May the tray's held change be decided now? When its own rules allow it (#ownReady) and,
   * if the tray was passive — a neighbour was pushed much harder at the same time (its hand,
   * or its load change) — once that neighbour has settled and its own change can be decided
   * too (up to crossTalk.holdMs): what shows here is its cross-talk, which comes back when the
   * hand leaves. Returns and cross-talk of changes already emitted are decided at once.
   */
  #ready(tray: TrayRuntime): boolean {
    const own = this.#ownReady(tray);
    if (own !== 'wait-neighbours') return own === 'now';
    const change = tray.segmenter.pending!;
    // A neighbour that shifted this tray while the change was held may still have its hand there: its transient
    // is in this tray's level and comes back when the hand leaves, and that return must not start a change of its own.
    if (change.foreignAt !== undefined && tray.segmenter.detector.lastAt! - change.foreignAt < this.options.crossTalk.holdMs) {
      if (tray.neighbours.some((n) => n.segmenter.detector.state === 'active')) return false;
    }
    if (tray.segmenter.detector.lastAt! - change.confirmedAt >= this.options.crossTalk.holdMs) return true;
    for (const n of dominantNeighbours(tray.neighbours, change, this.options)) {
      if (n.segmenter.detector.state === 'active') return false;
      // A neighbour that is only waiting for this tray is decided in the same pass.
      if (n.segmenter.pending !== undefined && this.#ownReady(n) === 'hold') return false;
    }
    return true;
  }

  /**
   * The tray's own rules: not while it is active again (the next segment merges into it); a
   * return, or all cross-talk of emitted changes: now; an explained pick: after the
   * neighbours; an explained put-back: after putBackConfirmMs (a hand grasping an item presses
   * on the tray before it lifts); unexplained (even with the shares its neighbours offer it), or
   * ended by a press rather than a release: after unexplainedHoldMs (a hand resting on this
   * tray; what follows merges into it).
   */
  #ownReady(tray: TrayRuntime): 'now' | 'wait-neighbours' | 'hold' {
    const detector = tray.segmenter.detector;
    if (detector.state === 'active') return 'hold';
    const change = tray.segmenter.pending!;
    const verdict = this.#judge(tray, change);
    if (verdict.kind === 'return') return 'now';
    if (verdict.kind === 'crossTalk') return verdict.shares.every((s) => s.host.pending === undefined) ? 'now' : 'wait-neighbours';
    const now = detector.lastAt!;
    const unexplained = verdict.estimate.misplaced && !this.#explainedWithShares(tray, change);
    if (unexplained || endsPressed(change, this.options)) {
      return now - change.firstConfirmedAt >= this.options.unexplainedHoldMs ? 'wait-neighbours' : 'hold';
    }
    return verdict.deltaG < 0 || now - change.firstConfirmedAt >= this.options.putBackConfirmMs ? 'wait-neighbours' : 'hold';
  }

  /**
   * What a held change is: a transient that came back (burst-rejection.ts), a neighbour's
   * cross-talk share, or a change of the tray's own — explained by its SKUs, possibly with part
   * of it a neighbour's share, or misplaced.
   */
  #judge(tray: TrayRuntime, change: PendingChange): Verdict {
    const delta = pendingDelta(change);
    const sigma = pendingSigma(change, this.options);
    if (returnedToLevel(delta, sigma, this.options)) return { kind: 'return' };
    // Shares of this change that its neighbours found on themselves come back to it.
    const own = delta + sum(change.shares);
    const hosts = concurrentHosts(tray.neighbours, change, own, sigma, this.options);
    const range = shareRange(tray, hosts, this.options);
    let estimate = explainDelta(own, sigma, tray.skus, this.options, range);
    if (estimate.misplaced && own > 0) {
      const restocks = this.#restockWeights(tray);
      if (restocks !== undefined) estimate = explainDelta(own, sigma, restocks, this.options, range);
    }
    if (estimate.misplaced && own < 0) estimate = this.#misplacedTaken(tray, own, sigma, range) ?? estimate;
    const shares = splitShare(estimate.shareG, hosts);
    if (estimate.crossTalkOnly) return { kind: 'crossTalk', shares };
    return { kind: 'change', deltaG: own - estimate.shareG, estimate, shares };
  }

  /** A negative Δ explained by units known to lie on the tray by mistake (no more of them than lie there), or undefined. */
  #misplacedTaken(tray: TrayRuntime, own: number, sigma: number, range: ReturnType<typeof shareRange>): QuantityEstimate | undefined {
    const lying = this.#misplacedUnits?.(tray.trayId);
    if (lying === undefined || lying.size === 0) return undefined;
    const foreign = [...lying].flatMap(([sku, units]) => {
      const item = this.#catalog.get(sku);
      return units > 0 && item !== undefined && !tray.skus.some((s) => s.sku === sku) ? [{ sku, unitWeightG: item.unitWeightG, unitWeightSigmaG: item.unitWeightSigmaG }] : [];
    });
    if (foreign.length === 0) return undefined;
    const estimate = explainDelta(own, sigma, [...tray.skus, ...foreign], this.options, range);
    const best = estimate.best;
    if (estimate.misplaced || best === null || (lying.get(best.sku) ?? 0) < -best.quantity) return undefined;
    return estimate;
  }

  /** The tray's SKUs with their declared restocks as the most units one change may add, or undefined when none is declared. */
  #restockWeights(tray: TrayRuntime): SkuWeight[] | undefined {
    const declared = this.#declaredRestocks?.(tray.trayId);
    if (declared === undefined || declared.size === 0) return undefined;
    let any = false;
    const skus = tray.skus.map((item) => {
      const units = declared.get(item.sku) ?? 0;
      if (units <= this.options.maxUnits) return item;
      any = true;
      return { ...item, maxUnitsAdded: units };
    });
    return any ? skus : undefined;
  }

  #decide(tray: TrayRuntime, out: ShelfChange[]): void {
    this.#collectShares(tray, out);
    const change = tray.segmenter.pending!;
    const verdict = this.#judge(tray, change);
    this.#release(tray);
    if (verdict.kind === 'return') {
      if (neighbourChanged(tray.neighbours, change)) this.#counters.suppressedCrossTalk++;
      else this.#counters.suppressedBursts++;
      return;
    }
    for (const { host, grams } of verdict.shares) {
      if (host.pending === undefined) continue;
      host.pending.shares.push(grams);
      this.#counters.attributedCrossTalk++;
    }
    if (verdict.kind === 'crossTalk') {
      this.#counters.suppressedCrossTalk++;
      return;
    }
    const { estimate, deltaG } = verdict;
    const shelfChange: ShelfChange = {
      id: `${tray.trayId}@${change.settledAt}`,
      trayId: tray.trayId,
      deviceId: tray.deviceId,
      channel: tray.channel,
      deltaG: round(deltaG, 1),
      startAt: change.startAt,
      settledAt: change.settledAt,
      sku: estimate.best?.sku ?? null,
      quantity: estimate.best?.quantity ?? 0,
      confidence: round(estimate.confidence, 3),
      alternatives: estimate.alternatives.map(({ sku, quantity, confidence }) => ({ sku, quantity, confidence: round(confidence, 3) })),
      misplaced: estimate.misplaced,
    };
    tray.segmenter.emitted({ startAt: change.startAt, settledAt: change.settledAt, deltaG });
    this.#counters.changes++;
    if (estimate.misplaced) this.#counters.misplaced++;
    out.push(shelfChange);
  }

  /**
   * Is the held change explained once the shares its neighbours' held changes offer it are
   * counted? A change may leave up to crossTalk.maxShare of itself on each neighbour (an item
   * resting partly on the next plate); those neighbours wait for it (#collectShares), so it
   * must not wait unexplainedHoldMs for them.
   */
  #explainedWithShares(tray: TrayRuntime, change: PendingChange): boolean {
    const offered: number[] = [];
    for (const n of tray.neighbours) {
      const q = n.segmenter.pending;
      if (q === undefined) continue;
      const verdict = this.#judge(n, q);
      if (verdict.kind !== 'return') for (const share of verdict.shares) if (share.host.tray === tray) offered.push(share.grams);
    }
    return offered.length > 0 && this.#explained(this.#judge(tray, { ...change, shares: [...change.shares, ...offered] }));
  }

  /**
   * Before a change is decided, the neighbours' held changes that are nothing but its
   * permanent share give that share back to it (they would otherwise be decided later, when
   * this change is no longer held, or merge with what happens on them next).
   */
  #collectShares(tray: TrayRuntime, out: ShelfChange[]): void {
    for (const n of tray.neighbours) {
      const q = n.segmenter.pending;
      if (q === undefined) continue;
      const verdict = this.#judge(n, q);
      if (verdict.kind === 'crossTalk' && verdict.shares.some((s) => s.host.tray === tray)) this.#decide(n, out);
    }
  }

  #release(tray: TrayRuntime): void {
    tray.segmenter.pending = undefined;
    this.#holding.delete(tray);
  }

}

type Shares = Array<{ host: Host<TrayRuntime>; grams: number }>;

type Verdict =
  | { kind: 'return' }
  | { kind: 'crossTalk'; shares: Shares }
  | { kind: 'change'; deltaG: number; estimate: QuantityEstimate; shares: Shares };

function round(value: number, decimals: number): number {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
}

function busySince(heldFrom: number | undefined, activeFrom: number | undefined): number | null {
  if (heldFrom === undefined) return activeFrom ?? null;
  return activeFrom === undefined ? heldFrom : Math.min(heldFrom, activeFrom);
}
