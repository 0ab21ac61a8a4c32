/**
 * The payment hand-off: a token and an amount, nothing else (no card data passes through the
 * store). The chain's payment service implements it; `SimulatedPaymentService` stands in for
 * it in tests and simulations. Both calls must be idempotent by receipt (and correction) id:
 * after a restart the agent hands over again every receipt whose result it did not record.
 */
export interface ChargeRequest {
  receiptId: string;
  sessionId: string;
  token: string;
  amountMinor: number;
  currency: string;
}

export interface RefundRequest {
  receiptId: string;
  correctionId: string;
  token: string;
  amountMinor: number;
  currency: string;
}

export interface PaymentOutcome {
  status: 'approved' | 'declined';
  reference: string | null;
}

export interface PaymentService {
  charge(request: ChargeRequest): Promise<PaymentOutcome>;
  refund(request: RefundRequest): Promise<PaymentOutcome>;
}

/** Approves everything and remembers it, once per receipt id (a repeated hand-off returns the first outcome). */
export class SimulatedPaymentService implements PaymentService {
  readonly charges = new Map<string, ChargeRequest>();
  readonly refunds = new Map<string, RefundRequest>();
  /** Hand-offs seen, repeats included. */
  calls = 0;

  async charge(request: ChargeRequest): Promise<PaymentOutcome> {
    this.calls++;
    if (!this.charges.has(request.receiptId)) this.charges.set(request.receiptId, { ...request });
    return { status: 'approved', reference: `sim-${request.receiptId}` };
  }

  async refund(request: RefundRequest): Promise<PaymentOutcome> {
    this.calls++;
    const key = `${request.receiptId}/${request.correctionId}`;
    if (!this.refunds.has(key)) this.refunds.set(key, { ...request });
    return { status: 'approved', reference: `sim-${key}` };
  }
}
