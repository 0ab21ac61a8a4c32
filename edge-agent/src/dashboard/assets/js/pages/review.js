// Review queue: each uncertain shelf change with its evidence — the tray's weight trace, the
// weight pipeline's candidate SKUs and the candidate visits with the proposal's confidence —
// and one-click decisions for managers. The visit's receipt follows the decision.
import { productName, productNames } from '../catalog.js';
import { chip, h, pct, refresher, replace, table, time } from '../dom.js';
import { weightTracePlot } from '../plot.js';

export default {
  id: 'review',
  title: 'Review',
  async mount({ root, api, can, notify }) {
    const names = await productNames();
    const openList = h('div', { class: 'cards wide', id: 'review-open' });
    const resolvedList = h('div', { id: 'review-resolved' });
    const count = h('span', { class: 'count' });
    replace(
      root,
      can.resolveReview ? '' : h('p', { class: 'hint' }, 'You can view the queue; only a manager can resolve items.'),
      h('section', { 'aria-labelledby': 'open-title' }, h('h2', { id: 'open-title' }, 'Waiting for a decision ', count), openList),
      h('section', { 'aria-labelledby': 'resolved-title' }, h('h2', { id: 'resolved-title' }, 'Recently resolved'), resolvedList),
    );
    const evidence = new Map();
    const cards = new Map();

    const describe = (lines) =>
      lines.length === 0 ? 'nobody took anything' : lines.map((l) => `${l.quantity > 0 ? '+' : ''}${l.quantity} × ${productName(names, l.sku)} → ${l.sessionId}`).join(', ');

    const resolve = async (item, lines, label) => {
      try {
        await api.post(`/api/review/${encodeURIComponent(item.id)}/resolve`, { lines });
        notify(`Resolved: ${label}`);
      } catch (error) {
        notify(`Not resolved: ${error.message}`, 'error');
      }
      reload.request();
    };

    /** The bay cameras' view of the tray just before the change and just after it (cut when it settled; none without cameras). */
    const cropsBlock = (crops) =>
      crops.length === 0
        ? ''
        : h('figure', { class: 'crops' },
            h('div', { class: 'crop-row' }, crops.map((c) =>
              h('img', { src: c.url, width: '160', height: '160', alt: `Camera ${c.cameraId}, ${c.when === 'before' ? 'just before the change' : 'just after it'}, ${time(c.atMs)}` }))),
            h('figcaption', { class: 'meta' }, crops.map((c) => `${c.when} (${c.cameraId}, ${time(c.atMs)})`).join(' · ')));

    /** The shelf change behind the item: its weight trace, the products its weight fits and the camera crops (GET /api/review/:id/evidence). */
    const evidenceBlock = (item) => {
      const box = h('div', { class: 'evidence' }, h('p', { class: 'meta' }, 'Loading the weight trace…'));
      const fill = (answer) => {
        const ev = answer?.evidence ?? null;
        const crops = cropsBlock(answer?.crops ?? []);
        if (ev === null) return replace(box, h('p', { class: 'meta' }, 'No weight trace kept for this change (the agent restarted since).'), crops);
        const title = `Weight on tray ${ev.trayId}: ${ev.deltaG.toFixed(0)} g between ${time(ev.startAt)} and ${time(ev.settledAt)}`;
        replace(
          box,
          h('p', { class: 'meta' }, `Δ ${ev.deltaG.toFixed(0)} g, ${time(ev.startAt)}–${time(ev.settledAt)}`),
          ev.trace.t.length > 1 ? weightTracePlot(ev.trace, ev, title) : h('p', { class: 'meta' }, 'No weight samples kept for this change.'),
          ev.candidates.length
            ? table('Candidate products by weight', ['Product', 'Units', 'Weight fit'], ev.candidates, (c) =>
                h('tr', {}, h('td', {}, productName(names, c.sku)), h('td', { class: 'num' }, -c.quantity), h('td', { class: 'num' }, pct(c.confidence))))
            : h('p', { class: 'meta' }, ev.misplaced ? 'No product of this tray explains the weight (misplaced item?).' : 'No candidate products.'),
          crops,
        );
      };
      if (evidence.has(item.id)) fill(evidence.get(item.id));
      else
        api
          .get(`/api/review/${encodeURIComponent(item.id)}/evidence`)
          .then((r) => {
            evidence.set(item.id, r);
            fill(r);
          })
          .catch(() => fill(null));
      return box;
    };

    const decisions = (item) => {
      const guess = item.proposal[0];
      const disabled = !can.resolveReview;
      const button = (text, lines, cls = '') =>
        h('button', { type: 'button', class: cls, disabled, onclick: () => resolve(item, lines, text) }, text);
      // The other candidate visits, each charged what the best guess charges.
      const others = guess === undefined ? [] : item.sessionIds.filter((id) => !(item.proposal.length === 1 && guess.sessionId === id));
      return h('div', { class: 'actions', role: 'group', 'aria-label': `Decide review ${item.id}` },
        item.proposal.length ? button(`Accept: ${describe(item.proposal)}`, 'accept', 'primary accept') : '',
        others.map((id) => button(`Charge ${id} instead`, [{ sessionId: id, sku: guess.sku, quantity: guess.quantity }], 'secondary')),
        (item.alternatives ?? []).map((lines) => button(`Instead: ${describe(lines)}`, lines, 'secondary alternative')),
        button('Nobody took anything', [], 'secondary nobody'));
    };

    const card = (item) =>
      h('article', { class: 'card review-item', dataset: { review: item.id } },
        h('header', {}, h('strong', {}, `Tray ${item.trayId}`), ' ', chip(item.reason, 'warn'), ' ', chip(`confidence ${pct(item.confidence)}`, item.confidence < 0.5 ? 'bad' : 'info')),
        h('p', { class: 'meta' }, `opened ${time(item.openedAt)} · change ${item.changeId}`),
        h('p', {}, 'Candidate visits: ', item.sessionIds.length ? item.sessionIds.map((id, i) => [i ? ', ' : '', h('a', { href: '#/shoppers' }, id)]) : 'none'),
        h('p', {}, 'Best guess: ', item.proposal.length ? `${describe(item.proposal)} (${pct(item.confidence)})` : 'none'),
        evidenceBlock(item),
        decisions(item));

    const reload = refresher(async () => {
      const [open, resolved] = await Promise.all([api.get('/api/review?state=open'), api.get('/api/review?state=resolved')]);
      count.textContent = `(${open.items.length})`;
      // Keep cards that are still open (focus and plots stay); add new ones, drop decided ones.
      const ids = new Set(open.items.map((i) => i.id));
      for (const [id, el] of cards) if (!ids.has(id)) { el.remove(); cards.delete(id); }
      for (const item of open.items) if (!cards.has(item.id)) cards.set(item.id, card(item));
      if (open.items.length === 0) replace(openList, h('p', { class: 'empty' }, 'Nothing to review.'));
      else replace(openList, open.items.map((i) => cards.get(i.id)));
      const recent = resolved.items.slice(-20).reverse();
      replace(resolvedList, table('Recently resolved', ['Tray', 'Reason', 'Decision', 'By', 'At'], recent, (i) =>
        h('tr', { dataset: { review: i.id } }, h('td', {}, i.trayId), h('td', {}, i.reason), h('td', {}, describe(i.resolution.lines)), h('td', {}, i.resolution.actor), h('td', {}, time(i.resolution.at))), 'None yet.'));
    });
    await reload.now();
    const fallback = setInterval(() => reload.request(), 5000);
    return {
      onEvents(batch) {
        if (batch.some((e) => e.name === 'shelf.change' || e.name === 'checkout.receipt')) reload.request();
      },
      unmount() {
        reload.stop();
        clearInterval(fallback);
      },
    };
  },
};
