// Labels: every shelf label, a page at a time (the API pages by tag id; 20,000 tags stay fast),
// desired vs confirmed price, state, battery; a tag's rendered preview and "flash to find it".
import { productName, productNames } from '../catalog.js';
import { ago, chip, h, keepFocus, money, refresher, replace, table, time } from '../dom.js';

const PAGE = 50;
const stateKind = { confirmed: 'ok', pending: 'info', queued: 'info', sent: 'info', failed: 'bad', 'no-content': 'warn' };

export default {
  id: 'labels',
  title: 'Labels',
  async mount({ root, api, can, notify, param }) {
    const names = await productNames();
    const state = h('select', { id: 'label-state' }, h('option', { value: '' }, 'Any state'), ['confirmed', 'pending', 'queued', 'sent', 'failed', 'no-content'].map((s) => h('option', { value: s }, s)));
    const stale = h('input', { id: 'label-stale', type: 'checkbox' });
    const sku = h('input', { id: 'label-sku', type: 'search', placeholder: 'exact SKU', size: 14 });
    const summary = h('p', { class: 'meta', id: 'label-summary', 'aria-live': 'polite' });
    const list = h('div', { id: 'label-list' });
    const prev = h('button', { type: 'button', class: 'secondary', disabled: true }, '← Previous');
    const next = h('button', { type: 'button', class: 'secondary', disabled: true }, 'Next →');
    const detail = h('div', { id: 'label-detail' });
    const filters = h('form', { class: 'toolbar', role: 'search', 'aria-label': 'Filter labels' },
      h('label', { for: 'label-state' }, 'State'), state,
      h('label', { for: 'label-sku' }, 'SKU'), sku,
      h('span', {}, stale, h('label', { for: 'label-stale' }, ' stale only')),
      h('button', { type: 'submit' }, 'Filter'));
    replace(root, filters, summary, h('div', { class: 'split wide-left' }, h('div', {}, list, h('div', { class: 'pager' }, prev, next)), detail));

    // Cursors of the pages seen: cursors[i] is the `after` of page i.
    let cursors = [null];
    let page = 0;
    let nextCursor = null;
    let shown = new Set();
    let selected = param;

    const query = () => {
      const q = new URLSearchParams({ limit: String(PAGE) });
      if (state.value) q.set('state', state.value);
      if (stale.checked) q.set('stale', 'true');
      if (sku.value.trim()) q.set('sku', sku.value.trim());
      if (cursors[page]) q.set('after', cursors[page]);
      return q;
    };

    const flash = async (id) => {
      try {
        const f = await api.post(`/api/labels/${encodeURIComponent(id)}/flash`, { colour: 'green', flashes: 3, repeats: 2 });
        notify(`Flash ${f.state} for ${id}`);
        if (selected === id) showDetail(id);
      } catch (error) {
        notify(`Flash refused: ${error.message}`, 'error');
      }
    };

    const showDetail = async (id) => {
      selected = id;
      if (id === null) return replace(detail);
      const l = await api.get(`/api/labels/${encodeURIComponent(id)}`);
      const img = h('img', { src: `/api/labels/${encodeURIComponent(id)}/image?v=${l.confirmedVersion ?? 0}`, alt: `What tag ${id} shows: ${productName(names, l.sku)} at ${money(l.confirmedPriceMinor, l.currency ?? 'EUR')}`, class: 'preview' });
      const missing = h('p', { class: 'meta', hidden: true }, 'No confirmed image yet.');
      img.addEventListener('error', () => {
        img.hidden = true;
        missing.hidden = false;
      });
      replace(detail,
        h('article', { class: 'card label-detail', dataset: { label: id } },
          h('header', {}, h('h2', {}, `Tag ${id}`), h('button', { type: 'button', class: 'secondary', onclick: () => showDetail(null) }, 'Close')),
          img, missing,
          h('dl', { class: 'facts' },
            h('dt', {}, 'Product'), h('dd', {}, `${productName(names, l.sku)} (${l.sku})`),
            h('dt', {}, 'Tray'), h('dd', {}, l.trayId ? h('a', { href: `#/map/${encodeURIComponent(l.trayId)}` }, l.trayId) : '–'),
            h('dt', {}, 'Desired'), h('dd', {}, `${money(l.desiredPriceMinor, l.currency ?? 'EUR')} (v${l.desiredVersion ?? '–'})`),
            h('dt', {}, 'Confirmed'), h('dd', {}, `${money(l.confirmedPriceMinor, l.currency ?? 'EUR')} (v${l.confirmedVersion ?? '–'})`),
            h('dt', {}, 'State'), h('dd', {}, chip(l.state, stateKind[l.state]), l.stale ? [' ', chip('stale', 'bad')] : ''),
            h('dt', {}, 'Gateway'), h('dd', {}, `${l.gateway} · ${l.tagType}`),
            h('dt', {}, 'Battery'), h('dd', {}, l.health.batteryMv ? `${l.health.batteryMv} mV` : '–'),
            h('dt', {}, 'Signal'), h('dd', {}, l.health.rssi !== null ? `${l.health.rssi} dBm` : '–'),
            h('dt', {}, 'Last seen'), h('dd', {}, ago(l.health.lastSeen)),
            h('dt', {}, 'Last flash'), h('dd', { id: 'last-flash' }, l.lastFlash ? `${l.lastFlash.state} at ${time(l.lastFlash.requestedAt)}` : 'never')),
          h('button', { type: 'button', class: 'primary', disabled: !can.flashLabel, onclick: () => flash(id) }, 'Flash this tag')));
    };

    const render = (result) => {
      shown = new Set(result.labels.map((l) => l.id));
      nextCursor = result.next;
      summary.textContent = `${result.total} labels${state.value || stale.checked || sku.value ? ' match' : ''} · page ${page + 1} of ${Math.max(1, Math.ceil(result.total / PAGE))}`;
      prev.disabled = page === 0;
      next.disabled = nextCursor === null;
      keepFocus(list, () => replace(list, table('Labels', ['Tag', 'Product', 'Desired', 'Confirmed', 'State', 'Battery', 'Seen', ''], result.labels, (l) => {
        const mismatch = l.desiredPriceMinor !== l.confirmedPriceMinor;
        return h('tr', { dataset: { label: l.id, state: l.state } },
          h('td', {}, h('button', { type: 'button', class: 'link', onclick: () => showDetail(l.id) }, l.id)),
          h('td', {}, productName(names, l.sku)),
          h('td', { class: 'num' }, money(l.desiredPriceMinor, l.currency ?? 'EUR')),
          h('td', { class: `num ${mismatch ? 'mismatch' : ''}` }, money(l.confirmedPriceMinor, l.currency ?? 'EUR'), mismatch ? h('span', { class: 'sr-only' }, ' (differs from desired)') : ''),
          h('td', {}, chip(l.state, stateKind[l.state]), l.stale ? [' ', chip('stale', 'bad')] : ''),
          h('td', { class: 'num' }, l.batteryMv ? `${(l.batteryMv / 1000).toFixed(2)} V` : '–'),
          h('td', {}, ago(l.lastSeen)),
          h('td', {}, h('button', { type: 'button', class: 'secondary', disabled: !can.flashLabel, onclick: () => flash(l.id), 'aria-label': `Flash ${l.id}` }, 'Flash')));
      }, 'No labels match.')));
    };

    const reload = refresher(async () => render(await api.get(`/api/labels?${query()}`)), 1000);
    filters.addEventListener('submit', (event) => {
      event.preventDefault();
      cursors = [null];
      page = 0;
      reload.now();
    });
    prev.addEventListener('click', () => {
      page = Math.max(0, page - 1);
      reload.now();
    });
    next.addEventListener('click', () => {
      if (nextCursor === null) return;
      cursors[page + 1] = nextCursor;
      page += 1;
      reload.now();
    });
    await reload.now();
    if (selected) await showDetail(selected).catch(() => replace(detail, h('p', { class: 'error' }, `No tag ${selected}.`)));
    const detailRefresh = refresher(() => (selected ? showDetail(selected) : undefined), 1000);
    return {
      onEvents(batch) {
        for (const { name, data } of batch) {
          if (name !== 'esl.tag.report' && name !== 'esl.tag.delivery') continue;
          const tagId = data?.payload?.tagId;
          if (shown.has(tagId)) reload.request();
          if (tagId === selected) detailRefresh.request();
        }
      },
      unmount() {
        reload.stop();
        detailRefresh.stop();
      },
    };
  },
};
