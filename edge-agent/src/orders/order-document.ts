import type { OrderBody } from '@storeedge/sync';
import type { DocumentHandler } from '../sync/document-handlers.ts';

/** What the order service says to an order document: a plan to apply in the document's transaction, or why not. */
export type OrderIntakePlan =
  | {
      ok: true;
      summary: Record<string, number>;
      /** The order's ledger events, inside the applier's transaction. */
      apply(): void;
      /** After the commit: LED flashes and the expiry timer. */
      afterCommit(): void;
    }
  | { ok: false; reason: string };

export interface OrderIntake {
  planOrder(body: OrderBody, source: { docId: string; docVersion: number }): OrderIntakePlan;
}

/**
 * `order` documents (docs/sync.md "Online orders"): the order service reserves stock, records the
 * order and its reservation in the document's one transaction, and after the commit flashes the
 * labels to pick. An order that does not fit this store (unknown SKU, an order id already
 * received, collectBy already past, no store model) is refused whole; a shortfall is not a
 * refusal — the order is accepted with it recorded.
 */
export const orderHandler: DocumentHandler = {
  kind: 'order',
  independentVersions: true,
  plan(raw, ctx) {
    const intake = ctx.parts.orders;
    if (intake === undefined) return { ok: false, code: 'SYNC_ERR_DOC_UNSUPPORTED_KIND', reason: 'this store runs no order service' };
    const planned = intake.planOrder(raw as OrderBody, { docId: ctx.header.id, docVersion: ctx.header.version });
    if (!planned.ok) return { ok: false, code: 'SYNC_ERR_DOC_BODY_INVALID', reason: planned.reason };
    return { ok: true, effectiveFrom: ctx.now(), summary: planned.summary, apply: planned.apply, afterCommit: planned.afterCommit };
  },
};
