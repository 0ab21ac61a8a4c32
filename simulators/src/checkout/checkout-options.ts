import { z } from 'zod';

/**
 * The `checkout` section of a scenario file: who comes into the walk-out store, what they do
 * at the shelves and how the overhead tracker sees them (research/checkout.md §5.2 cases,
 * §5.4 tracking noise). Schema and defaults side by side; every field has a default, and an
 * unknown field is rejected so a typo does not silently fall back to one.
 */

const ms = z.number().finite().nonnegative();
const share = z.number().min(0).max(1);
const weight = z.number().finite().nonnegative();

/** [low, high], drawn uniformly. */
function range(max: number) {
  return z
    .tuple([z.number().finite().nonnegative().max(max), z.number().finite().nonnegative().max(max)])
    .refine(([lo, hi]) => lo <= hi, 'range must be [low, high]');
}

function intRange(min: number, max: number) {
  return z
    .tuple([z.number().int().min(min).max(max), z.number().int().min(min).max(max)])
    .refine(([lo, hi]) => lo <= hi, 'range must be [low, high]');
}

export const checkoutShopperOptions = z.strictObject({
  /** Visits (entry scans) to simulate. Default 20 when `concurrent` is not set; with `concurrent`, a cap (default: none). */
  visits: z.number().int().positive().max(1_000_000).optional(),
  /** Mean visits per minute (Poisson arrivals) when `concurrent` is not set. Default 2. */
  arrivalPerMin: z.number().positive().max(600).default(2),
  /** Keep about this many persons in the store: a visit comes in whenever there is room (the gate admits one party at a time). */
  concurrent: z.number().int().positive().max(200).optional(),
  /** No visit comes in and nobody starts a new action after this; everyone still in the store walks out. Default 10 min. */
  durationMs: z.number().positive().max(7 * 24 * 3_600_000).default(600_000),
});

export const checkoutPartyOptions = z.strictObject({
  /** Share of visits where one token admits a group (research/checkout.md §5.4 "group entry"). Default 0.1. */
  groupShare: share.default(0.1),
  /** Persons in a group, inclusive. Default 2–4. */
  sizes: intRange(2, 12).default([2, 4]),
});

/**
 * Relative weights of what a shopper does at each step. Steps that need something missing (a
 * held unit, other shoppers close by in time) fall back to a plain pick.
 */
export const checkoutMix = z.strictObject({
  /** Take 1..maxUnits units from a tray. */
  pick: weight.default(1),
  /** Put a held unit back on the tray it came from. */
  putBack: weight.default(0.15),
  /** Put a held unit on another tray (`sameWeightShare` of them on a tray whose SKU weighs within 5 g). */
  wrongTray: weight.default(0.05),
  /** A pick with the hand resting on the tray for `longHoldMs` before the lift. */
  longHold: weight.default(0.05),
  /** Give a held unit to a person of another visit standing within 1 m (no sensor sees it). */
  handOff: weight.default(0.03),
  /** Two persons of different visits pick from two trays of one bay at the same time. */
  sameBay: weight.default(0.03),
  /** Two persons of different visits pick one unit each from one tray within 0.5 s. */
  sameTraySameTime: weight.default(0.02),
  /** Four persons of different visits stand within 1 m of each other and each pick from the trays in front of them. */
  fourClose: weight.default(0.01),
});

export const checkoutTrackerOptions = z.strictObject({
  /** The tracker's device id. Default 'tracker-1'. */
  deviceId: z.string().min(1).max(64).regex(/^[A-Za-z0-9._:-]+$/, 'ids are letters, digits and . _ : -').default('tracker-1'),
  /** Frames per second (research/checkout.md §5.4: 10–30 fps). Default 10. */
  fps: z.number().positive().max(60).default(10),
  /** Torso position noise, σ in metres per axis. Default 0.05. */
  positionSigmaM: z.number().nonnegative().max(5).default(0.05),
  /** Hand position noise, σ in metres per axis (§5.4: 3–10 cm). Default 0.05. */
  handSigmaM: z.number().nonnegative().max(5).default(0.05),
  /** Chance a hand is missing from a frame (§5.4: 5–30 % when occluded). Default 0.05. */
  handDropout: share.default(0.05),
  /** Track losses per person per minute: the person is hidden for `trackDropoutMs` and comes back under a new track id. Default 0.2. */
  trackDropoutPerMin: z.number().nonnegative().max(60).default(0.2),
  trackDropoutMs: range(60_000).default([500, 3_000]),
  /** Two persons closer than this are a close encounter; at each one their track ids swap with `swapProbability` (§5.4). */
  swapDistanceM: z.number().nonnegative().max(5).default(0.5),
  swapProbability: share.default(0.1),
  /**
   * The tracker's appearance descriptor (re-identification, as trackers that keep identity with
   * appearance features do — research/checkout.md §1.1): a unit vector of `dims` numbers per
   * track and frame, computed from the pixels of whoever stands there (so it follows the body,
   * not the id). Persons wear one of `styles` looks (those of one style look alike), varied by
   * `personal`; each frame adds noise of norm about `noise` and a drift of norm about `drift`
   * that changes over `driftMs` (pose and light: averaging frames helps only so far), and a
   * person closer than `occlusionM` to another mixes in up to half of the other's look. The
   * defaults name the right one of 50 persons from one frame 86 % of the time and from ten 96 %
   * (a re-identification model scores 94.5 % rank-1 on Market-1501's 750 persons, Luo et al.
   * 2019; an overhead view is harder). `dims` 0: no descriptor.
   */
  look: z
    .strictObject({
      dims: z.number().int().min(0).max(64).default(16),
      styles: z.number().int().min(1).max(1_000).default(12),
      personal: z.number().nonnegative().max(10).default(0.5),
      noise: z.number().nonnegative().max(10).default(0.5),
      drift: z.number().nonnegative().max(10).default(0.5),
      driftMs: z.number().positive().max(3_600_000).default(5_000),
      occlusionM: z.number().nonnegative().max(5).default(0.4),
    })
    .prefault({}),
});

