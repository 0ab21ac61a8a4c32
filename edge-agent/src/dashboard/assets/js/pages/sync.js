// Sync: the link to HQ, what waits to go up per stream, the last acknowledgement and the
// documents HQ sent (from /api/health; the link has no events, so this page polls it).
import { ago, chip, h, refresher, replace, table, tile, time } from '../dom.js';
import { barPlot } from '../plot.js';

export default {
  id: 'sync',
  title: 'Sync',
  async mount({ root, api }) {
    const body = h('div', { id: 'sync-body', 'aria-live': 'polite' });
    replace(root, body);
    const reload = refresher(async () => {
      const health = await api.get('/api/health');
      const sync = health.sync;
      if (sync === null) {
        replace(body, h('p', { class: 'empty' }, 'HQ sync is not configured for this store (config `sync`).'), ledgerFacts(health));
        return;
      }
      const docs = sync.documents ?? {};
      replace(body,
        h('div', { class: 'tiles' },
          tile('Link', chip(sync.connected ? 'connected' : 'offline', sync.connected ? 'ok' : 'bad'), `since ${time(sync.since)}`),
          tile('Waiting to send', String(sync.pending), sync.oldestUnsentAgeS === null ? 'nothing old' : `oldest ${Math.round(sync.oldestUnsentAgeS)} s`),
          tile('Last HQ ack', sync.uplink.lastAckAt ? time(sync.uplink.lastAckAt) : 'never', ago(sync.uplink.lastAckAt)),
          tile('Refused by HQ', String(sync.rejected), sync.uplink.lastError ?? 'no errors')),
        h('h2', {}, 'Backlog per stream'),
        sync.backlog.length
          ? barPlot(sync.backlog.map((b) => ({ label: b.stream, value: b.pending })), 'Unsent records per stream', { unit: 'records' })
          : h('p', { class: 'empty' }, 'Nothing waiting: HQ has everything.'),
        table('Backlog', ['Stream', 'Waiting', 'Oldest'], sync.backlog, (b) => h('tr', {}, h('td', {}, b.stream), h('td', { class: 'num' }, b.pending), h('td', { class: 'num' }, `${Math.round(b.oldestAgeS)} s`)), ''),
        h('h2', {}, 'Documents from HQ'),
        documents(docs),
        h('details', {}, h('summary', {}, 'Link details'), h('dl', { class: 'facts' },
          h('dt', {}, 'Upstream'), h('dd', {}, sync.url),
          h('dt', {}, 'Batches in flight'), h('dd', {}, String(sync.uplink.inFlightBatches)),
          h('dt', {}, 'Draining backlog'), h('dd', {}, sync.uplink.drainingBacklog ? 'yes' : 'no'),
          h('dt', {}, 'Failures in a row'), h('dd', {}, String(sync.uplink.consecutiveFailures)),
          h('dt', {}, 'Epoch'), h('dd', {}, sync.epoch))),
        ledgerFacts(health));
    }, 1000);
    await reload.now();
    const ticker = setInterval(() => reload.request(), 3000);
    return { unmount: () => { reload.stop(); clearInterval(ticker); } };
  },
};

function ledgerFacts(health) {
  return h('p', { class: 'meta' }, `Ledger: ${health.ledger.events} events, outbox ${health.ledger.outboxPending} pending, head ${health.ledger.headHash.slice(0, 12)}`);
}

/** The downlink status: highest version applied per kind, the last document applied and the last refused. */
function documents(docs) {
  const rows = Object.entries(docs.versions ?? {});
  const last = [
    docs.lastApplied ? { what: 'last applied', ...docs.lastApplied, note: '' } : null,
    docs.lastRefused ? { what: 'last refused', ...docs.lastRefused, note: `${docs.lastRefused.code}: ${docs.lastRefused.reason}` } : null,
  ].filter(Boolean);
  return [
    rows.length
      ? table('Applied document versions', ['Kind', 'Version'], rows, ([kind, v]) => h('tr', {}, h('td', {}, kind), h('td', { class: 'num' }, String(v))))
      : h('p', { class: 'empty' }, 'No documents applied yet.'),
    last.length
      ? table('Latest documents', ['', 'Kind', 'Document', 'Version', 'At', ''], last, (d) =>
          h('tr', {}, h('td', {}, d.what), h('td', {}, d.kind ?? '–'), h('td', {}, d.docId ?? '–'), h('td', { class: 'num' }, d.version ?? '–'), h('td', {}, time(d.at)), h('td', {}, d.note)))
      : '',
    h('p', { class: 'meta' }, `${docs.pendingDocuments ?? 0} documents being assembled · ${(docs.trustedKeys ?? []).length} trusted HQ keys`),
  ];
}
