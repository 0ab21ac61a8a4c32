// Plots as inline SVG: a line for a weight trace, bars for counts per bucket. Each has a <title>
// and a text summary beside it for screen readers.
import { s } from './dom.js';

const W = 480;
const H = 160;
const PAD = { left: 48, right: 8, top: 10, bottom: 26 };

function scale(domain, range) {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  const k = d1 === d0 ? 0 : (r1 - r0) / (d1 - d0);
  return (x) => r0 + (x - d0) * k;
}

function niceTicks(min, max, count = 4) {
  if (min === max) return [min];
  const step = 10 ** Math.floor(Math.log10((max - min) / count));
  const err = (count * step) / (max - min);
  const mult = err <= 0.15 ? 10 : err <= 0.35 ? 5 : err <= 0.75 ? 2 : 1;
  const tick = step * mult;
  const ticks = [];
  for (let v = Math.ceil(min / tick) * tick; v <= max + 1e-9; v += tick) ticks.push(Number(v.toFixed(6)));
  return ticks;
}

function axes(x, y, xTicks, yTicks, xLabel, yLabel) {
  return [
    ...yTicks.map((v) => [
      s('line', { x1: PAD.left, x2: W - PAD.right, y1: y(v), y2: y(v), class: 'grid' }),
      s('text', { x: PAD.left - 4, y: y(v) + 4, 'text-anchor': 'end', class: 'tick' }, String(v)),
    ]),
    ...xTicks.map(({ at, label }) => s('text', { x: x(at), y: H - PAD.bottom + 14, 'text-anchor': 'middle', class: 'tick' }, label)),
    s('text', { x: W - PAD.right, y: H - 2, 'text-anchor': 'end', class: 'axis-label' }, xLabel),
    s('text', { x: 4, y: PAD.top + 2, class: 'axis-label' }, yLabel),
  ];
}

/**
 * A weight trace: grams over time, with the change's window shaded.
 * trace = { t: [], grams: [] }, window = { startAt, settledAt }.
 */
export function weightTracePlot(trace, window, title) {
  const t0 = trace.t[0];
  const tEnd = trace.t[trace.t.length - 1];
  const min = Math.min(...trace.grams);
  const max = Math.max(...trace.grams);
  const padG = Math.max(5, (max - min) * 0.1);
  const x = scale([t0, tEnd], [PAD.left, W - PAD.right]);
  const y = scale([min - padG, max + padG], [H - PAD.bottom, PAD.top]);
  const points = trace.t.map((t, i) => `${x(t).toFixed(1)},${y(trace.grams[i]).toFixed(1)}`).join(' ');
  const seconds = [];
  for (let ms = 0; ms <= tEnd - t0; ms += 1000) seconds.push({ at: t0 + ms, label: `${ms / 1000}s` });
  const xTicks = seconds.filter((_, i) => i % Math.max(1, Math.ceil(seconds.length / 6)) === 0);
  return s(
    'svg',
    { viewBox: `0 0 ${W} ${H}`, class: 'plot', role: 'img', 'aria-label': title },
    s('title', {}, title),
    s('rect', {
      x: x(Math.max(t0, window.startAt)),
      y: PAD.top,
      width: Math.max(1, x(Math.min(tEnd, window.settledAt)) - x(Math.max(t0, window.startAt))),
      height: H - PAD.top - PAD.bottom,
      class: 'window',
    }),
    axes(x, y, xTicks, niceTicks(min - padG, max + padG).map((v) => Math.round(v)), 'time', 'g'),
    s('polyline', { points, class: 'line' }),
  );
}

/** Bars: items = [{ label, value }]; every `labelEvery`-th label is drawn. */
export function barPlot(items, title, { unit = '', labelEvery = 1, format = (v) => String(v) } = {}) {
  const max = Math.max(1, ...items.map((i) => i.value));
  const x = scale([0, items.length], [PAD.left, W - PAD.right]);
  const y = scale([0, max * 1.1], [H - PAD.bottom, PAD.top]);
  const bw = Math.max(1, (W - PAD.left - PAD.right) / Math.max(1, items.length) - 2);
  const yTicks = niceTicks(0, max * 1.1);
  return s(
    'svg',
    { viewBox: `0 0 ${W} ${H}`, class: 'plot', role: 'img', 'aria-label': title },
    s('title', {}, title),
    axes(
      (i) => x(i) + bw / 2,
      y,
      items.map((item, i) => ({ at: i, label: i % labelEvery === 0 ? item.label : '' })),
      yTicks.map((v) => Number(v.toFixed(2))),
      '',
      unit,
    ),
    items.map((item, i) =>
      s('rect', { x: x(i) + 1, y: y(item.value), width: bw, height: Math.max(0, y(0) - y(item.value)), class: 'bar' }, s('title', {}, `${item.label}: ${format(item.value)}`)),
    ),
  );
}
