import { createHash, randomBytes } from 'node:crypto';
import { trayPlacements, trayPoints, type GateScanPayload, type StoreModel, type TrayPoint, type TracksPayload } from '@storeedge/device-drivers';
import { errors } from '../errors.ts';
import type { DeviceEvent, EventBus, ShelfChange } from '../events.ts';
import type { WeightCandidate } from '../inventory/ledger-events.ts';
import { uniqueFit, weightCandidates, weightZ } from '../inventory/weight-match.ts';
import type { Ledger, LedgerEvent } from '../ledger/index.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import { candidatesAt, unseenAt, type Candidate } from './attribution.ts';
import { checkoutEventTypes as types, type CartChanged, type ChangeDecided, type ChangeDeferred, type PersonBound, type PersonDoubted, type PersonCleared, type ReceiptCorrected, type ReceiptIssued, type ReviewOpened, type ReviewResolved, type SessionExited, type SessionOpened, type PaymentResult, type CartLineProposal, type PersonExited, type RefundResult } from './ledger-events.ts';
import type { PaymentService } from './payment.ts';
import type { PriceBook } from '../pricing/price-book.ts';
import { priceCart, type PriceBookItem, type Promotion } from './pricing.ts';
import type { CheckoutSettings } from './settings.ts';
import { TrackBook, type Point3, type TrackDecision } from './track-book.ts';
import { fuseVision, handLooks, handStillAt, MAX_LOOKS, takerBySight, type VisionEvidenceSource, type VisionReading, type VisionVerdict } from './vision-evidence.ts';

const stream = 'checkout';
/** A visit's hands "reached" a tray over a window when their attribution score there is at least this (half a close sample). */
const REACHED_SCORE = 0.5;
/** Two hands this close in one tracker frame touch (a hand-over); a hand this close to a tray point is at the shelf. Tracker σ is 5 cm per axis. */
const HAND_OFF_REACH_M = 0.25;
const HAND_AT_TRAY_M = 0.25;
/**
 * …and the two persons stand at least this far apart: hands meet across that gap only when both
 * reach out (a hand-over). Persons standing shoulder to shoulder have their hands this close
 * without reaching at all.
 */
const HAND_OFF_APART_M = 0.4;
/** A hand-over can begin this long before the giver's pick settled on the load cells. */
const HAND_OFF_LOOKBACK_MS = 1_500;
/** Attribution confidence of a change to a person the tracker lost beside the tray while it changed: seen again beside it, or not (yet). */
const LOST_BACK_CONFIDENCE = 0.9;
const LOST_CONFIDENCE = 0.6;
/** Attribution confidence factor when the person at the tray may be another visit's (a doubtful stitch). */
const DOUBT_CONFIDENCE = 0.5;
/**
 * A unit taken is looked at as the hand comes out of the shelf; a change that settles while the
 * hand is still in (several units, a hand resting there) waits at most this long (store time)
 * for it before it is decided by weight alone.
 */
const HAND_WAIT_MS = 3_000;
/** …and its looks may come this much later still (up to three tracker frames after the hand left). */
const LOOK_AFTER_WAIT_MS = 500;
/** The most a single look that goes against the priors makes sure (below any sensible review threshold). */
const ONE_LOOK_OVERTURNS = 0.5;

type Look = { atMs: number; point: Point3 };
/** Where to look for a change: at the unit (`looks`), and at each of two visits' hands when both were at the tray (`rivals`). */
type Looks = { looks: Look[]; rivals?: Map<string, Look[]> | undefined };

/** Confidence factor of a put-back charged off the one other visit holding the SKU (the giver by elimination)… */
const HANDED_OVER = 0.9;
/** …and of one seen handing it over (hands together away from the shelves in clearly the most frames: `#giver`). */
const HANDED_OVER_SEEN = 0.97;
/** A held SKU this many σ further from a put-back's Δ than the tray's own SKU is not taken for it while someone else holds the tray's SKU. */
const LOOKALIKE_Z_GAP = 1;
/**
 * Prior odds, for the camera, of a twin the putter holds against a unit of the tray's SKU handed over when no hand-over was seen
 * (weight alone reads it as the look-alike, × 0.95): the camera overturns that only when it is sure (same-weight-swap seed 1:
 * the camera's doubt sent a right look-alike reading to a manager).
 */
const LOOKALIKE_ODDS = 19;
/** Confidence factor of a look-alike read as put on a wrong tray because the putter took none of the tray's SKU from it (their own unit moved to another tray of the SKU is the other reading). */
const ELSEWHERE_LOOKALIKE = 0.9;
/** At most this many holders are named as alternatives in one review. */
const MAX_ALTERNATIVES = 3;

export type SessionState = 'open' | 'exiting' | 'in-review' | 'closed';

/** A visit as the API shows it: pseudonymous, no token, no faces. */
export interface SessionView {
  id: string;
  state: SessionState;
  party: number;
  openedAt: number;
  exitAt: number | null;
  persons: number;
  /** Net units per SKU in the virtual cart. */
  cart: Array<{ sku: string; quantity: number }>;
  lines: CartLineView[];
  openReviews: string[];
  receiptId: string | null;
}

/** A cart line as the API shows it: the ledger event without its session, and the store time it was added. */
export interface CartLineView extends Omit<CartChanged, 'sessionId' | 'at'> {
  addedAt: number;
}

/** A review item as the API shows it: what opened it, its state and, once decided, the decision. */
export interface ReviewView extends Omit<ReviewOpened, 'reviewId' | 'change'> {
  id: string;
  state: 'open' | 'resolved';
  resolution: ReviewResolved | null;
}

export interface ReceiptView extends Omit<ReceiptIssued, 'token'> {
  payment: { status: 'pending' | 'approved' | 'declined'; reference: string | null };
  corrections: Array<ReceiptCorrected & { refund: { status: 'pending' | 'approved' | 'declined'; reference: string | null } }>;
}

interface Session {
  id: string;
  token: string;
  party: number;
  gate: string;
  state: SessionState;
  openedAt: number;
  exitAt: number | null;
  lines: CartLineView[];
  reviews: Set<string>;
  receiptId: string | null;
  /** Trays its hands reached in the minute before it exited (set at the first settle check). */
  reached?: Set<string>;
  persons: Set<string>;
  entered: number;
  /** Persons of the party who have left through the exit, with the time the last one left. */
  exited: Set<string>;
  lastExitAt: number;
  /** The last store time a person of it was in view. */
  lastSeenAt: number;
}

export interface CheckoutServiceOptions {
  ledger: Ledger;
  bus: EventBus;
  metrics: Metrics;
  logger: Logger;
  settings: CheckoutSettings;
  /** The store model in force (trays' floor positions, gates, catalog prices). */
  model: () => StoreModel | null;
  /** Declared restock units not yet arrived on a tray (positive changes there are staff, not shoppers). */
  pendingRestocks: (trayId: string) => ReadonlyMap<string, number>;
  /**
   * Units of a declared restock the inventory booked this shelf change as. The inventory hears a change first and books
   * arriving units against the pending restock, so by the time the checkout decides it nothing may be pending any more.
   */
  restockUnitsOf?: (changeId: string) => number;
  /** Units on a tray now (the inventory's observed stock), per SKU; the shares of a same-weight look-alike. */
  unitsOnTray?: (trayId: string) => ReadonlyMap<string, number>;
  /** Trays whose weight is still moving or held undecided (pending evidence to settle before a receipt), each with since when. */
  busyTrays: () => ReadonlyMap<string, number>;
  /**
   * Asks the weight pipeline to decide the changes it holds on these trays now (their shelf
   * changes come back through the bus). Used when a visit has left and nobody's hand is near a
   * tray it touched: the change held there in case a hand rested on it is not a hand.
   */
  decideHeld?: (trayIds: readonly string[]) => void;
  payment: PaymentService;
  /** Publishes a receipt on `out/receipts`. */
  publish: (receipt: ReceiptView) => void;
  /**
   * The shelf cameras (agent.vision): asked which product was in the hand when weight cannot
   * tell (a SKU with a same-weight look-alike, a unit put on a wrong tray). Absent or answering
   * nothing: weight only, as before.
   */
  vision?: VisionEvidenceSource;
  /**
   * The store's price book (agent.prices): each SKU at its lowest unit price between the pick and
   * the exit, with the promotions in force at the exit. Absent: the catalog's prices and the
   * settings' promotions (tests of the checkout alone).
   */
  prices?: Pick<PriceBook, 'cartPriceBook' | 'cartPromotionsAt'>;
  /**
   * The shelf labels (agent.labels): no unit is charged above the price its confirmed label
   * showed while the shopper was in the store (the lower price wins during a label's update), and
   * every charge is recorded for the price-integrity report.
   */
  labels?: {
    labelPriceFor(sku: string, at: number): number | null;
    recordCharge(line: { sku: string; unitPriceMinor: number; at: number }): unknown;
  };
}

/**
 * Walk-out checkout (docs/checkout.md): gate scans open sessions, tracks bind persons to them,
 * settled shelf changes become cart lines of the session whose hands were at the tray, low
 * confidence goes to a review queue instead of a guess, and on exit the cart is settled,
 * priced, written to the ledger and handed to payment. Every state change is a ledger event
 * (stream "checkout") applied to the in-memory state by the same code on replay, so a restart
 * after kill -9 loses no cart line and issues no second receipt.
 */
export class CheckoutService {
  readonly #o: CheckoutServiceOptions;
  readonly #sessions = new Map<string, Session>();
  readonly #byToken = new Map<string, string>();
  readonly #reviews = new Map<string, ReviewView>();
  readonly #receipts = new Map<string, ReceiptView>();
  /** Units of foreign SKUs known to lie on a tray (misplaced put-backs the checkout resolved). */
  readonly #foreign = new Map<string, Map<string, number>>();
  readonly #decided = new Set<string>();
  /** While replaying: shelf changes that were waiting for the camera and have no decision yet. */
  readonly #deferred = new Map<string, ChangeDeferred>();
  #book: TrackBook;
  #model: StoreModel | null = null;
  #trays = new Map<string, TrayPoint>();
  /** Per tray, the SKUs the store model faces there (built on first use after a model change). */
  #skusByTray: Map<string, Set<string>> | null = null;
  #tracker: string | null = null;
  #clock = 0;
  #lostCheckedAt = 0;
  /** A tick can cause shelf changes (decideHeld) whose handling ticks again: one at a time. */
  #ticking = false;
  #replaying = false;
  /** Shelf changes waiting for vision, and the chain that decides them (and any after them) in order. */
  #waiting = 0;
  #chain: Promise<void> = Promise.resolve();
  /** Changes whose hand was still in the shelf when they settled: their looks, once it has come out (or at `until`). */
  readonly #awaitingHand: Array<{ change: ShelfChange; until: number; asking: boolean; rivals: readonly Candidate[]; resolve: (looks: Looks) => void }> = [];
  /** The cameras' answers asked for and not yet given (inference runs in real time, not store time). */
  readonly #asking = new Set<Promise<unknown>>();
  /** SKUs with another catalogue SKU of the same weight (within the weight match): weight alone cannot name them. */
  #twins: Set<string> | null = null;

