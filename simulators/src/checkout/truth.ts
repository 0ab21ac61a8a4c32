/**
 * Ground truth of a checkout scenario. It stays inside the simulator: the agent sees only
 * device messages (gate scans, tracker frames, shelf weights) and the truth is compared with
 * what the agent charged only after the run. Times are simulated ms from the scenario start
 * (the runner adds its epoch before comparing with device time).
 */

/** The hard cases of research/checkout.md §1.5 and §5.2 an action can belong to (an action may have several). */
export type CheckoutCase =
  | 'single'
  | 'put-back'
  | 'wrong-tray'
  | 'same-weight-swap'
  | 'multi-unit'
  | 'long-hold'
  | 'same-bay'
  | 'same-tray-same-time'
  | 'hand-off'
  | 'four-close'
  | 'group'
  | 'crowded';

/** One visit: a token scanned at the entry lane admitting `party` people who share one cart. */
export interface TrueVisit {
  token: string;
  party: number;
  /** Person ids (simulator-internal, never sent) of the party, the token holder first. */
  persons: string[];
  /** Entry scan time, and the time the last person of the party left through the exit. */
  enterAt: number;
  exitAt: number;
}

/** One hand action at a tray, as it truly happened. */
export interface TrueShelfAction {
  /** 1-based order in the script. */
  n: number;
  /** pick: units leave the tray into the person's hands; put-back: units return to the tray they came from; misplace: units put on another tray. */
  kind: 'pick' | 'put-back' | 'misplace';
  /** Who did it, and the visit (token) whose cart the action changes — the picker's for a pick (policy: the picker is charged, hand-offs do not move charges); for a put-back or misplace, the visit that was charged for the units. */
  person: string;
  chargedTo: string;
  trayId: string;
  sku: string;
  units: number;
  /** Signed change of the tray's load, grams (each unit's own weight). */
  deltaG: number;
  /** Hand reaches the tray / leaves it. */
  startAt: number;
  endAt: number;
  cases: CheckoutCase[];
  /** Other persons whose hand or torso was within 1 m of the tray while the hand was there. */
  crowding: number;
}

/** A hand-off: `from` gives `units` of `sku` to `to` (no sensor sees it; charges stay with the picker). */
export interface TrueHandOff {
  at: number;
  from: string;
  to: string;
  sku: string;
  units: number;
}

export interface CheckoutTruth {
  visits: TrueVisit[];
  actions: TrueShelfAction[];
  handOffs: TrueHandOff[];
  /** What each visit should be charged at the end, per token: SKU → units (> 0 only). */
  carts: Map<string, Map<string, number>>;
}

/**
 * The carts that follow from the actions under the store's policy: picks add to `chargedTo`,
 * put-backs and misplacements take away from it (never below zero).
 */
export function cartsFromActions(visits: readonly TrueVisit[], actions: readonly TrueShelfAction[]): Map<string, Map<string, number>> {
  const carts = new Map<string, Map<string, number>>(visits.map((v) => [v.token, new Map()]));
  for (const action of [...actions].sort((a, b) => a.endAt - b.endAt)) {
    const cart = carts.get(action.chargedTo);
    if (cart === undefined) throw new Error(`action ${action.n} is charged to unknown visit ${action.chargedTo}`);
    const have = cart.get(action.sku) ?? 0;
    const next = action.kind === 'pick' ? have + action.units : Math.max(0, have - action.units);
    if (next === 0) cart.delete(action.sku);
    else cart.set(action.sku, next);
  }
  return carts;
}
