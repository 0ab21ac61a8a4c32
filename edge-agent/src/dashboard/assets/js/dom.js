// Small DOM helpers: elements are built with text nodes only (no HTML is ever parsed), so nothing the
// API returns can become markup.

const SVG_NS = 'http://www.w3.org/2000/svg';

/** h('button', { class: 'x', onclick: fn }, 'text', child) */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  return fill(el, attrs, children);
}

/** The same for SVG elements. */
export function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  return fill(el, attrs, children);
}

function fill(el, attrs, children) {
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces an element's children. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export function money(minor, currency = 'EUR') {
  if (minor === null || minor === undefined) return '–';
  return new Intl.NumberFormat(undefined, { style: 'currency', currency: currency ?? 'EUR' }).format(minor / 100);
}

export function time(ms) {
  if (!ms) return '–';
  return new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
}

export function ago(ms) {
  if (!ms) return 'never';
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

export function pct(x) {
  return x === null || x === undefined ? '–' : `${Math.round(x * 100)} %`;
}

/** A table with a caption (screen readers) and a body built by `row` for each item. */
export function table(caption, headers, items, row, empty = 'Nothing here.') {
  if (items.length === 0) return h('p', { class: 'empty' }, empty);
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      {},
      h('caption', { class: 'sr-only' }, caption),
      h('thead', {}, h('tr', {}, headers.map((x) => h('th', { scope: 'col' }, x)))),
      h('tbody', {}, items.map(row)),
    ),
  );
}

/** A status chip: the text carries the meaning, the colour only repeats it. */
export function chip(text, kind = '') {
  return h('span', { class: `chip ${kind}` }, text);
}

const KEYS = ['receipt', 'alert', 'label', 'tray', 'review', 'session', 'device'];
const FOCUSABLE = 'a[href], button, input, select, summary';

/**
 * Re-renders `container` with `render()` and puts the keyboard focus back where it was: on the
 * same control of the same row or card (matched by its data-receipt, data-alert, … key), so a
 * live refresh never throws a keyboard user back to the top.
 */
export function keepFocus(container, render) {
  const active = document.activeElement;
  if (!(active instanceof Element) || !container.contains(active)) return render();
  const keyed = active.closest(KEYS.map((k) => `[data-${k}]`).join(','));
  const key = keyed && KEYS.find((k) => keyed.dataset[k] !== undefined);
  const index = keyed ? [...keyed.querySelectorAll(FOCUSABLE)].indexOf(active) : -1;
  const result = render();
  if (key) {
    const again = container.querySelector(`[data-${key}="${CSS.escape(keyed.dataset[key])}"]`);
    const target = again && (index >= 0 ? again.querySelectorAll(FOCUSABLE)[index] : again);
    if (target instanceof HTMLElement) target.focus();
  }
  return result;
}

/** A figure tile: a label, a big value and a note under it. */
export function tile(label, value, note) {
  return h('div', { class: 'tile' }, h('span', { class: 'tile-label' }, label), h('strong', {}, value), h('small', {}, note));
}

/**
 * Coalesces reloads: many requests while one load runs give one more load after it, at most
 * one per `minGapMs`. Live events call `request()`; nothing reloads the whole page.
 */
export function refresher(load, minGapMs = 400) {
  let running = false;
  let again = false;
  let timer = null;
  let last = 0;
  let stopped = false;
  const run = async () => {
    timer = null;
    if (stopped) return;
    running = true;
    again = false;
    last = Date.now();
    try {
      await load();
    } catch (error) {
      // A failed reload is logged (the next event or tick tries again); the page keeps what it shows.
      console.error('refresh failed', error);
    } finally {
      running = false;
      if (again && !stopped) schedule();
    }
  };
  const schedule = () => {
    if (timer !== null) return;
    timer = setTimeout(run, Math.max(0, last + minGapMs - Date.now()));
  };
  return {
    request() {
      if (running) again = true;
      else schedule();
    },
    now() {
      return run();
    },
    stop() {
      stopped = true;
      if (timer !== null) clearTimeout(timer);
    },
  };
}
