/**
 * A plain status page at / until the store manager's dashboard replaces it: it reads only the
 * public API (health, devices, events), with no external scripts or styles.
 */
export function statusPage(storeId: string): string {
  const title = `storeedge · ${storeId.replace(/[^a-z0-9-]/g, '')}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<style>
body{font:15px system-ui,sans-serif;margin:1.5rem;color:#1b1f24}h1{font-size:1.3rem}
table{border-collapse:collapse;width:100%;max-width:60rem}td,th{text-align:left;padding:.3rem .6rem;border-bottom:1px solid #ddd}
.on{color:#137333}.off{color:#b3261e}#log{font:12px ui-monospace,monospace;max-height:14rem;overflow:auto;background:#f6f8fa;padding:.5rem}
</style></head>
<body><h1>${title}</h1>
<p id="health">loading…</p>
<h2>Devices</h2><table><thead><tr><th>id</th><th>kind</th><th>state</th><th>last seen</th><th>messages</th><th>rejects</th></tr></thead><tbody id="devices"></tbody></table>
<h2>Live events</h2><div id="log" aria-live="polite"></div>
<script>
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}[c]));
async function refresh() {
  const h = await (await fetch('/api/health')).json();
  document.getElementById('health').textContent =
    'broker ' + h.broker.mode + ' · ' + h.devices.online + '/' + h.devices.registered + ' devices online · ledger ' +
    h.ledger.events + ' events, head ' + h.ledger.headHash.slice(0, 12) + ' · loop lag p99 ' + h.eventLoopLagMs.p99.toFixed(1) + ' ms';
  const d = await (await fetch('/api/devices')).json();
  document.getElementById('devices').innerHTML = d.devices.map((x) =>
    '<tr><td>' + esc(x.id) + '</td><td>' + esc(x.kind) + '</td><td class="' + (x.online ? 'on">online' : 'off">offline') +
    '</td><td>' + (x.lastSeen ? new Date(x.lastSeen).toLocaleTimeString() : '–') + '</td><td>' + x.messages +
    '</td><td>' + Object.values(x.rejects).reduce((a, b) => a + b, 0) + '</td></tr>').join('');
}
refresh(); setInterval(refresh, 3000);
const log = document.getElementById('log');
const es = new EventSource('/api/events');
for (const name of ['device.online','device.offline','gate.scan','esl.tag.report','device.rejected','device.health']) {
  es.addEventListener(name, (e) => {
    const line = document.createElement('div');
    line.textContent = new Date().toLocaleTimeString() + ' ' + name + ' ' + e.data.slice(0, 160);
    log.prepend(line);
    while (log.childNodes.length > 100) log.lastChild.remove();
  });
}
</script></body></html>`;
}
