// One EventSource for the whole page. Events are queued and handed to the listeners once per
// animation frame, as one batch, so a busy store costs one render per frame at most.

const listeners = new Set();
const statusListeners = new Set();
let queue = [];
let frame = 0;
let source = null;
let state = 'connecting';

/** Event names the dashboard listens to (raw telemetry stays off: the stream default). */
const names = [
  'device.online',
  'device.offline',
  'device.health',
  'device.rejected',
  'gate.scan',
  'shelf.change',
  'esl.tag.report',
  'esl.tag.delivery',
  'alert.raised',
  'alert.acknowledged',
  'alert.cleared',
  'alert.assigned',
  'checkout.receipt',
  'rfid.presence',
];

function deliver() {
  frame = 0;
  const batch = queue;
  queue = [];
  for (const listener of listeners) {
    try {
      listener(batch);
    } catch (error) {
      console.error('live listener failed', error);
    }
  }
}

function setState(next) {
  state = next;
  for (const listener of statusListeners) listener(state);
}

export function connectLive() {
  if (source !== null) return;
  source = new EventSource('/api/events');
  source.addEventListener('open', () => setState('live'));
  source.addEventListener('error', () => {
    // The browser retries by itself unless the server refused the stream (a 401 after the
    // session ended): then the stream is closed and the app decides (log in again, or reconnect).
    if (source.readyState !== EventSource.CLOSED) return setState('reconnecting');
    source = null;
    setState('closed');
  });
  for (const name of names) {
    source.addEventListener(name, (message) => {
      let data = null;
      try {
        data = JSON.parse(message.data);
      } catch {
        return;
      }
      queue.push({ name, data });
      if (frame === 0) frame = requestAnimationFrame(deliver);
    });
  }
}

/** listener(batch: Array<{ name, data }>); returns the unsubscribe function. */
export function onLive(listener) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function onLiveStatus(listener) {
  statusListeners.add(listener);
  listener(state);
  return () => statusListeners.delete(listener);
}