export const checkoutRestockOptions = z.strictObject({
  /** Staff refill a facing to capacity once it is at or below this share of capacity. Default 0.25. */
  belowShare: share.default(0.25),
  /** Time from running low to the restock starting. Default 5–20 s. */
  delayMs: range(3_600_000).default([5_000, 20_000]),
  handleMs: range(600_000).default([3_000, 6_000]),
});

export const checkoutActivity = z
  .strictObject({
    shoppers: checkoutShopperOptions.prefault({}),
    party: checkoutPartyOptions.prefault({}),
    /** Steps (behaviours of the mix) per person, inclusive. Default 2–6. */
    actionsPerPerson: intRange(1, 1_000).default([2, 6]),
    mix: checkoutMix.prefault({}),
    /** Largest number of units taken at once, and the share of picks that take more than one. */
    maxUnits: z.number().int().min(1).max(20).default(3),
    multiUnitShare: share.default(0.15),
    /** Share of wrong-tray put-backs that go on a tray whose SKU weighs within 5 g of the unit, when the catalog has one. Default 0.5. */
    sameWeightShare: share.default(0.5),
    /** Share of picks made from trays whose SKU has a same-weight twin (so same-weight swaps have units to swap). Default 0: trays uniformly. */
    sameWeightPickShare: share.default(0),
    /**
     * Share of picks from a tray holding a unit put there by mistake (a wrong-tray put-back) that take that unit instead of
     * the tray's own product — the hard case "put-back to a wrong plate … followed by a second shopper buying the misplaced
     * item" (research/checkout.md §5.2). Default 0: shoppers take the tray's own product.
     */
    misplacedPickShare: share.default(0),
    /** Share of hand-offs after which the receiver puts the unit back on its tray as the next step. Default 0.5. */
    handOffReturnShare: share.default(0.5),
    /** Walking speed per person, m/s. Default 0.8–1.3. */
    walkSpeedMps: range(5).default([0.8, 1.3]),
    /** Time a person stands at a tray before reaching (browsing). Default 1–5 s. */
    dwellMs: range(600_000).default([1_000, 5_000]),
    /** Time a hand is on the tray for a pick or put-back. Default 0.8–2.5 s. */
    handleMs: range(600_000).default([800, 2_500]),
    /** Long hold: the hand rests on the tray this long before the lift (§5.2: 5–30 s), pressing with `longHoldTouchG`. */
    longHoldMs: range(600_000).default([5_000, 30_000]),
    longHoldTouchG: range(50_000).default([200, 1_000]),
    /** A tray and its neighbours stay untouched this long before and after an action (except in the deliberate same-bay, same-tray and four-close cases). */
    trayQuietMs: ms.max(600_000).default(2_500),
    tracker: checkoutTrackerOptions.prefault({}),
    /** When true the exit gate also scans the token as the first party member reaches it; by default exits are seen only by tracks leaving through the exit. */
    exitScan: z.boolean().default(false),
    /** Staff restocks (announced through the agent's API before they happen); null = none. */
    restocks: checkoutRestockOptions.nullable().default(null),
  })
  .refine((c) => Object.values(c.mix).some((w) => w > 0), { message: 'mix: at least one weight must be > 0', path: ['mix'] })
  .refine((c) => c.walkSpeedMps[0] > 0, { message: 'walkSpeedMps must be > 0', path: ['walkSpeedMps'] })
  .refine((c) => c.handleMs[0] > 0, { message: 'handleMs must be > 0', path: ['handleMs'] });

/** What a scenario file may give: every field optional. */
export type CheckoutActivityInput = z.input<typeof checkoutActivity>;
/** The section with every default filled in. */
export type CheckoutActivity = z.output<typeof checkoutActivity>;
export type CheckoutTrackerOptions = z.output<typeof checkoutTrackerOptions>;
export type CheckoutMix = z.output<typeof checkoutMix>;
