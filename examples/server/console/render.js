// The only place that turns data into DOM nodes. Everything a user or their
// app can influence is set as text (textContent, text nodes) or as a
// whitelisted attribute; no HTML is ever parsed from data.

const ATTRS = new Set(['id', 'title', 'type', 'value', 'placeholder', 'role', 'tabindex',
  'name', 'for', 'rows', 'maxlength', 'min', 'max', 'colspan', 'datetime', 'open',
  'viewBox', 'width', 'height', 'x', 'y', 'cx', 'cy', 'r', 'x1', 'x2', 'y1', 'y2', 'd', 'rx', 'points',
  'fill', 'stroke', 'stroke-width', 'text-anchor', 'dominant-baseline', 'preserveAspectRatio',
  'target', 'rel', 'autocomplete', 'spellcheck', 'hidden', 'disabled', 'selected', 'checked', 'download']);
const SVG_NS = 'http://www.w3.org/2000/svg';
const SVG_TAGS = new Set(['svg', 'g', 'rect', 'line', 'path', 'polyline', 'text', 'circle', 'title']);

// Only http(s) links leave the console; anything else (javascript:, data:)
// is dropped.
export function safeUrl(u) {
  if (typeof u !== 'string') return null;
  try {
    const url = new URL(u);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : null;
  } catch (e) {
    return null;
  }
}

function setProp(el, k, v) {
  if (v === null || v === undefined || v === false) return;
  if (k === 'class') el.setAttribute('class', Array.isArray(v) ? v.filter(Boolean).join(' ') : v);
  else if (k === 'text') el.textContent = String(v);
  else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
  else if (k === 'href') {
    // The console's own fragments and paths, or an http(s) link.
    const s = String(v);
    const own = s.startsWith('#') || (s.startsWith('/') && !s.startsWith('//') && !s.startsWith('/\\'));
    const u = own ? s : safeUrl(s);
    if (u) el.setAttribute('href', u);
  } else if (k === 'style') {
    for (const [p, val] of Object.entries(v)) el.style.setProperty(p, String(val));
  } else if (ATTRS.has(k) || k.startsWith('aria-') || k.startsWith('data-')) {
    el.setAttribute(k, v === true ? '' : String(v));
  } else {
    throw new Error('render: attribute not allowed: ' + k);
  }
}

function append(el, c) {
  if (c === null || c === undefined || c === false) return;
  if (Array.isArray(c)) { for (const x of c) append(el, x); return; }
  el.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
}

// h('div', {class: 'x'}, 'text', child, [more]): an element with text
// children only ever as text nodes.
export function h(tag, props, ...children) {
  const el = SVG_TAGS.has(tag) ? document.createElementNS(SVG_NS, tag) : document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) setProp(el, k, v);
  append(el, children);
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

export function replace(el, ...children) {
  clear(el);
  append(el, children);
  return el;
}

// Puts fresh where old is, unless both show the same. A live update that changes nothing
// on screen must not replace what the agent is using: a click whose mouse down and up
// land on two different nodes is lost, and an open menu closes. Handlers are not compared:
// what a handler acts on must show in the nodes too (text, a data-* attribute), or the old
// handler stays.
export function swap(old, fresh) {
  if (old.isEqualNode(fresh)) return old;
  old.replaceWith(fresh);
  return fresh;
}

// ---- formatting ----

const pad = (n) => String(n).padStart(2, '0');

export function clock(ms) {
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function clockSec(ms) {
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function dateTime(ms) {
  if (!ms) return '—';
  const d = new Date(ms);
  const today = new Date();
  const sameDay = d.toDateString() === today.toDateString();
  return sameDay ? clock(ms) : `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${clock(ms)}`;
}

// 45s, 12m, 3h 5m, 2d 4h
export function span(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10 && s % 60) return `${m}m ${s % 60}s`;
  if (m < 60) return `${m}m`;
  const hr = Math.floor(m / 60);
  if (hr < 24) return m % 60 ? `${hr}h ${m % 60}m` : `${hr}h`;
  const d = Math.floor(hr / 24);
  return hr % 24 ? `${d}d ${hr % 24}h` : `${d}d`;
}

// mm:ss under an hour, else the span
export function countdown(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s >= 3600) return span(ms);
  return `${Math.floor(s / 60)}:${pad(s % 60)}`;
}

export function ago(ms, now) {
  return span((now ?? Date.now()) - ms);
}

export function seconds(s) {
  if (s === null || s === undefined) return '—';
  return span(s * 1000);
}

// A JSON value as one line of text (attribute values, metadata).
export function jsonText(v) {
  if (typeof v === 'string') return v;
  if (v === null) return 'null';
  try { return JSON.stringify(v); } catch (e) { return String(v); }
}

export function initials(name) {
  const parts = String(name || '?').trim().split(/[\s._-]+/).filter(Boolean);
  const s = parts.length > 1 ? parts[0][0] + parts[1][0] : String(name || '?').slice(0, 2);
  return s.toUpperCase();
}