  constructor(options: CheckoutServiceOptions) {
    this.#o = options;
    this.#book = new TrackBook([], options.settings.tracks);
    this.#refreshModel();
    this.#replay();
  }

  /** Subscribes to gate scans, tracker frames and shelf changes; returns the detach function. */
  attach(): () => void {
    const bus = this.#o.bus;
    const offs = [
      bus.on('gate.scan', (event) => this.onGateScan(event)),
      bus.on('tracker.tracks', (event) => this.onTracks(event)),
      bus.on('shelf.change', (change) => this.onShelfChange(change)),
    ];
    return () => offs.forEach((off) => off());
  }

  /** The store clock: the newest device time seen from the tracker or the shelves. */
  get clock(): number {
    return this.#clock;
  }

  // ── inputs ────────────────────────────────────────────────────────────────────────────

  onGateScan(event: DeviceEvent<GateScanPayload>): void {
    this.#refreshModel();
    const { token, lane, party, at } = event.payload;
    const gate = this.#model?.gates.find((g) => g.device === event.deviceId && g.lane === lane);
    if (gate === undefined) return this.#reject(event.deviceId, 'EDGE_ERR_CHECKOUT_UNKNOWN_GATE', `gate ${event.deviceId} is not an ${lane} lane of the store model`);
    this.#advance(at);
    if (lane === 'exit') {
      const session = this.#sessions.get(this.#byToken.get(tokenKey(token)) ?? '');
      if (session === undefined || session.state !== 'open') return this.#reject(event.deviceId, 'EDGE_ERR_CHECKOUT_SESSION_CLOSED', 'exit scan of a token with no open session');
      this.#append<SessionExited>(types.sessionExited, `session-exit:${session.id}`, { sessionId: session.id, at, how: 'scan' });
      this.#tick();
      return;
    }
    if (this.#byToken.has(tokenKey(token))) {
      return this.#reject(event.deviceId, 'EDGE_ERR_CHECKOUT_TOKEN_REPLAYED', 'a token already used for a visit was scanned again; tokens are one visit each');
    }
    const sessionId = `s-${randomBytes(8).toString('hex')}`;
    this.#append<SessionOpened>(types.sessionOpened, `session-open:${tokenKey(token)}`, { sessionId, token, party, gate: event.deviceId, at });
    for (const d of this.#book.bindEarly(sessionId)) this.#onTrackDecision(d);
  }

  onTracks(event: DeviceEvent<TracksPayload>): void {
    this.#refreshModel();
    this.#tracker ??= this.#o.settings.trackerDevice ?? event.deviceId;
    if (event.deviceId !== this.#tracker) {
      return this.#reject(event.deviceId, 'EDGE_ERR_CHECKOUT_UNKNOWN_TRACKER', `tracker ${event.deviceId} is not the store's tracker (${this.#tracker}); its frames are ignored`);
    }
    const decisions = this.#book.ingest(event.payload);
    if (decisions === null) {
      this.#o.metrics.rejects.inc({ code: 'EDGE_ERR_CHECKOUT_STALE_FRAME' });
      return;
    }
    this.#advance(event.payload.at);
    for (const d of decisions) this.#onTrackDecision(d);
    this.#tick();
  }

  onShelfChange(change: ShelfChange): void {
    this.#refreshModel();
    this.#advance(change.settledAt);
    if (this.#decided.has(change.id)) return;
    this.#decided.add(change.id);
    const available = this.#o.vision?.available() === true;
    const asking = available && this.#wantsVision(change);
    const rivals = available ? this.#rivalsAt(change) : [];
    const looks = asking ? this.#visionLooks(change) : [];
    const rivalLooks = rivals.length > 0 ? this.#rivalLooks(change, rivals) : undefined;
    // A unit taken while the hand is still in the shelf: the look at it on its way out comes later (at most HAND_WAIT_MS).
    const waitForHand =
      change.deltaG < 0 && ((asking && looks.length === 0 && this.#handStillIn(change)) || (rivals.length > 0 && rivalLooks === undefined && this.#handStillIn(change, rivals)));
    if (looks.length === 0 && rivalLooks === undefined && !waitForHand && this.#waiting === 0) {
      this.#fuse(change);
      this.#tick();
      return;
    }
    // Asked now (the frames are in the ring buffer now), decided in arrival order after any change still waiting.
    // Recorded first, so a restart before the decision sends the change to review instead of losing it.
    this.#append<ChangeDeferred>(types.changeDeferred, `deferred:${change.id}`, { changeId: change.id, change, sessionIds: this.#nearCandidates(change).map((c) => c.sessionId), at: this.#clock });
    this.#waiting++;
    const looked = waitForHand
      ? new Promise<Looks>((resolve) => this.#awaitingHand.push({ change, until: change.settledAt + HAND_WAIT_MS, asking, rivals, resolve }))
      : Promise.resolve({ looks, rivals: rivalLooks });
    const identify = (ready: readonly Look[]) =>
      Promise.all(ready.map((look) => this.#o.vision!.identify({ trayId: change.trayId, ...look }).catch(() => undefined))).then((r) => r.filter((x): x is VisionReading => x !== undefined));
    const readings = looked.then((ready) =>
      this.#asked(Promise.all([identify(ready.looks), Promise.all([...(ready.rivals ?? [])].map(async ([sessionId, l]) => [sessionId, await identify(l)] as const))])),
    );
    this.#chain = this.#chain
      .then(async () => {
        const [answers, byRival] = await readings;
        this.#fuse(change, answers, new Map(byRival));
        this.#append<ChangeDecided>(types.changeDecided, `decided:${change.id}`, { changeId: change.id, at: this.#clock });
      })
      .catch((err: unknown) => this.#o.logger.error({ err, changeId: change.id }, 'checkout: deciding a shelf change failed'))
      .finally(() => {
        this.#waiting--;
        this.#tick();
      });
  }

  /**
   * Resolves once every shelf change received so far has been decided (vision answers included) —
   * except a change whose hand is still in the shelf, and those after it: that wait ends with store
   * time (the tracker frames still to come, at most HAND_WAIT_MS), which only further events bring,
   * so then it resolves once the cameras have answered everything asked so far. (A harness that
   * runs store time faster than real time awaits this after each event: ending the wait here
   * instead would look at the hand before it came out.)
   */
  async settled(): Promise<void> {
    while (this.#waiting > 0) {
      if (this.#awaitingHand.length === 0) {
        await this.#chain;
        continue;
      }
      if (this.#asking.size === 0) return;
      await Promise.all([...this.#asking]);
      // The changes before the waiting one are decided once their answers are in.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  #asked<T>(answers: Promise<T>): Promise<T> {
    this.#asking.add(answers);
    const done = () => this.#asking.delete(answers);
    answers.then(done, done);
    return answers;
  }

  /** Changes waiting for the hand to come out of the shelf: asked about once it has (or once `now` passed their wait). */
  #lookForHands(now: number): void {
    if (this.#awaitingHand.length === 0) return;
    // The hand on its way out: up to MAX_LOOKS frames of it (they come one per tracker frame).
    const ready = (looks: readonly Look[]) => looks.length >= MAX_LOOKS || (looks.length > 0 && now - looks[0]!.atMs >= LOOK_AFTER_WAIT_MS);
    for (const entry of [...this.#awaitingHand]) {
      const looks = entry.asking ? this.#visionLooks(entry.change, HAND_WAIT_MS + LOOK_AFTER_WAIT_MS) : [];
      const rivals = entry.rivals.length > 0 ? this.#rivalLooks(entry.change, entry.rivals, HAND_WAIT_MS + LOOK_AFTER_WAIT_MS) : undefined;
      const enough = (!entry.asking || ready(looks)) && (entry.rivals.length === 0 || (rivals !== undefined && [...rivals.values()].every(ready)));
      if (!enough && now < entry.until) continue;
      this.#awaitingHand.splice(this.#awaitingHand.indexOf(entry), 1);
      entry.resolve({ looks, rivals });
    }
  }

  // ── API ───────────────────────────────────────────────────────────────────────────────

  sessions(filter: { state?: SessionState; limit?: number } = {}): SessionView[] {
    const all = [...this.#sessions.values()].filter((s) => filter.state === undefined || s.state === filter.state);
    return all.slice(-(filter.limit ?? 1_000)).map((s) => this.#view(s));
  }

  session(id: string): SessionView {
    const s = this.#sessions.get(id);
    if (s === undefined) throw errors.EDGE_ERR_CHECKOUT_NOT_FOUND(`no session "${id}"`);
    return this.#view(s);
  }

  receipts(filter: { limit?: number } = {}): ReceiptView[] {
    return [...this.#receipts.values()].slice(-(filter.limit ?? 1_000));
  }

  receipt(id: string): ReceiptView {
    const r = this.#receipts.get(id);
    if (r === undefined) throw errors.EDGE_ERR_CHECKOUT_NOT_FOUND(`no receipt "${id}"`);
    return r;
  }

  reviews(filter: { state?: 'open' | 'resolved' } = {}): ReviewView[] {
    return [...this.#reviews.values()].filter((r) => filter.state === undefined || r.state === filter.state);
  }

  review(id: string): ReviewView {
    const r = this.#reviews.get(id);
    if (r === undefined) throw errors.EDGE_ERR_CHECKOUT_NOT_FOUND(`no review item "${id}"`);
    return r;
  }

  /**
   * A manager resolves a review item: the cart lines it stands for (possibly none — nobody
   * took anything — or the proposal as it was). Sessions named must be the item's candidates.
   * A session waiting only for this item gets its receipt.
   */
  resolveReview(id: string, input: { lines: CartLineProposal[] | 'accept'; actor: string }): ReviewView {
    const review = this.review(id);
    if (review.state !== 'open') throw errors.EDGE_ERR_CHECKOUT_REVIEW_CLOSED(`review item "${id}" is already resolved`);
    const lines = input.lines === 'accept' ? review.proposal : input.lines;
    // A candidate that has left already (the giver of a unit put back later) can only be refunded on its receipt.
    const refunds = new Map<string, Map<string, number>>();
    for (const line of lines) {
      if (!review.sessionIds.includes(line.sessionId)) {
        throw errors.EDGE_ERR_BAD_REQUEST(`session "${line.sessionId}" is not a candidate of review item "${id}" (candidates: ${review.sessionIds.join(', ')})`);
      }
      if (this.#model?.catalog.every((c) => c.sku !== line.sku)) throw errors.EDGE_ERR_BAD_REQUEST(`unknown SKU "${line.sku}"`);
      const session = this.#sessions.get(line.sessionId);
      if (session?.state !== 'closed' || line.quantity === 0) continue;
      if (line.quantity > 0 || session.receiptId === null) throw errors.EDGE_ERR_BAD_REQUEST(`session "${line.sessionId}" has left and has its receipt: it can only be refunded (a negative quantity), not charged more`);
      const perSku = refunds.get(line.sessionId) ?? new Map<string, number>();
      perSku.set(line.sku, (perSku.get(line.sku) ?? 0) - line.quantity);
      refunds.set(line.sessionId, perSku);
    }
    for (const [sessionId, perSku] of refunds) {
      const receipt = this.receipt(this.#sessions.get(sessionId)!.receiptId!);
      for (const [sku, quantity] of perSku) {
        const on = receipt.lines.filter((l) => l.sku === sku).reduce((n, l) => n + l.quantity, 0);
        const already = receipt.corrections.flatMap((c) => c.lines).filter((l) => l.sku === sku).reduce((n, l) => n + l.quantity, 0);
        if (quantity + already > on) throw errors.EDGE_ERR_BAD_REQUEST(`refund of ${quantity} × ${sku} to session "${sessionId}": its receipt has ${on}, ${already} already refunded`);
      }
    }
    this.#append<ReviewResolved>(types.reviewResolved, `review-resolved:${id}`, { reviewId: id, lines, actor: input.actor, at: this.#clock });
    for (const [sessionId, perSku] of refunds) {
      const lines = [...perSku].map(([sku, quantity]) => ({ sku, quantity }));
      this.correctReceipt(this.#sessions.get(sessionId)!.receiptId!, { lines, reason: `review ${id}: ${review.reason}`, actor: input.actor, changeId: review.changeId });
    }
    const traySkus = this.#traySkus(review.trayId);
    for (const [i, line] of lines.entries()) {
      const foreign = traySkus !== undefined && !traySkus.has(line.sku);
      if (line.quantity !== 0 && foreign) this.#addForeign(review.trayId, line.sku, -line.quantity);
      if (line.quantity === 0 || refunds.has(line.sessionId)) continue;
      this.#append<CartChanged>(types.cartChanged, `cart:${review.changeId}:review:${i}:${line.sessionId}:${line.sku}`, {
        sessionId: line.sessionId,
        changeId: review.changeId,
        trayId: review.trayId,
        sku: line.sku,
        quantity: line.quantity,
        confidence: 1,
        reason: 'review',
        ...(foreign ? { foreign: true as const } : {}),
        evidenceAt: review.openedAt,
        at: this.#clock,
      });
    }
    this.#tick();
    return this.review(id);
  }

  /**
   * A correction after the receipt: refund lines (units of SKUs on the receipt) as a new ledger
   * event and a refund through payment; the receipt itself never changes.
   */
  correctReceipt(receiptId: string, input: { lines: Array<{ sku: string; quantity: number }>; reason: string; actor: string; changeId?: string }): ReceiptView {
    const receipt = this.receipt(receiptId);
    const wanted = new Map<string, number>();
    for (const line of input.lines) wanted.set(line.sku, (wanted.get(line.sku) ?? 0) + line.quantity);
    const paid = paidPerUnit(receipt);
    const refunds = [...wanted].map(([sku, quantity]) => {
      const on = receipt.lines.find((l) => l.sku === sku);
      const already = receipt.corrections.flatMap((c) => c.lines).filter((l) => l.sku === sku).reduce((s, l) => s + l.quantity, 0);
      if (on === undefined || quantity < 1 || quantity + already > on.quantity) {
        throw errors.EDGE_ERR_BAD_REQUEST(`refund of ${quantity} × ${sku}: the receipt has ${on?.quantity ?? 0}, ${already} already refunded`);
      }
      // What the shopper paid for these units: the line's amount less its share of the receipt's discounts.
      return { sku, quantity, amountMinor: Math.round(paid.get(sku)! * quantity) };
    });
    const correctionId = `c-${receipt.corrections.length + 1}`;
    const amountMinor = refunds.reduce((s, l) => s + l.amountMinor, 0);
    this.#append<ReceiptCorrected>(
      types.receiptCorrected,
      `receipt-correction:${receiptId}:${correctionId}`,
      { receiptId, correctionId, lines: refunds, amountMinor, reason: input.reason, actor: input.actor, ...(input.changeId === undefined ? {} : { changeId: input.changeId }), at: this.#clock },
      true,
    );
    const session = this.#sessions.get(receipt.sessionId)!;
    this.#refund(receiptId, correctionId, session.token);
    return this.receipt(receiptId);
  }

  /**
   * Session id → token of every visit. For the payment desk and the scenario runner's simulated
   * manager only (a manager reviewing a clip sees the shopper); never served over HTTP.
   */
  visitTokens(): Map<string, string> {
    return new Map([...this.#sessions.values()].map((s) => [s.id, s.token]));
  }

  /** Counters for metrics and the report. */
  stats(): { sessions: number; open: number; inReview: number; receipts: number; reviewsOpen: number } {
    const s = [...this.#sessions.values()];
    return {
      sessions: s.length,
      open: s.filter((x) => x.state === 'open' || x.state === 'exiting').length,
      inReview: s.filter((x) => x.state === 'in-review').length,
      receipts: this.#receipts.size,
      reviewsOpen: this.reviews({ state: 'open' }).length,
    };
  }

  // ── fusion ────────────────────────────────────────────────────────────────────────────

  /**
   * One settled shelf change → cart lines (or a review item). Who: the session whose hands
   * were at the tray (attribution.ts). What: the weight pipeline's SKU and units; a put-back
   * leaves the cart of the session that puts it back (or, for an item handed over, of the one
   * session that holds it); a unit put on a wrong tray is identified by weight among the
   * putter's cart (MPS: put-back candidates are the shopper's own items); a foreign unit taken
   * from a tray is one known to lie there.
   */
  #fuse(change: ShelfChange, vision: readonly VisionReading[] = [], byRival: ReadonlyMap<string, readonly VisionReading[]> = new Map()): void {
    const s = this.#o.settings;
    const tray = this.#trays.get(change.trayId);
    if (tray === undefined) return;
    // Staff restocking: units the inventory booked against a declared restock, or units of a SKU with a restock still pending
    // on the tray. A unit no facing explains is not the restock (crowded store: a shopper's jar put on a tray whose restock
    // was declared was lost, and she paid for it).
    if (change.deltaG > 0 && ((this.#o.restockUnitsOf?.(change.id) ?? 0) > 0 || (!change.misplaced && change.sku !== null && (this.#o.pendingRestocks(change.trayId).get(change.sku) ?? 0) > 0))) return;
    // Sessions whose hands came near the tray at all (a review names only these); charged only when clearly there.
    const all = candidatesAt(this.#book.persons(), tray, change, s.attribution).filter((c) => this.#sessions.has(c.sessionId) && c.score >= s.minCandidateScore);
    let live = all.filter((c) => this.#sessions.get(c.sessionId)!.state !== 'closed');
    let best = live[0];
    let attribution: number;
    if (best === undefined || best.score < s.minAttributionScore) {
      // Nobody visible clearly there: perhaps someone the tracker lost for a moment, right beside the tray.
      const lost = change.quantity !== 0 || change.misplaced ? this.#lostAtTray(change, tray, live) : undefined;
      if (lost === undefined) {
        if (all.length > 0 && live.length === 0) this.#o.metrics.rejects.inc({ code: 'EDGE_ERR_CHECKOUT_SESSION_CLOSED' });
        if (change.quantity === 0 && !change.misplaced) return;
        // Taken or put back by someone the tracker does not see bound to a visit: nobody to charge or refund; the inventory
        // has the change. A manager decides between the visits nearby — for a unit put back, also those who took that SKU
        // from this tray (crowded store: a group's put-back nobody was seen making left the unit on its receipt).
        this.#o.metrics.rejects.inc({ code: 'EDGE_ERR_CHECKOUT_UNATTRIBUTED' });
        const fromHere = change.deltaG > 0 && change.sku !== null && !change.misplaced ? this.#holdersFromHere(change, live) : [];
        if (live.length + fromHere.length > 0) this.#openReview(change, [...live, ...fromHere.map((h) => asCandidate(h.id))], [], 0, 'nobody-clearly-at-tray');
        return;
      }
      best = lost.candidate;
      attribution = lost.confidence;
      live = [best, ...live];
    } else {
      const second = live[1]?.score ?? 0;
      attribution = best.score / (best.score + second);
    }
    // The person at the tray may be another visit's (a doubtful stitch after both were lost from view): a manager decides.
    const doubt = this.#doubtAt(best, change);
    if (doubt.length > 0) {
      attribution *= DOUBT_CONFIDENCE;
      live = [...live, ...doubt.filter((id) => !live.some((c) => c.sessionId === id)).map(asCandidate)];
    }

    // The weight pipeline may name a unit put on this tray by mistake (a SKU without a facing here) as what was taken: that is
    // a misplaced unit picked up again, decided below like any change no SKU of the tray explains.
    const foreignSku = change.sku !== null && this.#traySkus(change.trayId)?.has(change.sku) === false;
    // Same SKU, same tray, same time: two sessions both clearly at the tray, as many units as hands.
    const strong = live.filter((c) => c.score >= s.minAttributionScore && c.score >= s.sharedScoreRatio * best.score);
    if (strong.length > 1 && change.sku !== null && !change.misplaced && !foreignSku && Math.abs(change.quantity) === strong.length) {
      const unit = Math.sign(change.quantity);
      const lines = strong.map((c) => ({ sessionId: c.sessionId, sku: change.sku!, quantity: unit > 0 ? -1 : 1 }));
      const confidence = change.confidence * s.sharedConfidence;
      return this.#commitLines(change, lines, confidence, 'shared', strong);
    }

    const session = this.#sessions.get(best.sessionId)!;
    const held = this.#held(session);
    if (change.sku !== null && !change.misplaced && !foreignSku) {
      const units = change.quantity;
      if (units === 0) return;
      const confidence = change.confidence * attribution;
      if (units < 0) {
        // A foreign unit lies on this tray that weighs what was taken (one like a unit of the SKU, or like several: a 536 g
        // jar on a tray of 268 g cans): the pick is the tray's own SKU with the odds of its units among those that look
        // alike (below the threshold it goes to review; vision will tell them apart).
        const foreign = this.#foreignLookalike(change.trayId, change.deltaG);
        if (foreign !== null) {
          const own = Math.max(0, this.#o.unitsOnTray?.(change.trayId).get(change.sku) ?? 0);
          const seen = this.#byVision(new Map([[change.sku, own], [foreign.sku, foreign.onTray]]), vision);
          if (seen !== undefined) {
            const taken = seen.sku === change.sku ? -units : foreign.units;
            if (seen.sku !== change.sku) this.#addForeign(change.trayId, seen.sku, -taken);
            return this.#commitLines(change, [{ sessionId: session.id, sku: seen.sku, quantity: taken }], confidence * seen.p, 'pick-beside-lookalike', live, seen.verdict);
          }
          // Two units of the SKU or one heavier foreign unit: weight alone cannot say how many were taken — a manager decides.
          const share = foreign.units === -units ? own / (own + foreign.onTray) : Math.min(0.5, own / (own + foreign.onTray));
          return this.#commitLines(change, [{ sessionId: session.id, sku: change.sku, quantity: -units }], confidence * share, 'pick-beside-lookalike', live);
        }
        // Two visits' hands at the tray: the one whose hand the camera saw the unit in on its way out.
        const seen = doubt.length === 0 ? this.#takerSeen(change, live, byRival) : undefined;
        if (seen !== undefined) {
          return this.#commitLines(change, [{ sessionId: seen.sessionId, sku: change.sku, quantity: -units }], change.confidence * seen.p, 'pick-seen-in-hand', live, seen.verdict);
        }
        return this.#commitLines(change, [{ sessionId: session.id, sku: change.sku, quantity: -units }], confidence, 'pick', live);
      }
      // A put-back: of this SKU, by whoever holds it — unless they also hold a look-alike and the camera saw that one.
      if ((held.get(change.sku) ?? 0) >= units) {
        // Units go back where they were taken. The putter took none of this SKU from this tray: a visit that did, seen handing
        // one over to the putter, gets it back; without a camera, a look-alike the putter holds is read as put on a wrong tray
        // (crowded store: a receiver who held the SKU from another tray returned the giver's unit, and the giver kept paying).
        if (this.#tookFrom(session, change.sku, change.trayId) < units) {
          const [giver] = this.#giver(this.#holdersOf(change, units, session.id).fromHere, session.id, change.sku, change.startAt);
          if (giver !== undefined) return this.#handedOver(change, giver, units, confidence * HANDED_OVER_SEEN, live);
          const twin = vision.length === 0 ? this.#fitHeld(session, change.deltaG, change.sku) : null;
          if (twin !== null) {
            this.#addForeign(change.trayId, twin.sku, twin.units);
            return this.#commitLines(change, [{ sessionId: session.id, sku: twin.sku, quantity: -twin.units }], confidence * ELSEWHERE_LOOKALIKE, 'put-back-lookalike', live);
          }
        }
        const twin = vision.length > 0 ? this.#fitHeld(session, change.deltaG, change.sku) : null;
        const seen = twin === null ? undefined : this.#byVision(new Map([[change.sku, held.get(change.sku)!], [twin.sku, held.get(twin.sku) ?? 0]]), vision);
        if (seen !== undefined && seen.sku !== change.sku) {
          this.#addForeign(change.trayId, seen.sku, units);
          return this.#commitLines(change, [{ sessionId: session.id, sku: seen.sku, quantity: -units }], confidence * seen.p, 'put-back-lookalike', live, seen.verdict);
        }
        return this.#commitLines(change, [{ sessionId: session.id, sku: change.sku, quantity: -units }], confidence * (seen?.p ?? 1), 'put-back', live, seen?.verdict);
      }
      // Handed over: the one other session that holds it — or, of several, the one whose hands met the putter's away from the shelves.
      // Units go back where they were taken: of the holders, those who took it from this tray, if any, are the ones it can be.
      const { holders, fromHere } = this.#holdersOf(change, units, session.id);
      const pool = fromHere.length > 0 ? fromHere : holders;
      // Those of them seen handing it over (the #giver rule): asked once, it reads the track history.
      const seenGivers = this.#giver(pool, session.id, change.sku, change.startAt);
      const givers = pool.length > 1 ? seenGivers : pool;
      // The same weight, another SKU the putter holds: a unit put on the wrong tray that weighs like this tray's SKU — or a
      // unit of this SKU a holder handed over. The camera decides when there is one. Without one, hands meeting alone does not
      // tell (people standing side by side touch hands too): without a holder whose hands clearly met the putter's it is the
      // look-alike, with one a manager decides (docs/checkout.md "Hand-offs").
      const fits = this.#fitsHeld(session, change.deltaG, change.sku);
      const lookalike = uniqueFit(fits);
      const giver = seenGivers[0];
      // A "look-alike" that weight tells from this tray's SKU (a σ or more further off; twins differ by a third of one) while
      // someone else holds this SKU: a unit handed over and put back fits better.
      const worseFit = lookalike !== null && holders.length > 0 && lookalike.z - this.#ownZ(change.sku, units, change.deltaG) >= LOOKALIKE_Z_GAP;
      // The camera, when there is one, says which it was: the putter's own look-alike (or one of several that weigh like it), or
      // a unit of this SKU handed over by a holder (crowded store with cameras: these were a third of its reviews). Priors one to
      // one per unit — except that a twin with no hand-over seen is the look-alike by weight (× 0.95 below), so it takes a sure
      // camera to overturn that (LOOKALIKE_ODDS).
      const alike = lookalike !== null ? [lookalike] : fits;
      const odds = lookalike !== null && giver === undefined && !worseFit ? LOOKALIKE_ODDS : 1;
      const seen = alike.length > 0 ? this.#byVision(new Map([[change.sku, units], ...alike.map((f): [string, number] => [f.sku, f.units * odds])]), vision) : undefined;
      if (seen !== undefined) {
        if (seen.sku !== change.sku) {
          const fit = alike.find((f) => f.sku === seen.sku)!;
          this.#addForeign(change.trayId, fit.sku, fit.units);
          return this.#commitLines(change, [{ sessionId: session.id, sku: fit.sku, quantity: -fit.units }], confidence * seen.p, 'put-back-lookalike', live, seen.verdict);
        }
        // Seen handing it over, or the one holder by elimination; of several holders none seen, a manager decides (below).
        const from = giver ?? (pool.length === 1 ? pool[0] : undefined);
        if (from !== undefined) return this.#handedOver(change, from, units, confidence * (giver !== undefined ? HANDED_OVER_SEEN : HANDED_OVER) * seen.p, live, seen.verdict);
      }
      if (lookalike !== null && seen === undefined) {
        const putBackLookalike = [{ sessionId: session.id, sku: lookalike.sku, quantity: -lookalike.units }];
        // Without a camera, a worse-fitting look-alike while someone else holds this SKU goes to a manager (crowded store: a
        // 391 g rice put back by the shopper it was handed to was read as her 377 g juice on the wrong tray).
        if (giver === undefined && worseFit) {
          const named = [...pool].sort((a, b) => this.#holderRank(a, live, change) - this.#holderRank(b, live, change)).slice(0, MAX_ALTERNATIVES);
          const alternatives = named.map((h) => [{ sessionId: h.id, sku: change.sku!, quantity: -units }]);
          return this.#openReview(change, [...live, ...named.filter((h) => !live.some((c) => c.sessionId === h.id)).map((h) => asCandidate(h.id))], putBackLookalike, confidence * 0.5, 'put-back-lookalike-or-handed-over', alternatives);
        }
        if (giver === undefined) {
          this.#addForeign(change.trayId, lookalike.sku, lookalike.units);
          return this.#commitLines(change, putBackLookalike, confidence * 0.95, 'put-back-lookalike', live);
        }
        const handedOver = [{ sessionId: giver.id, sku: change.sku, quantity: -units }];
        return this.#openReview(change, [...live, asCandidate(giver.id)], putBackLookalike, confidence * 0.5, 'put-back-lookalike-or-handed-over', [handedOver]);
      }
      // The putter holds several SKUs that weigh like this (no one look-alike): their own unit on the wrong tray is as good a
      // reading as one handed over — a manager decides (crowded store: a group's 377 g juice put on the 373 g juice tray was
      // taken off another group's receipt).
      if (seen === undefined && givers.length === 1 && givers[0]!.state !== 'closed' && alike.length > 0) {
        return this.#openReview(change, [...live, asCandidate(givers[0]!.id)], [{ sessionId: givers[0]!.id, sku: change.sku, quantity: -units }], confidence * 0.5, 'put-back-lookalike-or-handed-over');
      }
      if (givers.length === 1) {
        // The one holder (of those who took it from this tray) is the giver by elimination (0.9); seen handing it over — hands
        // together away from the shelves, the #giver rule — it is more than that.
        const sure = (pool.length > 1 || seenGivers.length === 1 ? HANDED_OVER_SEEN : HANDED_OVER) * confidence;
        return this.#handedOver(change, givers[0]!, units, sure, live);
      }
      // Several hold it (or nobody): a manager decides, naming the holders (of those who took it from this tray, if any did)
      // of the best `#holderRank` (the hand the attribution ranked first need not be the putter's).
      const reason = holders.length === 0 ? 'put-back-not-in-any-cart' : 'put-back-several-holders';
      const best = Math.min(...pool.map((h) => this.#holderRank(h, live, change)));
      const named = pool.filter((h) => this.#holderRank(h, live, change) === best);
      return this.#openReview(change, [...live, ...named.filter((h) => !live.some((c) => c.sessionId === h.id)).map((h) => asCandidate(h.id))], [], confidence * 0.5, reason);
    }

    // Misplaced: no SKU of the tray explains Δ.
    if (change.deltaG > 0) {
      const fit = this.#fitHeld(session, change.deltaG, null);
      const sight = fit === null ? this.#heldBySight(session, change.deltaG, vision) : undefined;
      if (sight !== undefined) {
        this.#addForeign(change.trayId, sight.fit.sku, sight.fit.units);
        return this.#commitLines(change, [{ sessionId: session.id, sku: sight.fit.sku, quantity: -sight.fit.units }], attribution * fitConfidence(sight.fit.z) * sight.p, 'put-on-wrong-tray', live, sight.verdict);
      }
      if (fit === null) return this.#openReview(change, live, [], 0, 'unknown-item-put-down');
      this.#addForeign(change.trayId, fit.sku, fit.units);
      return this.#commitLines(change, [{ sessionId: session.id, sku: fit.sku, quantity: -fit.units }], attribution * fitConfidence(fit.z), 'put-on-wrong-tray', live);
    }
    const onTray = this.#foreignOn(change.trayId);
    const catalog = this.#catalog();
    const fit = uniqueFit(
      weightCandidates(
        -change.deltaG,
        [...onTray].flatMap(([sku, n]) => (n > 0 && catalog.get(sku) ? [{ ...catalog.get(sku)!, maxUnits: n }] : [])),
        s.weightMatch,
      ),
    );
    if (fit === null) return this.#openReview(change, live, [], 0, 'unknown-item-taken');
    this.#addForeign(change.trayId, fit.sku, -fit.units);
    return this.#commitLines(change, [{ sessionId: session.id, sku: fit.sku, quantity: fit.units }], attribution * fitConfidence(fit.z), 'pick-misplaced-unit', live);
  }

  /** Lines at or above the review threshold go in the carts; below it, one review item holds them. */
  #commitLines(change: ShelfChange, lines: CartLineProposal[], confidence: number, reason: string, candidates: Candidate[], vision?: VisionVerdict): void {
    if (confidence < this.#o.settings.reviewThreshold) return this.#openReview(change, candidates, lines, confidence, reason);
    for (const line of lines) {
      this.#append<CartChanged>(types.cartChanged, `cart:${change.id}:${line.sessionId}:${line.sku}`, {
        sessionId: line.sessionId,
        changeId: change.id,
        trayId: change.trayId,
        sku: line.sku,
        quantity: line.quantity,
        confidence: round3(confidence),
        reason,
        evidenceAt: change.settledAt,
        at: this.#clock,
        ...(vision ? { vision } : {}),
      });
    }
  }

  /** Open visits the candidate's persons may be mixed up with at the time of the change (track-book `Person.doubt`). */
  #doubtAt(candidate: Candidate, change: ShelfChange): string[] {
    const out = new Set<string>();
    for (const id of candidate.persons) {
      const doubt = this.#book.person(id)?.doubt;
      // In doubt while the shelf changed: from `since` until appearance cleared them (if it has).
      if (doubt === undefined || doubt.since > change.settledAt || (doubt.until !== undefined && doubt.until <= change.startAt)) continue;
      for (const sessionId of doubt.sessions) if (sessionId !== candidate.sessionId && this.#sessions.get(sessionId)?.state !== 'closed') out.add(sessionId);
    }
    return [...out];
  }

  /**
   * The visit of the one person the tracker lost beside the tray while it changed (attribution.ts
   * `unseenAt`), when no visible hand was in the tray: charged with LOST_BACK_CONFIDENCE when they
   * were seen again beside it, else LOST_CONFIDENCE (a review). Undefined when there is no such
   * visit or more than one.
   */
  #lostAtTray(change: ShelfChange, tray: TrayPoint, visible: readonly Candidate[]): { candidate: Candidate; confidence: number } | undefined {
    if (visible.some((c) => c.closestM <= HAND_AT_TRAY_M)) return undefined;
    const lost = unseenAt(this.#book.persons(), tray, change, this.#o.settings.attribution).filter((u) => this.#sessions.get(u.sessionId)?.state !== 'closed' && !visible.some((c) => c.sessionId === u.sessionId));
    const sessions = new Set(lost.map((u) => u.sessionId));
    if (sessions.size !== 1) return undefined;
    const sessionId = lost[0]!.sessionId;
    return {
      candidate: { sessionId, score: this.#o.settings.minAttributionScore, closestM: Number.NaN, persons: lost.map((u) => u.personId) },
      confidence: lost.some((u) => u.back) ? LOST_BACK_CONFIDENCE : LOST_CONFIDENCE,
    };
  }

  // ── vision ────────────────────────────────────────────────────────────────────────────

  /**
   * Where to look for a change weight may not name (`#wantsVision`): the hand of the best-placed
   * person as it left the tray (unit taken) or came to it (unit put down); none when nobody was
   * clearly there, or the hand has not left yet (then the change waits for it, `#lookForHands`).
   * `lagMs`: how long after the change settled the hand may leave.
   */
  #visionLooks(change: ShelfChange, lagMs?: number): Look[] {
    const tray = this.#trays.get(change.trayId);
    if (tray === undefined) return [];
    const best = candidatesAt(this.#book.persons(), tray, change, this.#o.settings.attribution)[0];
    if (best === undefined) return [];
    for (const id of best.persons) {
      const person = this.#book.person(id);
      const looks = person === undefined ? [] : handLooks(person, tray, change, change.deltaG < 0, lagMs);
      if (looks.length > 0) return looks;
    }
    return [];
  }

  /** A SKU with a same-weight twin in the catalogue, or a change no SKU of the tray explains: weight may not name it. */
  #wantsVision(change: ShelfChange): boolean {
    return change.sku === null || change.misplaced || this.#twinSkus().has(change.sku) || (change.deltaG < 0 && this.#foreignLookalike(change.trayId, change.deltaG) !== null);
  }

  /** Is a hand of the best-placed person (or of any of `candidates`) still at the tray (the unit not out of the shelf yet)? */
  #handStillIn(change: ShelfChange, candidates?: readonly Candidate[]): boolean {
    const tray = this.#trays.get(change.trayId);
    if (tray === undefined) return false;
    const who = candidates ?? candidatesAt(this.#book.persons(), tray, change, this.#o.settings.attribution).slice(0, 1);
    return who.some((c) =>
      c.persons.some((id) => {
        const person = this.#book.person(id);
        return person !== undefined && handStillAt(person, tray);
      }),
    );
  }

  /**
   * Units of the tray's SKU taken while the hands of two visits were at the tray, too close to call by where they were (the
   * pick would go to review; two units and two hands clearly there are one each, `shared`, before this): the two, best
   * placed first, whose hands the camera is asked about on their way out (`#takerSeen`).
   */
  #rivalsAt(change: ShelfChange): Candidate[] {
    const s = this.#o.settings;
    // Only where who is the question: a change weight itself is unsure of stays unsure however clearly one hand held it.
    if (change.quantity >= 0 || change.sku === null || change.misplaced || change.confidence < s.reviewThreshold || this.#traySkus(change.trayId)?.has(change.sku) === false) return [];
    const live = this.#nearCandidates(change);
    if (live.length < 2 || live[0]!.score < s.minAttributionScore) return [];
    return change.confidence * (live[0]!.score / (live[0]!.score + live[1]!.score)) < s.reviewThreshold ? live.slice(0, 2) : [];
  }

  /** Each rival's hand on its way out of the shelf (`handLooks`); undefined unless both have one. */
  #rivalLooks(change: ShelfChange, rivals: readonly Candidate[], lagMs?: number): Map<string, Look[]> | undefined {
    const tray = this.#trays.get(change.trayId);
    if (tray === undefined) return undefined;
    const out = new Map<string, Look[]>();
    for (const rival of rivals) {
      for (const id of rival.persons) {
        const person = this.#book.person(id);
        const looks = person === undefined ? [] : handLooks(person, tray, change, true, lagMs);
        if (looks.length > 0) {
          out.set(rival.sessionId, looks);
          break;
        }
      }
      if (!out.has(rival.sessionId)) return undefined;
    }
    return out;
  }

  /**
   * Of the two visits best placed at the tray, the one whose hand held the unit (`takerBySight`), with its probability;
   * undefined unless the camera saw both hands (the pick is then decided by where the hands were, as without a camera).
   */
  #takerSeen(change: ShelfChange, live: readonly Candidate[], byRival: ReadonlyMap<string, readonly VisionReading[]>): { sessionId: string; p: number; verdict: VisionVerdict } | undefined {
    const [a, b] = live;
    const ra = a && byRival.get(a.sessionId);
    const rb = b && byRival.get(b.sessionId);
    if (!a || !b || !ra?.length || !rb?.length) return undefined;
    const sight = takerBySight(change.sku!, { score: a.score, readings: ra }, { score: b.score, readings: rb });
    if (sight === undefined) return undefined;
    const [taker, p] = sight.pA >= 0.5 ? [a, sight.pA] : [b, 1 - sight.pA];
    const first = (taker === a ? ra : rb)[0]!;
    return {
      sessionId: taker.sessionId,
      p,
      verdict: {
        posterior: { [change.sku!]: 1 },
        sku: change.sku!,
        cameraId: first.cameraId,
        frames: ra.length + rb.length,
        modelVersion: first.modelVersion,
        takers: { [a.sessionId]: round3(sight.pA), [b.sessionId]: round3(1 - sight.pA) },
      },
    };
  }

  #twinSkus(): Set<string> {
    if (this.#twins !== null) return this.#twins;
    const items = [...this.#catalog().values()];
    this.#twins = new Set(items.filter((a) => items.some((b) => b.sku !== a.sku && weightCandidates(a.unitWeightG, [b], this.#o.settings.weightMatch).length > 0)).map((a) => a.sku));
    return this.#twins;
  }

  /** The candidate the camera and the priors (how many of each could be the unit) favour, with its fused probability; undefined without a usable reading. */
  #byVision(priors: ReadonlyMap<string, number>, readings: readonly VisionReading[]): { sku: string; p: number; verdict: VisionVerdict } | undefined {
    const fused = fuseVision(priors, readings);
    if (fused === undefined) return undefined;
    // One look against what weight and the tray's stock say (the candidate with the most units that could be it): one crop
    // may show another shopper's sleeve or a unit half hidden, and the recogniser's twins look alike — it goes to a manager
    // (same-weight-swap seed 3: the one look that named mouthwash for a toothpaste taken beside one).
    const favoured = [...priors].filter(([, n]) => n > 0).sort((a, b) => b[1] - a[1]);
    const overturns = favoured.length > 1 && favoured[0]![1] > favoured[1]![1] && fused.best !== favoured[0]![0];
    const p = overturns && fused.looks < 2 ? Math.min(fused.p, ONE_LOOK_OVERTURNS) : fused.p;
    const first = readings[0]!;
    const verdict: VisionVerdict = {
      posterior: Object.fromEntries([...fused.posterior].map(([sku, p]) => [sku, round3(p)])),
      sku: fused.best,
      cameraId: first.cameraId,
      frames: readings.length,
      modelVersion: first.modelVersion,
    };
    return { sku: fused.best, p, verdict };
  }

  /**
   * Of several held SKUs whose weight explains Δ, the one the camera saw put down (weight alone left it open). Each starts
   * from the units held times how well its weight fits (the normal density at its z): a fit 2 σ off is a seventh as likely
   * as an exact one, so a camera that barely leans to it does not outweigh that (crowded store: a 521 g put-down the
   * putter's toothpaste fitted at 0.3 σ was proposed as her 551 g hand soap, 2.4 σ off, on the camera's word).
   */
  #heldBySight(session: Session, deltaG: number, readings: readonly VisionReading[]): { fit: { sku: string; units: number; z: number }; p: number; verdict: VisionVerdict } | undefined {
    if (readings.length === 0) return undefined;
    const catalog = this.#catalog();
    const held = this.#held(session);
    const fits = weightCandidates(Math.abs(deltaG), [...held].flatMap(([sku, n]) => (n > 0 && catalog.get(sku) ? [{ ...catalog.get(sku)!, maxUnits: n }] : [])), this.#o.settings.weightMatch);
    if (fits.length < 2) return undefined;
    const seen = this.#byVision(new Map(fits.map((f) => [f.sku, (held.get(f.sku) ?? 0) * Math.exp(-(f.z ** 2) / 2)])), readings);
    if (seen === undefined) return undefined;
    return { fit: fits.find((f) => f.sku === seen.sku)!, p: seen.p, verdict: seen.verdict };
  }

  /** Open visits whose hands came near the change's tray while it changed (the candidates a review would name), best placed first. */
  #nearCandidates(change: ShelfChange): Candidate[] {
    const tray = this.#trays.get(change.trayId);
    if (tray === undefined) return [];
    return candidatesAt(this.#book.persons(), tray, change, this.#o.settings.attribution).filter(
      (c) => c.score >= this.#o.settings.minCandidateScore && this.#sessions.has(c.sessionId) && this.#sessions.get(c.sessionId)!.state !== 'closed',
    );
  }

  #openReview(change: ShelfChange, candidates: readonly Candidate[], proposal: CartLineProposal[], confidence: number, reason: string, alternatives?: CartLineProposal[][]): void {
    // A visit that has left is named only with its receipt (a holder that handed a unit over): a manager can refund it.
    const named = (id: string) => this.#sessions.get(id)?.state !== 'closed' || (this.#sessions.get(id)?.receiptId ?? null) !== null;
    const sessionIds = [...new Set([...proposal.map((p) => p.sessionId), ...candidates.map((c) => c.sessionId)])].filter(named);
    if (sessionIds.length === 0) return;
    this.#append<ReviewOpened>(types.reviewOpened, `review:${change.id}`, {
      reviewId: `r-${createHash('sha256').update(change.id).digest('hex').slice(0, 12)}`,
      changeId: change.id,
      trayId: change.trayId,
      reason,
      sessionIds,
      proposal,
      ...(alternatives === undefined ? {} : { alternatives }),
      confidence: round3(confidence),
      change: { deltaG: change.deltaG, sku: change.sku, quantity: change.quantity, confidence: change.confidence, startAt: change.startAt, settledAt: change.settledAt },
      openedAt: this.#clock,
    });
  }

  /** The one SKU of the session's cart (other than `except`) whose whole units explain Δ, or null. */
  #fitHeld(session: Session, deltaG: number, except: string | null): { sku: string; units: number; z: number } | null {
    return uniqueFit(this.#fitsHeld(session, deltaG, except));
  }

  /** Every SKU the session holds (but `except`) whose units weigh Δ, best first. */
  #fitsHeld(session: Session, deltaG: number, except: string | null): WeightCandidate[] {
    const catalog = this.#catalog();
    const items = [...this.#held(session)].flatMap(([sku, n]) => (sku !== except && n > 0 && catalog.get(sku) ? [{ ...catalog.get(sku)!, maxUnits: n }] : []));
    return weightCandidates(Math.abs(deltaG), items, this.#o.settings.weightMatch);
  }

  /** How many σ Δ lies from `units` units of `sku` (as `weightCandidates` measures it; ∞ when the SKU is unknown). */
  #ownZ(sku: string, units: number, deltaG: number): number {
    const item = this.#catalog().get(sku);
    return item === undefined ? Number.POSITIVE_INFINITY : weightZ(Math.abs(deltaG), units, item, this.#o.settings.weightMatch);
  }

  /** Visits (but `except`) still holding `units` of `change.sku` (`#stillHolds`), and of those the ones that took them from this tray (`#tookFrom`). */
  #holdersOf(change: ShelfChange, units: number, except: string | null): { holders: Session[]; fromHere: Session[] } {
    const holders = [...this.#sessions.values()].filter((x) => x.id !== except && this.#stillHolds(x, change.sku!, units));
    return { holders, fromHere: holders.filter((h) => this.#tookFrom(h, change.sku!, change.trayId) >= units) };
  }

  /** Open visits (not among `named`) still holding `change.sku` that they took from this tray: up to MAX_ALTERNATIVES, those who took it last first. */
  #holdersFromHere(change: ShelfChange, named: readonly Candidate[]): Session[] {
    const lastTaken = (x: Session) => Math.max(...x.lines.filter((l) => l.sku === change.sku && l.trayId === change.trayId && l.quantity > 0).map((l) => l.evidenceAt));
    return this.#holdersOf(change, Math.abs(change.quantity) || 1, null)
      .fromHere.filter((x) => x.state !== 'closed' && !named.some((c) => c.sessionId === x.id))
      .sort((a, b) => lastTaken(b) - lastTaken(a))
      .slice(0, MAX_ALTERNATIVES);
  }

  /**
   * How likely a holder of the SKU is the one a put-back review is about: 0 when their hands were at the tray, 1 when they
   * took the SKU from this tray, else 2 (in a crowd a SKU is in a dozen carts, and every visit a review names waits for it).
   */
  #holderRank(holder: Session, live: readonly Candidate[], change: ShelfChange): number {
    if (live.some((c) => c.sessionId === holder.id)) return 0;
    return this.#tookFrom(holder, change.sku!, change.trayId) > 0 ? 1 : 2;
  }

  /**
   * A foreign SKU believed to lie on this tray whose units weigh what a change took away (the pick could be them): how many
   * of them it would be, and how many lie there; or null.
   */
  #foreignLookalike(trayId: string, deltaG: number): { sku: string; units: number; onTray: number } | null {
    const onTray = this.#foreignOn(trayId);
    if (onTray.size === 0) return null;
    const catalog = this.#catalog();
    const items = [...onTray].flatMap(([sku, n]) => (n > 0 && catalog.get(sku) ? [{ ...catalog.get(sku)!, maxUnits: n }] : []));
    const fit = weightCandidates(Math.abs(deltaG), items, this.#o.settings.weightMatch)[0];
    return fit === undefined ? null : { sku: fit.sku, units: fit.units, onTray: onTray.get(fit.sku)! };
  }

  /** Units of other SKUs the checkout believes lie on a tray (put there by mistake), per SKU: for the weight pipeline. */
  misplacedOn(trayId: string): Map<string, number> {
    return new Map([...this.#foreignOn(trayId)].filter(([, n]) => n > 0));
  }

  /**
   * Units of other SKUs believed to lie on the tray: those the checkout decided, plus the best
   * guesses of its open review items there (a look-alike put back, until a manager says otherwise).
   */
  #foreignOn(trayId: string): Map<string, number> {
    const onTray = new Map(this.#foreign.get(trayId) ?? []);
    let traySkus: Set<string> | undefined;
    for (const review of this.#reviews.values()) {
      if (review.state !== 'open' || review.trayId !== trayId || review.proposal.length === 0) continue;
      traySkus ??= this.#traySkus(trayId);
      for (const p of review.proposal) if (traySkus !== undefined && !traySkus.has(p.sku)) onTray.set(p.sku, Math.max(0, (onTray.get(p.sku) ?? 0) - p.quantity));
    }
    return onTray;
  }

  #addForeign(trayId: string, sku: string, units: number): void {
    const onTray = this.#foreign.get(trayId) ?? new Map<string, number>();
    onTray.set(sku, Math.max(0, (onTray.get(sku) ?? 0) + units));
    this.#foreign.set(trayId, onTray);
  }

  // ── sessions, settling, receipts ──────────────────────────────────────────────────────

  #onTrackDecision(d: TrackDecision): void {
    if (d.kind === 'entered' || d.kind === 'stitched') {
      this.#append<PersonBound>(types.personBound, `person:${d.trackId}:${d.personId}`, { personId: d.personId, trackId: d.trackId, sessionId: d.sessionId, how: d.kind, at: d.at, ...(d.kind === 'stitched' && d.doubtWith ? { doubtWith: d.doubtWith, doubtSince: d.doubtSince ?? d.at } : {}) });
    } else if (d.kind === 'swapped') {
      this.#append<PersonBound>(types.personBound, `person:${d.trackIds[0]}:${d.personIds[1]}:${d.at}`, { personId: d.personIds[1], trackId: d.trackIds[0], sessionId: this.#book.person(d.personIds[1])?.sessionId ?? null, how: 'swapped', at: d.at });
      this.#append<PersonBound>(types.personBound, `person:${d.trackIds[1]}:${d.personIds[0]}:${d.at}`, { personId: d.personIds[0], trackId: d.trackIds[1], sessionId: this.#book.person(d.personIds[0])?.sessionId ?? null, how: 'swapped', at: d.at });
    } else if (d.kind === 'doubted') {
      this.#append<PersonDoubted>(types.personDoubted, `person-doubt:${d.personIds.join(':')}:${d.since}`, { personIds: d.personIds, since: d.since, at: d.at });
    } else if (d.kind === 'cleared') {
      this.#append<PersonCleared>(types.personCleared, `person-clear:${d.personIds.join(':')}:${d.at}`, { personIds: d.personIds, at: d.at });
    } else if (d.kind === 'exited' && d.sessionId !== null) {
      const session = this.#sessions.get(d.sessionId);
      if (session === undefined || session.state !== 'open') return;
      this.#append<PersonExited>(types.personExited, `person-exit:${session.id}:${d.personId}`, { personId: d.personId, sessionId: session.id, at: d.at });
      // The party has left when everyone it brought in has gone through the exit and nobody of it is still in view.
      const inView = this.#book.personsOf(session.id).some((p) => !p.gone);
      if (session.entered > 0 && session.exited.size >= session.entered && !inView) {
        this.#append<SessionExited>(types.sessionExited, `session-exit:${session.id}`, { sessionId: session.id, at: session.lastExitAt, how: 'tracks' });
      }
    } else if (d.kind === 'unbound') {
      this.#o.metrics.rejects.inc({ code: 'EDGE_ERR_CHECKOUT_UNBOUND_TRACK' });
    }
  }

  /**
   * Sessions that have exited get their receipt once the evidence has settled: `settleMs` after
   * the exit, with no tray the visit touched in its last minute still moving or held (or
   * `maxSettleMs` at most). Open review items hold the receipt (state in-review).
   */
  #tick(): void {
    if (this.#replaying || this.#ticking) return;
    this.#ticking = true;
    try {
      this.#tickOnce();
    } finally {
      this.#ticking = false;
    }
  }

  #tickOnce(): void {
    // A shelf change still waiting for the camera may belong in a cart about to be settled.
    if (this.#waiting > 0) return;
    const s = this.#o.settings;
    this.#closeLost();
    let busy: ReadonlyMap<string, number> | undefined;
    for (const session of this.#sessions.values()) {
      if (session.state !== 'exiting' && session.state !== 'in-review') continue;
      const since = this.#clock - session.exitAt!;
      if (session.state === 'exiting') {
        if (since < s.settleMs) continue;
        busy ??= this.#o.busyTrays();
        const pending = this.#touchedBusy(session, busy);
        if (pending && since < s.maxSettleMs) {
          this.#decideUnattended(session, busy);
          continue;
        }
      }
      if ([...session.reviews].some((id) => this.#reviews.get(id)?.state === 'open')) {
        if (session.state !== 'in-review') session.state = 'in-review';
        continue;
      }
      this.#issueReceipt(session);
    }
  }

  /**
   * A visit none of whose persons the tracker has shown for `lostAfterMs` (its people left
   * unseen, or their tracks were lost or taken by someone else's id) would never get a receipt:
   * it is ended as of the last time one of them was seen (`how: 'lost'`, counted), so what it
   * took is charged rather than lost. Checked once a second of store time.
   */
  #closeLost(): void {
    if (this.#clock - this.#lostCheckedAt < 1_000) return;
    this.#lostCheckedAt = this.#clock;
    const seen = new Map<string, number>();
    for (const person of this.#book.persons()) {
      if (person.sessionId === null) continue;
      const at = person.gone ? person.lastAt : this.#clock;
      seen.set(person.sessionId, Math.max(seen.get(person.sessionId) ?? 0, at));
    }
    for (const session of this.#sessions.values()) {
      if (session.state !== 'open' || session.entered === 0) continue;
      const last = Math.max(seen.get(session.id) ?? 0, session.lastSeenAt);
      session.lastSeenAt = last;
      if (this.#clock - last < this.#o.settings.lostAfterMs) continue;
      this.#o.metrics.rejects.inc({ code: 'EDGE_ERR_CHECKOUT_VISIT_LOST' });
      this.#o.logger.warn({ sessionId: session.id }, 'no person of the visit seen for lostAfterMs: ending it as of the last sighting');
      this.#append<SessionExited>(types.sessionExited, `session-exit:${session.id}`, { sessionId: session.id, at: last, how: 'lost' });
    }
  }

  /** Trays the visit reached whose weight is held undecided, with no hand of anyone in view near them now: decide them. */
  #decideUnattended(session: Session, busy: ReadonlyMap<string, number>): void {
    if (this.#o.decideHeld === undefined || session.reached === undefined) return;
    const visible = this.#book.persons().filter((p) => !p.gone);
    const trays = [...session.reached].filter((trayId) => {
      const tray = this.#trays.get(trayId);
      if (!busy.has(trayId) || tray === undefined) return false;
      return !visible.some((p) => (p.samples.at(-1)?.hands ?? []).some((h) => Math.hypot(h.x - tray.x, h.y - tray.y, h.z - tray.z) < 0.5));
    });
    if (trays.length > 0) this.#o.decideHeld(trays);
  }

  /**
   * Does the session hold `units` of `sku`: an open one in its cart, one that left within the
   * track history (`tracks.historyMs`) on its receipt, less what was refunded?
   */
  #stillHolds(x: Session, sku: string, units: number): boolean {
    if (x.state !== 'closed') return (this.#held(x).get(sku) ?? 0) >= units;
    const receipt = x.receiptId === null ? undefined : this.#receipts.get(x.receiptId);
    if (receipt === undefined || receipt.issuedAt < this.#clock - this.#book.options.historyMs) return false;
    const count = (lines: ReadonlyArray<{ sku: string; quantity: number }>) => lines.filter((l) => l.sku === sku).reduce((n, l) => n + l.quantity, 0);
    return count(receipt.lines) - count(receipt.corrections.flatMap((c) => c.lines)) >= units;
  }

  /**
   * A unit of `change.sku` handed over by `giver` and put back by the receiver leaves the giver's cart — or, when the giver has
   * left, is refunded on their receipt. Below the review threshold a manager decides either way (until the seventeenth session a
   * giver who had left stayed charged without a review).
   */
  #handedOver(change: ShelfChange, giver: Session, units: number, confidence: number, live: readonly Candidate[], verdict?: VisionVerdict): void {
    const lines = [{ sessionId: giver.id, sku: change.sku!, quantity: -units }];
    const candidates = [...live, asCandidate(giver.id)];
    if (giver.state !== 'closed') return this.#commitLines(change, lines, confidence, 'put-back-handed-over', candidates, verdict);
    if (confidence < this.#o.settings.reviewThreshold) return this.#openReview(change, candidates, lines, confidence, 'put-back-handed-over');
    this.correctReceipt(giver.receiptId!, {
      lines: [{ sku: change.sku!, quantity: units }],
      reason: `put back on ${change.trayId} by the person it was handed to`,
      actor: 'checkout',
      changeId: change.id,
    });
  }

  /**
   * Units of `sku` the session took from `trayId` and still holds by its lines there (picks less put-backs and hand-overs back),
   * counting what its open review items there propose (as `#held` does).
   */
  #tookFrom(session: Session, sku: string, trayId: string): number {
    let n = session.lines.reduce((sum, l) => (l.sku === sku && l.trayId === trayId ? sum + l.quantity : sum), 0);
    for (const id of session.reviews) {
      const review = this.#reviews.get(id);
      if (review?.state !== 'open' || review.trayId !== trayId) continue;
      for (const p of review.proposal) if (p.sessionId === session.id && p.sku === sku) n += p.quantity;
    }
    return n;
  }

  /**
   * Of several visits holding the SKU put back, the one that handed it to the putter: the one
   * whose hands were at the putter's hands, away from the shelves, in clearly the most tracker
   * frames since it first took the SKU (a hand-over lasts a moment; people standing side by side
   * touch hands now and then too, so one frame does not make a giver). None when it is not clear.
   */
  #giver(holders: readonly Session[], putter: string, sku: string, before: number): Session[] {
    const frames = holders
      .map((h) => {
        const picks = h.lines.filter((l) => l.sku === sku && l.quantity > 0).map((l) => l.evidenceAt);
        return { holder: h, frames: picks.length === 0 ? 0 : this.#handOverFrames(h.id, putter, Math.min(...picks) - HAND_OFF_LOOKBACK_MS, before) };
      })
      .sort((x, y) => y.frames - x.frames);
    const [first, second] = frames;
    return first !== undefined && first.frames >= 2 && (second?.frames ?? 0) * 3 <= first.frames ? [first.holder] : [];
  }

  /**
   * Tracker frames in [from, before) in which a hand of session `a` was within HAND_OFF_REACH_M of
   * one of session `b`'s, both away from the shelves, with the two persons HAND_OFF_APART_M apart
   * or more (both reaching out).
   */
  #handOverFrames(a: string, b: string, from: number, before: number): number {
    const trays = [...this.#trays.values()];
    const awayFromShelves = (h: Point3) => trays.every((t) => Math.hypot(h.x - t.x, h.y - t.y, h.z - t.z) > HAND_AT_TRAY_M);
    let n = 0;
    for (const p of this.#book.personsOf(a)) {
      for (const q of this.#book.personsOf(b)) {
        let j = 0;
        for (const sp of p.samples) {
          if (sp.at < from) continue;
          if (sp.at >= before) break;
          while (j < q.samples.length && q.samples[j]!.at < sp.at) j++;
          const sq = q.samples[j];
          if (sq === undefined || sq.at !== sp.at || Math.hypot(sp.x - sq.x, sp.y - sq.y) < HAND_OFF_APART_M) continue;
          if (sp.hands.some((hp) => sq.hands.some((hq) => Math.hypot(hp.x - hq.x, hp.y - hq.y, hp.z - hq.z) <= HAND_OFF_REACH_M && awayFromShelves(hp) && awayFromShelves(hq)))) n++;
        }
      }
    }
    return n;
  }

  /**
   * Were the visit's hands at a tray whose weight is still undecided, since it became so? Then
   * evidence of the visit may be pending. (A tray someone else handles after the visit left it
   * holds nothing of the visit's.)
   */
  #touchedBusy(session: Session, busy: ReadonlyMap<string, number>): boolean {
    if (busy.size === 0) return false;
    // The trays its hands reached in its last minute: worked out once, at the first check after the exit.
    if (session.reached === undefined) {
      const persons = this.#book.personsOf(session.id);
      const window = { startAt: session.exitAt! - 60_000, settledAt: session.exitAt! };
      session.reached = new Set(
        [...this.#trays.values()].filter((tray) => candidatesAt(persons, tray, window, this.#o.settings.attribution).some((c) => c.score >= REACHED_SCORE)).map((t) => t.trayId),
      );
    }
    const persons = this.#book.personsOf(session.id);
    for (const [trayId, since] of busy) {
      const tray = this.#trays.get(trayId);
      if (tray === undefined || !session.reached.has(trayId)) continue;
      const window = { startAt: since, settledAt: session.exitAt! };
      if (candidatesAt(persons, tray, window, this.#o.settings.attribution).some((c) => c.score >= REACHED_SCORE)) return true;
    }
    return false;
  }

  #issueReceipt(session: Session): void {
    const catalog = this.#catalog();
    const cart = [...this.#cart(session)].filter(([, n]) => n > 0).map(([sku, quantity]) => ({ sku, quantity }));
    let priceBook = new Map<string, PriceBookItem>();
    let promotions = this.#o.settings.promotions as Promotion[];
    if (this.#o.prices) {
      // Each SKU at its lowest unit price between the moment its units were taken and the exit (a rise after the pick is not charged).
      const taken = session.lines.filter((l) => l.quantity > 0).map((l) => ({ sku: l.sku, at: l.evidenceAt }));
      priceBook = this.#o.prices.cartPriceBook(taken, this.#clock);
      promotions = this.#o.prices.cartPromotionsAt(this.#clock);
      // A SKU the price book has not been given yet (a store model changed since start): its catalogue price.
      for (const { sku } of cart) {
        const item = catalog.get(sku);
        if (!priceBook.has(sku) && item) priceBook.set(sku, { sku, name: item.name, priceMinor: item.priceMinor, currency: item.currency });
      }
      const labels = this.#o.labels;
      if (labels) {
        for (const item of priceBook.values()) {
          const seen = [...taken.filter((t) => t.sku === item.sku).map((t) => t.at), this.#clock];
          for (const at of seen) {
            const shown = labels.labelPriceFor(item.sku, at);
            if (shown !== null && shown < item.priceMinor) priceBook.set(item.sku, { ...item, priceMinor: shown });
          }
          for (const at of seen) labels.recordCharge({ sku: item.sku, unitPriceMinor: priceBook.get(item.sku)!.priceMinor, at });
        }
      }
    } else {
      for (const { sku } of cart) {
        const item = catalog.get(sku)!;
        priceBook.set(sku, { sku, name: item.name, priceMinor: item.priceMinor, currency: item.currency });
      }
    }
    const priced = priceCart(cart, priceBook, promotions, { at: this.#clock });
    const receiptId = `rc-${session.id.slice(2)}`;
    const reviewed = [...session.reviews].length > 0;
    this.#append<ReceiptIssued>(
      types.receiptIssued,
      `receipt:${session.id}`,
      {
        receiptId,
        sessionId: session.id,
        token: session.token,
        ...priced,
        currency: priced.currency || (this.#model?.catalog[0]?.currency ?? 'EUR'),
        exitAt: session.exitAt!,
        issuedAt: this.#clock,
        reviewed,
        minConfidence: session.lines.reduce((m, l) => Math.min(m, l.confidence), 1),
      },
      true,
    );
    this.#pay(receiptId);
  }

  #refund(receiptId: string, correctionId: string, token: string): void {
    const receipt = this.#receipts.get(receiptId)!;
    const correction = receipt.corrections.find((c) => c.correctionId === correctionId)!;
    this.#o.payment
      .refund({ receiptId, correctionId, token, amountMinor: correction.amountMinor, currency: receipt.currency })
      .then((result) => {
        this.#append<RefundResult>(types.refundResult, `refund:${receiptId}:${correctionId}`, { receiptId, correctionId, status: result.status, reference: result.reference, at: this.#clock }, true);
      })
      .catch((err: unknown) => this.#o.logger.error({ err, receiptId, correctionId }, 'refund hand-off failed; retried on restart'));
  }

  #pay(receiptId: string): void {
    const receipt = this.#receipts.get(receiptId)!;
    const session = this.#sessions.get(receipt.sessionId)!;
    this.#o.publish(receipt);
    if (receipt.totalMinor === 0) {
      // Nothing to charge: no hand-off (an empty cart gets its receipt, not a zero charge).
      this.#append<PaymentResult>(types.paymentResult, `payment:${receiptId}`, { receiptId, status: 'approved', reference: null, at: this.#clock }, true);
      return;
    }
    this.#o.payment
      .charge({ receiptId, sessionId: session.id, token: session.token, amountMinor: receipt.totalMinor, currency: receipt.currency })
      .then((result) => {
        this.#append<PaymentResult>(types.paymentResult, `payment:${receiptId}`, { receiptId, status: result.status, reference: result.reference, at: this.#clock }, true);
      })
      .catch((err: unknown) => this.#o.logger.error({ err, receiptId }, 'payment hand-off failed; retried on restart'));
  }

  // ── ledger → state ───────────────────────────────────────────────────────────────────

  #append<P>(type: string, key: string, payload: P, outbox = false): void {
    const { event, duplicate } = this.#o.ledger.append({ type, stream, key, payload, outbox });
    if (!duplicate) this.#apply(event);
  }

  #replay(): void {
    this.#replaying = true;
    try {
      let from = 1;
      for (;;) {
        const batch = this.#o.ledger.events({ stream, fromSeq: from, limit: 10_000 });
        for (const event of batch) this.#apply(event);
        if (batch.length < 10_000) break;
        from = batch.at(-1)!.seq + 1;
      }
      // Shelf changes already read: the inventory has them; the checkout decided them before the restart or never will.
      for (const event of this.#o.ledger.events({ stream: 'inventory', type: 'inventory.shelf.changed' })) {
        this.#decided.add((event.payload as { change: ShelfChange }).change.id);
      }
    } finally {
      this.#replaying = false;
    }
    // Changes that were waiting for the camera when the process died: a manager decides them (never lost, never guessed).
    for (const [changeId, deferred] of this.#deferred) {
      this.#deferred.delete(changeId);
      const candidates = deferred.sessionIds.map(asCandidate);
      this.#openReview(deferred.change as ShelfChange, candidates, [], 0, 'decision-interrupted');
      this.#append<ChangeDecided>(types.changeDecided, `decided:${changeId}`, { changeId, at: this.#clock });
    }
    // Receipts written but not paid (the process died in between): hand them to payment again (idempotent by receipt id).
    for (const receipt of this.#receipts.values()) {
      if (receipt.payment.status === 'pending') this.#pay(receipt.receiptId);
      const token = this.#sessions.get(receipt.sessionId)?.token;
      for (const c of receipt.corrections) if (c.refund.status === 'pending' && token !== undefined) this.#refund(receipt.receiptId, c.correctionId, token);
    }
  }

  #apply(event: LedgerEvent): void {
    switch (event.type) {
      case types.sessionOpened: {
        const p = event.payload as SessionOpened;
        const session: Session = {
          id: p.sessionId,
          token: p.token,
          party: p.party,
          gate: p.gate,
          state: 'open',
          openedAt: p.at,
          exitAt: null,
          lines: [],
          reviews: new Set(),
          receiptId: null,
          persons: new Set(),
          entered: 0,
          exited: new Set(),
          lastExitAt: 0,
          lastSeenAt: p.at,
        };
        this.#sessions.set(session.id, session);
        this.#byToken.set(tokenKey(p.token), session.id);
        this.#book.expectEntry(session.id, p.gate, p.at, p.party);
        this.#advance(p.at);
        break;
      }
      case types.personDoubted: {
        const p = event.payload as PersonDoubted;
        if (this.#replaying) this.#book.markDoubt(p.personIds, p.since);
        break;
      }
      case types.personCleared: {
        const p = event.payload as PersonCleared;
        if (this.#replaying) this.#book.clearDoubt(p.personIds, p.at);
        break;
      }
      case types.personBound: {
        const p = event.payload as PersonBound;
        if (this.#replaying) {
          this.#book.restore(p.trackId, p.personId, p.sessionId, p.at);
          if (p.doubtWith) this.#book.markDoubt([p.personId, ...p.doubtWith], p.doubtSince ?? p.at);
          if (p.how === 'entered' && p.sessionId !== null) this.#book.consumeEntry(p.sessionId);
        }
        const session = p.sessionId === null ? undefined : this.#sessions.get(p.sessionId);
        if (session) {
          session.persons.add(p.personId);
          if (p.how === 'entered') session.entered++;
        }
        break;
      }
      case types.personExited: {
        const p = event.payload as PersonExited;
        const session = this.#sessions.get(p.sessionId);
        if (session) {
          session.exited.add(p.personId);
          session.lastExitAt = Math.max(session.lastExitAt, p.at);
        }
        break;
      }
      case types.sessionExited: {
        const p = event.payload as SessionExited;
        const session = this.#sessions.get(p.sessionId);
        if (session && session.state === 'open') {
          session.state = 'exiting';
          session.exitAt = p.at;
        }
        break;
      }
      case types.cartChanged: {
        const p = event.payload as CartChanged;
        const session = this.#sessions.get(p.sessionId);
        session?.lines.push({ changeId: p.changeId, trayId: p.trayId, sku: p.sku, quantity: p.quantity, confidence: p.confidence, reason: p.reason, evidenceAt: p.evidenceAt, addedAt: p.at });
        if (p.reason === 'put-on-wrong-tray' || p.reason === 'put-back-lookalike') this.#addForeignReplay(p.trayId, p.sku, -p.quantity);
        if (p.reason === 'pick-misplaced-unit' || p.foreign) this.#addForeignReplay(p.trayId, p.sku, -p.quantity);
        this.#decided.add(p.changeId);
        break;
      }
      case types.reviewOpened: {
        const p = event.payload as ReviewOpened;
        this.#reviews.set(p.reviewId, { id: p.reviewId, state: 'open', changeId: p.changeId, trayId: p.trayId, reason: p.reason, sessionIds: p.sessionIds, proposal: p.proposal, ...(p.alternatives ? { alternatives: p.alternatives } : {}), confidence: p.confidence, openedAt: p.openedAt, resolution: null });
        for (const id of p.sessionIds) this.#sessions.get(id)?.reviews.add(p.reviewId);
        this.#decided.add(p.changeId);
        break;
      }
      case types.changeDeferred: {
        const p = event.payload as ChangeDeferred;
        if (this.#replaying) this.#deferred.set(p.changeId, p);
        break;
      }
      case types.changeDecided:
        this.#deferred.delete((event.payload as ChangeDecided).changeId);
        break;
      case types.reviewResolved: {
        const p = event.payload as ReviewResolved;
        const review = this.#reviews.get(p.reviewId);
        if (review) {
          review.state = 'resolved';
          review.resolution = p;
          // A line to a visit that had left was a refund, not a cart line: a foreign unit it names lies on the tray.
          // (Lines to visits still inside come back as their cart lines, `foreign` marked.)
          const traySkus = this.#traySkus(review.trayId);
          for (const line of p.lines) {
            const refund = line.quantity < 0 && this.#sessions.get(line.sessionId)?.state === 'closed';
            if (refund && traySkus !== undefined && !traySkus.has(line.sku)) this.#addForeignReplay(review.trayId, line.sku, -line.quantity);
          }
        }
        break;
      }
      case types.receiptIssued: {
        const p = event.payload as ReceiptIssued;
        const { token: _token, ...receipt } = p;
        this.#receipts.set(p.receiptId, { ...receipt, payment: { status: 'pending', reference: null }, corrections: [] });
        const session = this.#sessions.get(p.sessionId);
        if (session) {
          session.state = 'closed';
          session.receiptId = p.receiptId;
        }
        this.#o.bus.emit('checkout.receipt', this.#receipts.get(p.receiptId)!);
        break;
      }
      case types.paymentResult: {
        const p = event.payload as PaymentResult;
        const receipt = this.#receipts.get(p.receiptId);
        if (receipt) receipt.payment = { status: p.status, reference: p.reference };
        break;
      }
      case types.receiptCorrected: {
        const p = event.payload as ReceiptCorrected;
        this.#receipts.get(p.receiptId)?.corrections.push({ ...p, refund: { status: 'pending', reference: null } });
        break;
      }
      case types.refundResult: {
        const p = event.payload as RefundResult;
        const correction = this.#receipts.get(p.receiptId)?.corrections.find((c) => c.correctionId === p.correctionId);
        if (correction) correction.refund = { status: p.status, reference: p.reference };
        break;
      }
    }
  }

  /** During live fusion #addForeign is called directly; replay rebuilds the same map from the cart lines. */
  #addForeignReplay(trayId: string, sku: string, units: number): void {
    if (this.#replaying) this.#addForeign(trayId, sku, units);
  }

  // ── helpers ───────────────────────────────────────────────────────────────────────────

  /** The SKUs the store model faces on a tray; undefined when no model or no such tray. */
  #traySkus(trayId: string): Set<string> | undefined {
    this.#skusByTray ??= new Map(this.#model === null ? [] : trayPlacements(this.#model).map((p) => [p.tray.id, new Set(p.tray.facings.map((f) => f.sku))]));
    return this.#skusByTray.get(trayId);
  }

  #cart(session: Session): Map<string, number> {
    const cart = new Map<string, number>();
    for (const line of session.lines) cart.set(line.sku, (cart.get(line.sku) ?? 0) + line.quantity);
    return cart;
  }

  /** What the session is believed to hold: its cart plus the best guesses of its open review items (a put-back may return one). */
  #held(session: Session): Map<string, number> {
    const held = this.#cart(session);
    for (const id of session.reviews) {
      const review = this.#reviews.get(id);
      if (review?.state !== 'open') continue;
      for (const p of review.proposal) if (p.sessionId === session.id) held.set(p.sku, (held.get(p.sku) ?? 0) + p.quantity);
    }
    return held;
  }

  #view(s: Session): SessionView {
    return {
      id: s.id,
      state: s.state,
      party: s.party,
      openedAt: s.openedAt,
      exitAt: s.exitAt,
      persons: s.persons.size,
      cart: [...this.#cart(s)].filter(([, n]) => n !== 0).map(([sku, quantity]) => ({ sku, quantity })).sort((a, b) => a.sku.localeCompare(b.sku)),
      lines: [...s.lines],
      openReviews: [...s.reviews].filter((id) => this.#reviews.get(id)?.state === 'open'),
      receiptId: s.receiptId,
    };
  }

  #catalog(): Map<string, StoreModel['catalog'][number]> {
    return new Map((this.#model?.catalog ?? []).map((c) => [c.sku, c]));
  }

  #refreshModel(): void {
    const model = this.#o.model();
    if (model === this.#model) return;
    this.#model = model;
    this.#trays = model ? trayPoints(model) : new Map();
    this.#twins = null;
    this.#skusByTray = null;
    // Persons and their bindings survive a model swap; only the lanes change.
    this.#book.setGates(model?.gates ?? []);
  }

  #advance(at: number): void {
    if (at > this.#clock) this.#clock = at;
    // Whatever moves the store clock ends a wait for a hand that is over (the tracker may have gone quiet).
    this.#lookForHands(this.#clock);
  }

  #reject(deviceId: string, code: string, message: string): void {
    this.#o.metrics.reject(deviceId, code);
    this.#o.logger.warn({ deviceId, code }, message);
  }
}

/** Tokens are looked up by hash: the map does not keep them in the clear longer than the session row does. */
/** A visit a review names (or a line goes to) that no hand at the tray put forward: a holder, a giver, a visit in doubt. */
function asCandidate(sessionId: string): Candidate {
  return { sessionId, score: 0, closestM: Number.NaN, persons: [] };
}

function tokenKey(token: string): string {
  return createHash('sha256').update(token).digest('hex').slice(0, 32);
}

function fitConfidence(z: number): number {
  return Math.exp(-(z * z) / 8);
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** Per SKU, what one unit cost the shopper on this receipt: its line amount less its share of the discounts that cover it. */
function paidPerUnit(receipt: Pick<ReceiptIssued, 'lines' | 'discounts'>): Map<string, number> {
  const amount = new Map(receipt.lines.map((l) => [l.sku, l.amountMinor]));
  for (const discount of receipt.discounts) {
    const covered = discount.skus.filter((sku) => amount.has(sku));
    const base = covered.reduce((sum, sku) => sum + receipt.lines.find((l) => l.sku === sku)!.amountMinor, 0);
    for (const sku of covered) {
      const share = base === 0 ? 0 : (discount.amountMinor * receipt.lines.find((l) => l.sku === sku)!.amountMinor) / base;
      amount.set(sku, amount.get(sku)! - share);
    }
  }
  return new Map(receipt.lines.map((l) => [l.sku, Math.max(0, amount.get(l.sku)!) / l.quantity]));
}
