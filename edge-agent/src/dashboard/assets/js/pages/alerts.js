// Alerts: what needs someone on the floor (low / out of stock, misplaced items, offline devices,
// stale labels, …), newest first; anyone logged in may acknowledge them and give them to someone
// (a dialog outside the live list, so typing survives live updates). Alert events carry the whole
// alert, so the list updates without asking the API again.
import { ago, chip, h, keepFocus, refresher, replace, table, time } from '../dom.js';

const stateKind = { open: 'bad', acknowledged: 'warn', cleared: 'ok' };
const MAX_ROWS = 300;

function where(alert) {
  const parts = [];
  if (alert.trayId) parts.push(h('a', { href: `#/map/${encodeURIComponent(alert.trayId)}` }, alert.trayId));
  if (alert.sku) parts.push(parts.length ? ` · ${alert.sku}` : alert.sku);
  const device = alert.details?.deviceId ?? alert.details?.device;
  if (typeof device === 'string') parts.push(parts.length ? ` · ${device}` : device);
  return parts.length ? parts : '–';
}

export default {
  id: 'alerts',
  title: 'Alerts',
  async mount({ root, api, can, notify }) {
    const alerts = new Map();
    const filter = h('select', { id: 'alert-filter' },
      h('option', { value: 'active' }, 'Open and acknowledged'),
      h('option', { value: 'open' }, 'Open only'),
      h('option', { value: 'all' }, 'All, cleared too'));
    const kindFilter = h('select', { id: 'alert-kind' }, h('option', { value: '' }, 'All kinds'));
    const list = h('div', { id: 'alert-list' });
    // Assigning: one dialog for the page, filled for the alert whose button opened it.
    const assignee = h('input', { id: 'assign-to', name: 'to', maxlength: '64', autocomplete: 'off', list: 'assignees' });
    const assignees = h('datalist', { id: 'assignees' });
    const assignWhat = h('p', { class: 'meta' });
    let assigning = null;
    const dialog = h('dialog', { id: 'assign-dialog', 'aria-labelledby': 'assign-title' },
      h('form', { method: 'dialog' },
        h('h2', { id: 'assign-title' }, 'Give this alert to'),
        assignWhat,
        h('label', { for: 'assign-to' }, 'Name (empty: nobody)'),
        assignee, assignees,
        h('div', { class: 'toolbar' },
          h('button', { type: 'submit', value: 'save', id: 'assign-save' }, 'Save'),
          h('button', { type: 'submit', value: 'cancel', class: 'secondary' }, 'Cancel'))));
    dialog.addEventListener('close', () => {
      const alert = assigning;
      assigning = null;
      if (alert && dialog.returnValue === 'save') void assign(alert, assignee.value.trim() || null);
    });
    replace(root,
      h('div', { class: 'toolbar' }, h('label', { for: 'alert-filter' }, 'Show'), filter, h('label', { for: 'alert-kind' }, 'Kind'), kindFilter),
      list,
      dialog);

    const openAssign = (alert) => {
      assigning = alert;
      assignWhat.textContent = alert.message;
      assignee.value = alert.assignedTo ?? '';
      const names = [...new Set([...alerts.values()].map((a) => a.assignedTo).filter(Boolean))].sort();
      replace(assignees, names.map((n) => h('option', { value: n })));
      dialog.returnValue = '';
      dialog.showModal();
      assignee.select();
    };

    const assign = async (alert, to) => {
      try {
        const updated = await api.post(`/api/alerts/${encodeURIComponent(alert.id)}/assign`, { to });
        alerts.set(updated.id, updated);
        notify(to === null ? `Nobody has it now: ${alert.message}` : `Given to ${to}: ${alert.message}`);
        render();
      } catch (error) {
        notify(`Not assigned: ${error.message}`, 'error');
      }
    };

    const acknowledge = async (alert) => {
      try {
        const updated = await api.post(`/api/alerts/${encodeURIComponent(alert.id)}/ack`, {});
        alerts.set(updated.id, updated);
        notify(`Acknowledged: ${alert.message}`);
        render();
      } catch (error) {
        notify(`Not acknowledged: ${error.message}`, 'error');
      }
    };

    const render = () => {
      const kinds = [...new Set([...alerts.values()].map((a) => a.kind))].sort();
      if (kindFilter.options.length !== kinds.length + 1) {
        const chosen = kindFilter.value;
        replace(kindFilter, h('option', { value: '' }, 'All kinds'), kinds.map((k) => h('option', { value: k }, k)));
        kindFilter.value = kinds.includes(chosen) ? chosen : '';
      }
      const shown = [...alerts.values()]
        .filter((a) => (filter.value === 'all' ? true : filter.value === 'open' ? a.state === 'open' : a.state !== 'cleared'))
        .filter((a) => !kindFilter.value || a.kind === kindFilter.value)
        .sort((a, b) => b.raisedAt - a.raisedAt);
      // A long list is cut (filters narrow it): the page stays quick when a store raises hundreds.
      const cut = shown.length > MAX_ROWS ? h('p', { class: 'meta' }, `Showing the newest ${MAX_ROWS} of ${shown.length}; filter by kind to see others.`) : '';
      keepFocus(list, () => replace(list, cut, table('Alerts', ['Raised', 'Kind', 'What', 'Where', 'State', 'Who', ''], shown.slice(0, MAX_ROWS), (a) =>
        h('tr', { dataset: { alert: a.id, kind: a.kind, state: a.state } },
          h('td', { title: new Date(a.raisedAt).toLocaleString() }, time(a.raisedAt), h('br'), h('small', {}, ago(a.raisedAt))),
          h('td', {}, a.kind),
          h('td', {}, a.message),
          h('td', {}, where(a)),
          h('td', {}, chip(a.state, stateKind[a.state]), a.acknowledgedBy ? h('small', {}, ` by ${a.acknowledgedBy}`) : ''),
          h('td', { class: 'assigned' }, a.assignedTo ?? '–', a.assignedBy ? h('br') : '', a.assignedBy ? h('small', {}, `by ${a.assignedBy}`) : ''),
          h('td', {},
            a.state === 'open' ? h('button', { type: 'button', disabled: !can.acknowledgeAlert, onclick: () => acknowledge(a), 'aria-label': `Acknowledge ${a.kind} ${a.trayId ?? ''}` }, 'Acknowledge') : '',
            a.state !== 'cleared' ? h('button', { type: 'button', class: 'secondary', disabled: !can.assignAlert, onclick: () => openAssign(a), 'aria-label': `Assign ${a.kind} ${a.trayId ?? ''}` }, a.assignedTo ? 'Reassign' : 'Assign') : '')),
        'No alerts. All is well.')));
    };

    const reload = refresher(async () => {
      const [open, acked, cleared] = await Promise.all([
        api.get('/api/alerts?state=open&limit=2000'),
        api.get('/api/alerts?state=acknowledged&limit=2000'),
        api.get('/api/alerts?state=cleared&limit=200'),
      ]);
      alerts.clear();
      for (const a of [...cleared.alerts, ...acked.alerts, ...open.alerts]) alerts.set(a.id, a);
      render();
    });
    filter.addEventListener('change', render);
    kindFilter.addEventListener('change', render);
    await reload.now();
    return {
      onEvents(batch) {
        let changed = false;
        for (const { name, data } of batch) {
          if (!name.startsWith('alert.')) continue;
          alerts.set(data.id, data);
          changed = true;
        }
        if (changed) render();
      },
      unmount() {
        reload.stop();
      },
    };
  },
};
