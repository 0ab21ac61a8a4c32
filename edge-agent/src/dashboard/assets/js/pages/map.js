// Store map: the planogram as gondolas → bays → shelves → trays, each tray coloured by its stock
// (observed units against capacity; low and out stand out) or, as a heat map, by how often
// shoppers took from or put back on it in a chosen period (the visits' cart lines). A tray opens
// its details: products, book vs observed stock, its label and alerts, and recent shelf changes.
import { productName, productNames } from '../catalog.js';
import { chip, h, keepFocus, money, refresher, replace, table, time } from '../dom.js';

const statusText = { ok: 'in stock', low: 'low', out: 'out of stock', misplaced: 'misplaced item' };

export default {
  id: 'map',
  title: 'Store map',
  async mount({ root, api, param }) {
    const names = await productNames();
    const stockLegend = ['ok', 'low', 'out', 'misplaced'].map((s) => h('span', { class: `swatch sw-${s}` }, statusText[s]));
    const legend = h('p', { class: 'legend' }, stockLegend);
    const mode = h('select', { id: 'map-mode' }, h('option', { value: 'stock' }, 'stock'), h('option', { value: 'heat' }, 'picks and put-backs'));
    const period = h('select', { id: 'map-period', disabled: true },
      h('option', { value: String(15 * 60_000) }, 'last 15 minutes'),
      h('option', { value: String(3_600_000) }, 'last hour'),
      h('option', { value: String(8 * 3_600_000), selected: true }, 'last 8 hours'),
      h('option', { value: String(7 * 24 * 3_600_000) }, 'last 7 days'));
    const controls = h('div', { class: 'toolbar' }, h('label', { for: 'map-mode' }, 'Colour trays by'), mode, h('label', { for: 'map-period' }, 'over the'), period);
    const plan = h('div', { id: 'plan', class: 'plan' });
    const detail = h('aside', { id: 'tray-detail', class: 'tray-detail', 'aria-live': 'polite' }, h('p', { class: 'hint' }, 'Choose a tray to see its details.'));
    const summary = h('p', { class: 'meta' });
    replace(root, controls, summary, legend, h('div', { class: 'split wide-left' }, plan, detail));
    const changes = new Map();
    let trays = new Map();
    /** trayId → { picks, puts } of the visits' cart lines in the period (heat mode). */
    let heat = null;
    let lastStock = null;
    let selected = param;

    const showTray = async (trayId) => {
      selected = trayId;
      const rows = trays.get(trayId) ?? [];
      if (rows.length === 0) return replace(detail, h('p', { class: 'error' }, `No tray ${trayId}.`));
      const first = rows[0];
      const [alerts, labels] = await Promise.all([
        api.get(`/api/alerts?trayId=${encodeURIComponent(trayId)}&limit=20`).catch(() => ({ alerts: [] })),
        Promise.all(rows.filter((r) => r.facing).map((r) => api.get(`/api/labels?sku=${encodeURIComponent(r.sku)}&limit=20`).catch(() => ({ labels: [] })))),
      ]);
      const tags = labels.flatMap((l) => l.labels).filter((l) => l.trayId === trayId);
      const seen = changes.get(trayId) ?? [];
      replace(detail,
        h('h2', {}, `Tray ${trayId}`),
        h('p', { class: 'meta' }, `${first.zone} · ${first.gondola} · ${first.bay} · shelf ${first.shelf}`),
        table('Products on the tray', ['Product', 'Observed', 'Book', 'Capacity', 'State'], rows, (r) =>
          h('tr', {}, h('td', {}, productName(names, r.sku)), h('td', { class: 'num' }, r.observed), h('td', { class: 'num' }, r.book), h('td', { class: 'num' }, r.capacity ?? '–'), h('td', {}, chip(statusText[r.status], r.status === 'ok' ? 'ok' : r.status === 'low' ? 'warn' : 'bad'), r.pendingRestock ? ` +${r.pendingRestock} coming` : ''))),
        h('h3', {}, 'Label'),
        tags.length
          ? h('ul', {}, tags.map((t) => h('li', {}, h('a', { href: `#/labels/${encodeURIComponent(t.id)}` }, t.id), ` shows ${money(t.confirmedPriceMinor, t.currency ?? 'EUR')} · should show ${money(t.desiredPriceMinor, t.currency ?? 'EUR')} · ${t.state}`)))
          : h('p', { class: 'meta' }, 'No label on this tray.'),
        h('h3', {}, 'Alerts'),
        alerts.alerts.length ? h('ul', {}, alerts.alerts.map((a) => h('li', {}, `${time(a.raisedAt)} ${a.kind} (${a.state}): ${a.message}`))) : h('p', { class: 'meta' }, 'None.'),
        h('h3', {}, 'Shelf changes (since this page opened)'),
        seen.length ? h('ul', {}, seen.map((c) => h('li', {}, `${time(c.settledAt)} Δ ${c.deltaG.toFixed(0)} g${c.sku ? ` = ${c.quantity} × ${productName(names, c.sku)}` : ' (no product fits)'}`))) : h('p', { class: 'meta' }, 'None seen yet.'));
      for (const el of plan.querySelectorAll('[aria-pressed="true"]')) el.setAttribute('aria-pressed', 'false');
      plan.querySelector(`[data-tray="${CSS.escape(trayId)}"]`)?.setAttribute('aria-pressed', 'true');
    };

    const trayButton = (trayId, rows) => {
      const facing = rows.filter((r) => r.facing);
      const status = rows.some((r) => r.status === 'out' && r.facing) ? 'out' : rows.some((r) => r.status === 'low' && r.facing) ? 'low' : rows.some((r) => !r.facing) ? 'misplaced' : 'ok';
      const observed = facing.reduce((n, r) => n + r.observed, 0);
      const capacity = facing.reduce((n, r) => n + (r.capacity ?? 0), 0);
      const label = facing.map((r) => productName(names, r.sku)).join(', ') || rows[0].sku;
      const button = h('button', {
        type: 'button',
        class: `tray tray-${status}`,
        dataset: { tray: trayId, status },
        'aria-pressed': trayId === selected ? 'true' : 'false',
        'aria-label': `${trayId}: ${label}, ${observed}${capacity ? ` of ${capacity}` : ''} units, ${statusText[status]}`,
        title: `${label}: ${observed}/${capacity || '?'}`,
        onclick: () => {
          history.replaceState(null, '', `#/map/${encodeURIComponent(trayId)}`);
          showTray(trayId);
        },
      }, h('span', { class: 'tray-name' }, label), h('span', { class: 'tray-units' }, capacity ? `${observed}/${capacity}` : String(observed)));
      button.style.setProperty('--fill', String(capacity ? Math.max(0, Math.min(1, observed / capacity)) : 0));
      if (heat !== null) {
        const { picks = 0, puts = 0 } = heat.counts.get(trayId) ?? {};
        button.classList.add('heat');
        button.style.setProperty('--fill', String(heat.max ? (picks + puts) / heat.max : 0));
        button.lastElementChild.textContent = `${picks} taken · ${puts} back`;
        button.setAttribute('aria-label', `${trayId}: ${label}, ${picks} taken and ${puts} put back in the period`);
      }
      return button;
    };

    const render = (stock) => {
      lastStock = stock;
      trays = new Map();
      for (const row of stock.trays) {
        const list = trays.get(row.trayId) ?? [];
        list.push(row);
        trays.set(row.trayId, list);
      }
      // gondola → bay → shelf → trays, in the model's order.
      const gondolas = new Map();
      for (const [trayId, rows] of trays) {
        const { gondola, bay, shelf, zone } = rows[0];
        if (!gondolas.has(gondola)) gondolas.set(gondola, { zone, bays: new Map() });
        const bays = gondolas.get(gondola).bays;
        if (!bays.has(bay)) bays.set(bay, new Map());
        const shelves = bays.get(bay);
        if (!shelves.has(shelf)) shelves.set(shelf, []);
        shelves.get(shelf).push([trayId, rows]);
      }
      const counts = { ok: 0, low: 0, out: 0 };
      for (const rows of trays.values()) for (const r of rows) if (r.facing && counts[r.status] !== undefined) counts[r.status] += 1;
      summary.textContent = `${trays.size} trays · ${counts.low} low · ${counts.out} out of stock · stock accuracy ${stock.accuracy.skuAccuracy === null ? '–' : `${Math.round(stock.accuracy.skuAccuracy * 100)} %`}`;
      keepFocus(plan, () => replace(plan, [...gondolas].map(([gondola, g]) =>
        h('section', { class: 'gondola', 'aria-label': `Gondola ${gondola}` },
          h('h2', {}, `${gondola} `, h('small', {}, g.zone)),
          h('div', { class: 'bays' }, [...g.bays].map(([bay, shelves]) =>
            h('div', { class: 'bay', role: 'group', 'aria-label': `Bay ${bay}` },
              h('div', { class: 'bay-name' }, bay),
              [...shelves].map(([shelf, list]) => h('div', { class: 'shelf', role: 'group', 'aria-label': `Shelf ${shelf}` }, list.map(([trayId, rows]) => trayButton(trayId, rows)))))))))));
    };

    /** Counts the cart lines of all visits (GET /api/sessions) per tray within the period. */
    const loadHeat = async () => {
      const since = Date.now() - Number(period.value);
      const { sessions } = await api.get('/api/sessions?limit=10000');
      const counts = new Map();
      for (const session of sessions)
        for (const line of session.lines) {
          if (line.addedAt < since) continue;
          const c = counts.get(line.trayId) ?? { picks: 0, puts: 0 };
          if (line.quantity > 0) c.picks += line.quantity;
          else c.puts -= line.quantity;
          counts.set(line.trayId, c);
        }
      heat = { counts, max: Math.max(0, ...[...counts.values()].map((c) => c.picks + c.puts)) };
      replace(legend, h('span', { class: 'swatch sw-heat-low' }, 'few'), h('span', { class: 'swatch sw-heat-high' }, `many (${heat.max} at most) shopper interactions`));
    };
    const applyMode = async () => {
      period.disabled = mode.value !== 'heat';
      if (mode.value === 'heat') await loadHeat();
      else {
        heat = null;
        replace(legend, stockLegend);
      }
      if (lastStock) render(lastStock);
    };
    mode.addEventListener('change', applyMode);
    period.addEventListener('change', applyMode);

    const reload = refresher(async () => {
      try {
        if (heat !== null) await loadHeat();
        render(await api.get('/api/stock'));
      } catch (error) {
        replace(plan, h('p', { class: 'empty' }, `No store model: ${error.message}`));
      }
    }, 3000);
    await reload.now();
    if (selected) await showTray(selected);
    const detailRefresh = refresher(() => (selected ? showTray(selected) : undefined), 1500);
    return {
      onEvents(batch) {
        let stockChanged = false;
        for (const { name, data } of batch) {
          if (name === 'shelf.change') {
            const list = changes.get(data.trayId) ?? [];
            list.unshift(data);
            changes.set(data.trayId, list.slice(0, 10));
            stockChanged = true;
            if (data.trayId === selected) detailRefresh.request();
          }
          if (name.startsWith('alert.') && data.trayId === selected) detailRefresh.request();
        }
        if (stockChanged) reload.request();
      },
      unmount() {
        reload.stop();
        detailRefresh.stop();
      },
    };
  },
};
