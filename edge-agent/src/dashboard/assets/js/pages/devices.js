// Devices: every registered device, online or not, when it was last heard, its health and the
// messages the agent refused from it (by error code).
import { ago, chip, h, keepFocus, refresher, replace, table } from '../dom.js';

export default {
  id: 'devices',
  title: 'Devices',
  async mount({ root, api }) {
    const summary = h('p', { class: 'meta', 'aria-live': 'polite' });
    const list = h('div', { id: 'device-list' });
    const rejected = h('ol', { id: 'rejected-log', class: 'log' });
    replace(root, summary, list, h('h2', {}, 'Refused messages (live)'), rejected, h('p', { class: 'hint' }, 'Refused messages are counted per device above; the latest appear here while this page is open.'));

    const health = (d) => {
      const parts = [];
      if (d.health?.batteryMv) parts.push(`${(d.health.batteryMv / 1000).toFixed(2)} V`);
      if (d.health?.rssi !== undefined) parts.push(`${d.health.rssi} dBm`);
      if (d.health?.temperatureC !== undefined) parts.push(`${d.health.temperatureC} °C`);
      return parts.join(' · ') || '–';
    };
    const rejects = (d) => {
      const entries = Object.entries(d.rejects);
      if (entries.length === 0) return '0';
      return h('details', {}, h('summary', {}, String(entries.reduce((n, [, c]) => n + c, 0))), h('ul', {}, entries.map(([code, n]) => h('li', {}, `${code}: ${n}`))));
    };

    const reload = refresher(async () => {
      const { devices } = await api.get('/api/devices');
      const online = devices.filter((d) => d.online).length;
      summary.textContent = `${online} of ${devices.length} devices online`;
      const sorted = [...devices].sort((a, b) => Number(a.online) - Number(b.online) || a.id.localeCompare(b.id));
      keepFocus(list, () => replace(list, table('Devices', ['Device', 'Kind', 'State', 'Last seen', 'Health', 'Messages', 'Refused'], sorted, (d) =>
        h('tr', { dataset: { device: d.id, online: String(d.online) } },
          h('td', {}, d.id, d.birth?.model ? h('small', {}, h('br'), `${d.birth.model} ${d.birth.fw ?? ''}`) : ''),
          h('td', {}, d.kind),
          h('td', {}, d.enabled ? chip(d.online ? 'online' : 'offline', d.online ? 'ok' : 'bad') : chip('disabled', 'warn')),
          h('td', {}, ago(d.lastSeen)),
          h('td', {}, health(d)),
          h('td', { class: 'num' }, d.messages),
          h('td', { class: 'num' }, rejects(d))),
        'No devices registered. Add one with `storeedge device add`.')));
    }, 1000);
    await reload.now();
    const ticker = setInterval(() => reload.request(), 10_000);
    return {
      onEvents(batch) {
        let relevant = false;
        for (const { name, data } of batch) {
          if (name === 'device.rejected') {
            rejected.prepend(h('li', {}, `${new Date(data.at).toLocaleTimeString()} ${data.deviceId}: ${data.code} — ${data.message}`));
            while (rejected.children.length > 50) rejected.lastElementChild.remove();
          }
          if (name.startsWith('device.')) relevant = true;
        }
        if (relevant) reload.request();
      },
      unmount() {
        reload.stop();
        clearInterval(ticker);
      },
    };
  },
};
