// Shoppers: the visits in the store with their carts as they fill, and the latest receipts
// (lines, payment, corrections; a refund for managers).
import { productName, productNames } from '../catalog.js';
import { chip, h, keepFocus, money, refresher, replace, table, time } from '../dom.js';

const stateKind = { open: 'ok', exiting: 'info', 'in-review': 'warn', closed: '' };

export default {
  id: 'shoppers',
  title: 'Shoppers',
  async mount({ root, api, can, notify, param }) {
    const names = await productNames();
    const visits = h('div', { class: 'cards', id: 'visits', 'aria-live': 'polite' });
    const receipts = h('div', { id: 'receipts' });
    const detail = h('div', { id: 'receipt-detail' });
    const count = h('span', { class: 'count' });
    replace(
      root,
      h('div', { class: 'split wide-right' },
        h('section', { 'aria-labelledby': 'visits-title' }, h('h2', { id: 'visits-title' }, 'In the store ', count), visits),
        h('section', { 'aria-labelledby': 'receipts-title' }, h('h2', { id: 'receipts-title' }, 'Receipts'), receipts, detail)),
    );
    let selected = param;

    const cartTable = (cart) =>
      cart.length === 0
        ? h('p', { class: 'empty' }, 'Cart empty')
        : h('ul', { class: 'cart' }, cart.map((line) => h('li', { dataset: { sku: line.sku } }, h('span', { class: 'qty' }, `${line.quantity} ×`), ' ', productName(names, line.sku))));

    const renderVisits = (sessions) => {
      const inside = sessions.filter((s) => s.state !== 'closed').reverse();
      count.textContent = `(${inside.length})`;
      replace(
        visits,
        inside.length === 0
          ? h('p', { class: 'empty' }, 'Nobody is in the store.')
          : inside.map((s) =>
              h('article', { class: 'card visit', dataset: { session: s.id, state: s.state } },
                h('header', {}, h('strong', {}, s.id), ' ', chip(s.state, stateKind[s.state])),
                h('p', { class: 'meta' }, `in since ${time(s.openedAt)} · party of ${s.party}`, s.openReviews.length ? [' · ', h('a', { href: '#/review' }, `${s.openReviews.length} in review`)] : ''),
                cartTable(s.cart)),
            ),
      );
    };

    const showDetail = async (id) => {
      selected = id;
      if (id === null) return replace(detail);
      const r = await api.get(`/api/receipts/${encodeURIComponent(id)}`);
      const refund = can.refund ? refundForm(r) : h('p', { class: 'hint' }, 'Only a manager can refund.');
      replace(
        detail,
        h('article', { class: 'card receipt', dataset: { receipt: r.receiptId } },
          h('header', {}, h('h3', {}, `Receipt ${r.receiptId}`), h('button', { type: 'button', class: 'secondary', onclick: () => showDetail(null) }, 'Close')),
          h('p', { class: 'meta' }, `visit ${r.sessionId} · exit ${time(r.exitAt)} · issued ${time(r.issuedAt)} · payment ${r.payment.status}`),
          table('Receipt lines', ['Item', 'Qty', 'Unit', 'Amount'], r.lines, (l) =>
            h('tr', {}, h('td', {}, productName(names, l.sku)), h('td', { class: 'num' }, l.quantity), h('td', { class: 'num' }, money(l.unitPriceMinor, r.currency)), h('td', { class: 'num' }, money(l.amountMinor, r.currency))), 'No items.'),
          h('p', { class: 'total' }, r.discountMinor ? `discount ${money(-r.discountMinor, r.currency)} · ` : '', h('strong', {}, `total ${money(r.totalMinor, r.currency)}`)),
          r.corrections.length
            ? [h('h4', {}, 'Corrections'), h('ul', {}, r.corrections.map((c) => h('li', {}, `${money(-c.amountMinor, r.currency)} · ${c.reason} · by ${c.actor} at ${time(c.at)} · refund ${c.refund.status}`)))]
            : '',
          refund),
      );
    };

    const refundForm = (r) => {
      if (r.lines.length === 0) return '';
      const sku = h('select', { id: 'refund-sku', name: 'sku' }, r.lines.map((l) => h('option', { value: l.sku }, productName(names, l.sku))));
      const qty = h('input', { id: 'refund-qty', name: 'quantity', type: 'number', min: 1, max: r.lines[0].quantity, value: 1, required: true });
      sku.addEventListener('change', () => (qty.max = String(r.lines.find((l) => l.sku === sku.value)?.quantity ?? 1)));
      const reason = h('input', { id: 'refund-reason', name: 'reason', required: true, maxlength: 500, placeholder: 'e.g. damaged item returned' });
      const form = h('form', { class: 'inline-form', 'aria-label': 'Refund' },
        h('h4', {}, 'Refund'),
        h('label', { for: 'refund-sku' }, 'Item'), sku,
        h('label', { for: 'refund-qty' }, 'Qty'), qty,
        h('label', { for: 'refund-reason' }, 'Reason'), reason,
        h('button', { type: 'submit' }, 'Refund'));
      form.addEventListener('submit', async (event) => {
        event.preventDefault();
        if (!reason.value.trim()) return notify('A refund needs a reason.', 'error');
        try {
          await api.post(`/api/receipts/${encodeURIComponent(r.receiptId)}/corrections`, { lines: [{ sku: sku.value, quantity: Number(qty.value) }], reason: reason.value.trim() });
          notify('Refund recorded.');
          await showDetail(r.receiptId);
          reload.request();
        } catch (error) {
          notify(`Refund refused: ${error.message}`, 'error');
        }
      });
      return form;
    };

    const renderReceipts = (list) => {
      keepFocus(receipts, () => replace(
        receipts,
        table('Latest receipts', ['Time', 'Visit', 'Items', 'Total', 'Payment', ''], [...list].reverse(), (r) =>
          h('tr', { dataset: { receipt: r.receiptId } },
            h('td', {}, time(r.issuedAt)),
            h('td', { class: 'id' }, r.sessionId),
            h('td', { class: 'num' }, r.lines.reduce((n, l) => n + l.quantity, 0)),
            h('td', { class: 'num' }, money(r.totalMinor, r.currency)),
            h('td', {}, chip(r.payment.status, r.payment.status === 'approved' ? 'ok' : r.payment.status === 'declined' ? 'bad' : 'info'), r.reviewed ? [' ', chip('reviewed', 'info')] : '', r.corrections.length ? [' ', chip('refunded', 'warn')] : ''),
            h('td', {}, h('button', { type: 'button', class: 'secondary', onclick: () => showDetail(r.receiptId), 'aria-label': `Show receipt ${r.receiptId}` }, 'Show'))),
          'No receipts yet.'),
      ));
    };

    // Only the visits still in the store (closed ones are receipts): three small reads, not the day's visits.
    const reload = refresher(async () => {
      const [open, exiting, inReview, latest] = await Promise.all([
        api.get('/api/sessions?state=open&limit=1000'),
        api.get('/api/sessions?state=exiting&limit=1000'),
        api.get('/api/sessions?state=in-review&limit=1000'),
        api.get('/api/receipts?limit=50'),
      ]);
      renderVisits([...open.sessions, ...exiting.sessions, ...inReview.sessions].sort((a, b) => a.openedAt - b.openedAt));
      renderReceipts(latest.receipts);
    }, 1000);
    await reload.now();
    if (selected) await showDetail(selected).catch(() => undefined);
    const fallback = setInterval(() => reload.request(), 5000);
    return {
      onEvents(batch) {
        if (batch.some((e) => e.name === 'gate.scan' || e.name === 'shelf.change' || e.name === 'checkout.receipt')) reload.request();
      },
      unmount() {
        reload.stop();
        clearInterval(fallback);
      },
    };
  },
};
