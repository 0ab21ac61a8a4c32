import type { VisionVerdict } from './vision-evidence.ts';
import type { PricedCart } from './pricing.ts';

/** Ledger event types of the checkout (stream "checkout"); docs/checkout.md lists them. */
export const checkoutEventTypes = {
  sessionOpened: 'checkout.session.opened',
  personBound: 'checkout.person.bound',
  personDoubted: 'checkout.person.doubted',
  personCleared: 'checkout.person.cleared',
  personExited: 'checkout.person.exited',
  sessionExited: 'checkout.session.exited',
  cartChanged: 'checkout.cart.changed',
  reviewOpened: 'checkout.review.opened',
  reviewResolved: 'checkout.review.resolved',
  receiptIssued: 'checkout.receipt.issued',
  paymentResult: 'checkout.payment.result',
  refundResult: 'checkout.refund.result',
  receiptCorrected: 'checkout.receipt.corrected',
  changeDeferred: 'checkout.change.deferred',
  changeDecided: 'checkout.change.decided',
} as const;

/** An entry scan opened a visit. The token is the shopper's pseudonymous per-visit token (app QR or payment token), never a name or card number. */
export interface SessionOpened {
  sessionId: string;
  token: string;
  party: number;
  gate: string;
  at: number;
}

/** A tracker's track id now stands for this person (entered with a party, continued after a dropout, or mapped back after a swap). */
export interface PersonBound {
  personId: string;
  trackId: string;
  sessionId: string | null;
  how: 'entered' | 'stitched' | 'swapped';
  at: number;
  /** A doubtful stitch: other visits' persons that had vanished about as near (all of them may be mixed up from `doubtSince` on). */
  doubtWith?: string[];
  /** When the doubt begins (at or before `at`); events written before it was recorded have none: `at`. */
  doubtSince?: number;
}

/** These persons (of different visits) may be mixed up from `since` on: the tracker may have swapped their ids as one's track appeared. */
export interface PersonDoubted {
  personIds: string[];
  since: number;
  at: number;
}

/** Persons in doubt that appearance showed to be themselves: from `at` on their actions are theirs again. */
export interface PersonCleared {
  personIds: string[];
  at: number;
}

/** A person of a visit left through the exit lane. */
export interface PersonExited {
  personId: string;
  sessionId: string;
  at: number;
}

export interface SessionExited {
  sessionId: string;
  /** Device time the last person of the party left (or the exit scan). */
  at: number;
  /** tracks: the party left through the exit lane; scan: an exit scan; lost: nobody of the party was seen for lostAfterMs. */
  how: 'tracks' | 'scan' | 'lost';
}

/** One cart line: units added (> 0) or taken off (< 0) a session's virtual cart, with its evidence. */
export interface CartChanged {
  sessionId: string;
  /** The shelf change it came from (the inventory's ledger has it too). */
  changeId: string;
  trayId: string;
  sku: string;
  quantity: number;
  confidence: number;
  /** pick, put-back, put-back-lookalike, put-back-handed-over, put-on-wrong-tray, pick-misplaced-unit, shared, review. */
  reason: string;
  evidenceAt: number;
  at: number;
  /** What the shelf camera saw, when it was asked (a same-weight look-alike, a unit on a wrong tray). */
  vision?: VisionVerdict;
  /** A manager's line (`review`) for a unit of a SKU the tray does not hold: it now lies on that tray (quantity < 0) or was taken from it. */
  foreign?: true;
}

/**
 * A shelf change whose decision waits for the shelf camera (written when it is asked, before the
 * device's message is acknowledged). If the agent dies before `ChangeDecided`, the change is not
 * lost: on restart it goes to review for the visits whose hands were near the tray.
 */
export interface ChangeDeferred {
  changeId: string;
  /** The whole shelf change, as the weight pipeline reported it. */
  change: unknown;
  /** Visits whose hands came near the tray while it changed (the review names them). */
  sessionIds: string[];
  at: number;
}

/** A deferred shelf change was decided (cart lines, a review, or nothing to charge). */
export interface ChangeDecided {
  changeId: string;
  at: number;
}

export interface CartLineProposal {
  sessionId: string;
  sku: string;
  /** Signed units for that session's cart. */
  quantity: number;
}

/** Evidence too weak to charge: a manager decides (GET /api/review, POST /api/review/:id/resolve). */
export interface ReviewOpened {
  reviewId: string;
  changeId: string;
  trayId: string;
  reason: string;
  /** Sessions that may be meant (the receipt of each waits for the decision). */
  sessionIds: string[];
  /** The best guess, if there is one. */
  proposal: CartLineProposal[];
  /** Other readings the checkout weighed (a unit handed over by another visit instead of the putter's look-alike); absent when none. */
  alternatives?: CartLineProposal[][];
  confidence: number;
  change: { deltaG: number; sku: string | null; quantity: number; confidence: number; startAt: number; settledAt: number };
  openedAt: number;
}

export interface ReviewResolved {
  reviewId: string;
  lines: CartLineProposal[];
  actor: string;
  at: number;
}

export interface ReceiptIssued extends PricedCart {
  receiptId: string;
  sessionId: string;
  /** For the payment hand-off only; the API never shows it. */
  token: string;
  exitAt: number;
  issuedAt: number;
  /** A manager resolved evidence of this visit. */
  reviewed: boolean;
  /** The lowest confidence among the visit's cart lines (1 without lines). */
  minConfidence: number;
}

export interface PaymentResult {
  receiptId: string;
  status: 'approved' | 'declined';
  reference: string | null;
  at: number;
}

export interface RefundResult {
  receiptId: string;
  correctionId: string;
  status: 'approved' | 'declined';
  reference: string | null;
  at: number;
}

/** A refund after the fact: a new event, the receipt is never edited. */
export interface ReceiptCorrected {
  receiptId: string;
  correctionId: string;
  lines: Array<{ sku: string; quantity: number; amountMinor: number }>;
  amountMinor: number;
  reason: string;
  actor: string;
  /** The shelf change that caused it, when the checkout made it (a handed-over unit put back after the picker left). */
  changeId?: string;
  at: number;
}
