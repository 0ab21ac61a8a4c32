// Sales and operations: sales per hour, items per visit, the review rate and exit → receipt
// latency, as plots, from the latest receipts; and the agent's own health.
import { h, money, pct, refresher, replace, tile } from '../dom.js';
import { barPlot } from '../plot.js';

const HOURS = 12;

export default {
  id: 'ops',
  title: 'Sales & ops',
  async mount({ root, api }) {
    const body = h('div', { id: 'ops-body' });
    replace(root, body);
    const reload = refresher(async () => {
      const [{ receipts }, health, reviews] = await Promise.all([api.get('/api/receipts?limit=10000'), api.get('/api/health'), api.get('/api/review')]);
      const now = Date.now();
      const hourStart = new Date(now);
      hourStart.setMinutes(0, 0, 0);
      const first = hourStart.getTime() - (HOURS - 1) * 3_600_000;
      const sales = Array.from({ length: HOURS }, (_, i) => ({ label: `${new Date(first + i * 3_600_000).getHours()}h`, value: 0 }));
      for (const r of receipts) {
        const i = Math.floor((r.issuedAt - first) / 3_600_000);
        if (i >= 0 && i < HOURS) sales[i].value += r.totalMinor / 100;
      }
      const items = receipts.map((r) => r.lines.reduce((n, l) => n + l.quantity, 0));
      const maxItems = Math.min(15, Math.max(5, ...items));
      const perVisit = Array.from({ length: maxItems + 1 }, (_, n) => ({ label: n === maxItems ? `${n}+` : String(n), value: 0 }));
      for (const n of items) perVisit[Math.min(n, maxItems)].value += 1;
      const latencies = receipts.map((r) => Math.max(0, (r.issuedAt - r.exitAt) / 1000)).sort((a, b) => a - b);
      const edges = [1, 2, 5, 10, 20, 40, 60];
      const latency = [...edges.map((e, i) => ({ label: `≤${e}s`, lo: i ? edges[i - 1] : 0, hi: e, value: 0 })), { label: '>60s', lo: 60, hi: Infinity, value: 0 }];
      for (const s of latencies) latency.find((b) => s <= b.hi).value += 1;
      const p = (q) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))].toFixed(1) : '–');
      const reviewed = receipts.filter((r) => r.reviewed).length;
      const revenue = receipts.reduce((n, r) => n + r.totalMinor, 0);
      const currency = receipts[0]?.currency ?? 'EUR';
      replace(body,
        h('div', { class: 'tiles' },
          tile('Receipts', String(receipts.length), `${money(revenue, currency)} in total`),
          tile('Items per visit', items.length ? (items.reduce((a, b) => a + b, 0) / items.length).toFixed(1) : '–', 'mean'),
          tile('Review rate', receipts.length ? pct(reviewed / receipts.length) : '–', `${reviews.items.filter((i) => i.state === 'open').length} items open`),
          tile('Exit → receipt', `${p(0.5)} s`, `p95 ${p(0.95)} s`),
          tile('Event loop lag', `${health.eventLoopLagMs.p99.toFixed(1)} ms`, 'p99')),
        h('div', { class: 'plots' },
          h('figure', {}, barPlot(sales, `Sales per hour, last ${HOURS} hours`, { unit: currency, format: (v) => money(Math.round(v * 100), currency), labelEvery: 2 }), h('figcaption', {}, `Sales per hour (${currency}), last ${HOURS} hours`)),
          h('figure', {}, barPlot(perVisit, 'Items per visit', { unit: 'visits' }), h('figcaption', {}, 'Items per visit')),
          h('figure', {}, barPlot(latency, 'Exit to receipt latency', { unit: 'receipts' }), h('figcaption', {}, 'Exit → receipt latency'))),
        h('p', { class: 'meta' }, `From the latest ${receipts.length} receipts.`));
    }, 2000);
    await reload.now();
    return {
      onEvents(batch) {
        if (batch.some((e) => e.name === 'checkout.receipt')) reload.request();
      },
      unmount: () => reload.stop(),
    };
  },
};
