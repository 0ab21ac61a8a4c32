// The app shell: who is logged in, the navigation, the live connection, and one page at a time
// (hash routes: #/shoppers, #/review, …). Pages get a context and render into <main>.
import { api, currentSession, permissions } from './api.js';
import { h, refresher, replace } from './dom.js';
import { connectLive, onLive, onLiveStatus } from './live.js';
import shoppers from './pages/shoppers.js';
import review from './pages/review.js';
import alerts from './pages/alerts.js';
import labels from './pages/labels.js';
import devices from './pages/devices.js';
import map from './pages/map.js';
import sync from './pages/sync.js';
import ops from './pages/ops.js';

const pages = [shoppers, review, alerts, labels, devices, map, sync, ops];
const main = document.getElementById('main');
const toastEl = document.getElementById('toast');
let current = null;
let showing = 0;
let toastTimer = null;

function notify(message, kind = 'ok') {
  toastEl.className = `toast show ${kind}`;
  toastEl.textContent = message;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (toastEl.className = 'toast'), 4000);
}

function route() {
  const [, id = 'shoppers', param = null] = location.hash.match(/^#\/([a-z]+)(?:\/(.+))?$/) ?? [];
  return { page: pages.find((p) => p.id === id) ?? pages[0], param: param === null ? null : decodeURIComponent(param) };
}

function renderNav() {
  const { page } = route();
  replace(
    document.getElementById('nav'),
    pages.map((p) =>
      h(
        'li',
        {},
        h('a', { href: `#/${p.id}`, 'aria-current': p === page ? 'page' : null, id: `nav-${p.id}` }, p.title, h('span', { class: 'badge', id: `badge-${p.id}`, hidden: true })),
      ),
    ),
  );
  badges.now();
}

/** Open review items and open alerts, as counts on the navigation. */
const badges = refresher(async () => {
  const [open, raised] = await Promise.all([api.get('/api/review?state=open'), api.get('/api/alerts?state=open&limit=10000')]);
  setBadge('review', open.items.length);
  setBadge('alerts', raised.alerts.length);
}, 1000);

function setBadge(id, count) {
  const el = document.getElementById(`badge-${id}`);
  if (!el) return;
  el.hidden = count === 0;
  el.textContent = String(count);
  el.setAttribute('aria-label', `${count} open`);
}

async function show(ctx) {
  const { page, param } = route();
  current?.unmount?.();
  current = null;
  toastEl.className = 'toast';
  renderNav();
  document.title = `${page.title} · ${ctx.storeId} · storeedge`;
  const root = h('section', { class: `page page-${page.id}`, 'aria-labelledby': 'page-title' });
  replace(main, h('h1', { id: 'page-title' }, page.title), root);
  const shown = ++showing;
  delete main.dataset.ready;
  const mounted = (await page.mount({ ...ctx, root, param })) ?? null;
  // Another route was chosen while this page loaded: it never becomes the current one.
  if (shown !== showing) mounted?.unmount?.();
  else {
    current = mounted;
    // The page has its data on screen (tests and `storeedge bench dashboard` wait for this).
    main.dataset.ready = page.id;
  }
}

async function start() {
  const session = await currentSession();
  const user = session.user;
  const can = permissions(user);
  const health = await api.get('/api/health');
  document.getElementById('store-id').textContent = health.storeId;
  document.querySelector('.brand').title = `store ${health.storeId}`;
  replace(
    document.getElementById('user'),
    h('span', { class: 'who' }, `${user.name} · ${user.role}`),
    h('button', {
      type: 'button',
      class: 'secondary',
      onclick: async () => {
        await api.post('/api/auth/logout').catch(() => undefined);
        location.assign('/login');
      },
    }, 'Log out'),
  );
  document.body.dataset.role = user.role;

  const live = document.getElementById('live');
  onLiveStatus((state) => {
    live.textContent = state === 'live' ? 'live' : state === 'reconnecting' ? 'reconnecting…' : state;
    live.className = `live ${state}`;
    // A refused stream: the session check sends a logged-out user to /login; otherwise try again.
    if (state === 'closed') setTimeout(() => currentSession().then(connectLive, () => setTimeout(connectLive, 5000)), 2000);
  });
  connectLive();
  onLive((batch) => {
    if (batch.some((e) => e.name === 'shelf.change' || e.name === 'checkout.receipt' || e.name.startsWith('alert.'))) badges.request();
    current?.onEvents?.(batch);
  });

  const ctx = { api, user, can, notify, storeId: health.storeId };
  window.addEventListener('hashchange', () =>
    show(ctx).then(
      () => main.focus(),
      (error) => replace(main, h('p', { class: 'error', role: 'alert' }, `This page could not load: ${error.message}`)),
    ),
  );
  await show(ctx);
  document.body.dataset.ready = 'true';
}

start().catch((error) => {
  replace(main, h('p', { class: 'error', role: 'alert' }, `The dashboard could not start: ${error.message}`));
});
