// Small charts as inline SVG and HTML bars: no library, nothing loaded.
import { h } from './render.js';

const W = 560;
const H = 180;
const PAD = { l: 36, r: 8, t: 10, b: 24 };

// Steps a count axis may take (1, 2, 5 times a power of ten) and steps of
// a duration axis in seconds (whole seconds, minutes, hours, days), so no
// two labels read the same.
const COUNT_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000];
export const TIME_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 21600,
  43200, 86400, 172800, 604800];

// 0, step, 2·step … up to the first tick at or above v: at most about
// four intervals.
function ticks(v, steps) {
  const top = Math.max(v, 0);
  const step = steps.find((s) => s * 4 >= top) || steps[steps.length - 1];
  const n = Math.max(1, Math.ceil(top / step));
  return Array.from({ length: n + 1 }, (_, i) => i * step);
}

function axes(marks, fmt, labels) {
  const out = [];
  const ih = H - PAD.t - PAD.b;
  const max = marks[marks.length - 1];
  for (const m of marks) {
    const y = PAD.t + ih - (m / max) * ih;
    out.push(h('line', { class: 'grid', x1: PAD.l, x2: W - PAD.r, y1: y, y2: y }));
    out.push(h('text', { class: 'axis', x: PAD.l - 6, y, 'text-anchor': 'end', 'dominant-baseline': 'middle' }, fmt(m)));
  }
  const iw = W - PAD.l - PAD.r;
  const every = Math.max(1, Math.ceil(labels.length / 10));
  labels.forEach((l, i) => {
    if (i % every) return;
    const x = PAD.l + (i + 0.5) * (iw / labels.length);
    out.push(h('text', { class: 'axis', x, y: H - 6, 'text-anchor': 'middle' }, l));
  });
  return out;
}

// Grouped bars: rows [{label, values: [..]}], one colour class per series.
export function bars(rows, series, fmt = (v) => String(Math.round(v))) {
  const marks = ticks(Math.max(0, ...rows.flatMap((r) => r.values.filter((v) => v !== null))), COUNT_STEPS);
  const max = marks[marks.length - 1];
  const iw = W - PAD.l - PAD.r;
  const ih = H - PAD.t - PAD.b;
  const slot = iw / Math.max(1, rows.length);
  const bw = Math.max(2, Math.min(22, (slot * 0.7) / series.length));
  const shapes = [];
  rows.forEach((r, i) => {
    r.values.forEach((v, k) => {
      if (v === null || v === undefined) return;
      const bh = (v / max) * ih;
      const x = PAD.l + i * slot + (slot - bw * series.length) / 2 + k * bw;
      shapes.push(h('rect', { class: 'bar ' + series[k].cls, x, y: PAD.t + ih - bh, width: bw - 1, height: Math.max(0, bh), rx: 1 },
        h('title', {}, `${r.label} · ${series[k].label}: ${fmt(v)}`)));
    });
  });
  return h('div', { class: 'chart' },
    h('svg', { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'none', role: 'img', 'aria-label': series.map((s) => s.label).join(', ') },
      axes(marks, fmt, rows.map((r) => r.label)), shapes),
    legend(series));
}

// A line over rows [{label, value|null}]; gaps where there is no value.
// `steps`: the axis's steps (durations: TIME_STEPS).
export function line(rows, label, fmt, steps = COUNT_STEPS) {
  const vals = rows.map((r) => r.value).filter((v) => v !== null && v !== undefined);
  const marks = ticks(Math.max(0, ...vals), steps);
  const max = marks[marks.length - 1];
  const iw = W - PAD.l - PAD.r;
  const ih = H - PAD.t - PAD.b;
  const slot = iw / Math.max(1, rows.length);
  const pts = rows.map((r, i) => (r.value === null || r.value === undefined ? null
    : [PAD.l + (i + 0.5) * slot, PAD.t + ih - (r.value / max) * ih, r]));
  const segs = [];
  let cur = [];
  for (const p of pts) {
    if (p) cur.push(p);
    else if (cur.length) { segs.push(cur); cur = []; }
  }
  if (cur.length) segs.push(cur);
  return h('div', { class: 'chart' },
    h('svg', { viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: 'none', role: 'img', 'aria-label': label },
      axes(marks, fmt, rows.map((r) => r.label)),
      segs.map((s) => h('polyline', { class: 'line', points: s.map((p) => `${p[0]},${p[1]}`).join(' ') })),
      pts.filter(Boolean).map((p) => h('circle', { class: 'point', cx: p[0], cy: p[1], r: 3 },
        h('title', {}, `${p[2].label}: ${fmt(p[2].value)}`)))),
    legend([{ label, cls: 'line-key' }]));
}

function legend(series) {
  return h('div', { class: 'legend' }, series.map((s) => h('span', { class: 'legend-item' }, h('span', { class: 'swatch ' + s.cls }), s.label)));
}

// Horizontal bars in HTML: [{label, value, cls}]
export function hbars(rows, fmt = (v) => String(v)) {
  const max = Math.max(1, ...rows.map((r) => r.value || 0));
  return h('div', { class: 'hbars' }, rows.map((r) => h('div', { class: 'hbar-row' },
    h('span', { class: 'hbar-label' }, r.label),
    h('span', { class: 'hbar-track' }, h('span', { class: 'hbar-fill ' + (r.cls || ''), style: { width: `${(100 * (r.value || 0)) / max}%` } })),
    h('span', { class: 'hbar-value' }, fmt(r.value || 0)))));
}
