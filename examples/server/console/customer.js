// The single customer view beside the conversation: who the user is, their
// live in-app context (screen, attributes, device, breadcrumbs), tracked
// events, the bot's notes, their other conversations and survey answers.
// `context` and `event` frames update it live; what changed glows briefly.
import { h, replace, clockSec, dateTime, jsonText, ago, initials } from './render.js';
import { state, emit, on, now } from './store.js';
import * as api from './api.js';

const BREADCRUMBS_SHOWN = 12;
const EVENTS_SHOWN = 10;
const FLASH_MS = 4000;
let root;

function flashed(user, key) {
  const f = state.flash.get(user);
  return f && f[key] && Date.now() - f[key] < FLASH_MS ? 'flash' : null;
}

function markFlash(user, keys) {
  const f = state.flash.get(user) || {};
  const t = Date.now();
  for (const k of keys) f[k] = t;
  state.flash.set(user, f);
}

function section(title, ...body) {
  return h('section', { class: 'panel' }, h('h3', { class: 'panel-title' }, title), ...body);
}

function kvTable(obj, user, prefix) {
  const entries = Object.entries(obj || {});
  if (!entries.length) return h('div', { class: 'muted small' }, 'none');
  return h('table', { class: 'kv' }, entries.map(([k, v]) =>
    h('tr', { class: flashed(user, prefix + k) }, h('th', { title: k }, k), h('td', { title: jsonText(v) }, jsonText(v)))));
}

function identity(u) {
  const kind = u.kind === 'anon' ? 'anonymous' : 'identified';
  return h('div', { class: 'who' },
    h('div', { class: 'avatar avatar-user avatar-lg', 'aria-hidden': 'true' }, initials(u.id)),
    h('div', { class: 'who-text' },
      h('div', { class: 'who-id', title: u.id }, u.id),
      h('div', { class: 'who-meta' },
        h('span', { class: ['dot', u.online ? 'dot-online' : 'dot-offline'] }),
        u.online ? 'in the app now' : `last seen ${u.last_seen_ms ? ago(u.last_seen_ms, now()) + ' ago' : 'never'}`),
      h('div', { class: 'who-meta muted' }, [u.app, kind, u.first_seen_ms ? 'since ' + dateTime(u.first_seen_ms) : null].filter(Boolean).join(' · '))));
}

function liveContext(u) {
  const c = u.context || {};
  if (!u.context_shared) {
    return section('Live context', h('div', { class: 'muted small' },
      'The app has not shared context for this user (no consent given, or nothing sent yet).'));
  }
  return section('Live context',
    h('div', { class: ['screen', flashed(u.id, 'screen')], 'data-live': 'screen' },
      h('span', { class: 'screen-label' }, 'Screen'), h('span', { class: 'screen-value' }, c.screen || '—')),
    h('h4', { class: 'sub' }, 'Attributes'), kvTable(c.attributes, u.id, 'a:'),
    h('h4', { class: 'sub' }, 'Device'), kvTable(c.device, u.id, 'd:'),
    h('div', { class: 'muted small updated' }, c.updated_ms ? `updated ${clockSec(c.updated_ms)}` : ''));
}

function breadcrumbs(u) {
  const list = ((u.context && u.context.breadcrumbs) || []).slice(-BREADCRUMBS_SHOWN).reverse();
  return section('Breadcrumbs',
    list.length ? h('ol', { class: 'timeline', 'data-live': 'breadcrumbs' }, list.map((b, i) =>
      h('li', { class: i === 0 ? flashed(u.id, 'breadcrumbs') : null },
        h('time', {}, typeof b.ts === 'number' ? clockSec(b.ts) : ''), h('span', {}, b.text))))
      : h('div', { class: 'muted small' }, 'none'));
}

function events(u) {
  const list = (u.events || []).slice(-EVENTS_SHOWN).reverse();
  return section('Events',
    list.length ? h('ol', { class: 'timeline', 'data-live': 'events' }, list.map((e, i) =>
      h('li', { class: i === 0 ? flashed(u.id, 'events') : null },
        h('time', {}, typeof e.ts === 'number' ? clockSec(e.ts) : ''),
        h('span', { class: 'ev' }, h('span', { class: 'ev-name' }, e.name),
          e.meta && Object.keys(e.meta).length ? h('span', { class: 'ev-meta' }, Object.entries(e.meta).map(([k, v]) =>
            h('span', { class: 'meta-pair' }, h('span', { class: 'meta-k' }, k), '=', jsonText(v)))) : null))))
      : h('div', { class: 'muted small' }, 'none'));
}

function botNotes() {
  const d = state.details.get(state.selected);
  const n = d && d.bot_notes;
  if (!n) return null;
  const row = (label, arr) => arr && arr.length ? h('div', { class: 'note-row' }, h('span', { class: 'note-k' }, label), h('span', {}, arr.join(' → '))) : null;
  return section('Bot notes',
    row('Path', n.path), row('Chose', n.choices),
    n.questions && n.questions.length ? h('div', { class: 'note-row' }, h('span', { class: 'note-k' }, 'Asked'),
      h('ul', { class: 'plain' }, n.questions.map((q) => h('li', {}, q)))) : null,
    row('Articles', n.articles));
}

function otherConversations(u) {
  const list = (u.conversations || []).filter((c) => c.id !== state.selected);
  return section(`Other conversations (${list.length})`,
    list.length ? h('ul', { class: 'mini-list' }, list.slice(0, 20).map((c) =>
      h('li', { class: 'mini-conv', onclick: () => { location.hash = '#/c/' + encodeURIComponent(c.id); } },
        h('span', { class: ['state', 'state-' + c.state] }, c.state),
        h('span', { class: 'mini-subject' }, c.subject || (c.last_message && c.last_message.text) || c.id),
        h('span', { class: 'muted small' }, dateTime(c.updated_ms)))))
      : h('div', { class: 'muted small' }, 'none'));
}

function surveys(u) {
  const list = (u.surveys || []).filter((s) => s.status === 'submitted');
  return section('Survey answers',
    list.length ? h('ul', { class: 'mini-list' }, list.slice(0, 10).map((s) =>
      h('li', { class: 'survey-row', 'data-survey': s.id },
        h('span', { class: 'survey-name' }, s.survey),
        s.csat !== null && s.csat !== undefined ? h('span', { class: 'score' }, 'CSAT ', String(s.csat)) : null,
        s.nps !== null && s.nps !== undefined ? h('span', { class: 'score' }, 'NPS ', String(s.nps)) : null,
        h('span', { class: 'muted small' }, dateTime(s.submitted_ms)))))
      : h('div', { class: 'muted small' }, 'none yet'));
}

export function render() {
  const item = state.convs.get(state.selected);
  const u = item && state.users.get(item.user);
  if (!item) {
    replace(root, h('div', { class: 'customer-empty' },
      h('div', { class: 'panel-title' }, 'Customer'),
      h('p', { class: 'muted small' }, 'Open a conversation to see who wrote: their live in-app context, recent events, the bot\'s notes, their other conversations and survey answers.')));
    return;
  }
  if (!u) { replace(root, h('div', { class: 'muted pad' }, 'Loading the customer…')); return; }
  const scroll = root.scrollTop;
  replace(root, identity(u), liveContext(u), breadcrumbs(u), events(u), botNotes(), surveys(u), otherConversations(u));
  root.scrollTop = scroll;
}

export async function load(user) {
  try {
    state.users.set(user, await api.users.get(user));
    emit('user', user);
  } catch (e) {
    emit('error', e);
  }
}

// A context frame, applied with the stored picture's rules (protocol.md,
// "context"): a full state sets what it carries and keeps what it lacks
// (the server keeps it as the last known value), a patch sets what
// changed; the breadcrumbs of a full state are the whole ring, a patch's
// are new ones. Only values that really changed glow: a reconnecting app
// resends everything, which is no news to the agent.
function applyContext(f) {
  const u = state.users.get(f.user);
  if (!u) return;
  const c = u.context || {};
  c.attributes = c.attributes || {};
  c.device = c.device || {};
  c.breadcrumbs = c.breadcrumbs || [];
  const changed = [];
  const differs = (a, b) => JSON.stringify(a) !== JSON.stringify(b);
  const merge = (into, from, prefix) => {
    for (const [k, v] of Object.entries(from || {})) {
      if (differs(into[k], v)) { into[k] = v; changed.push(prefix + k); }
    }
  };
  merge(c.attributes, f.attributes, 'a:');
  merge(c.device, f.device, 'd:');
  if (typeof f.screen === 'string' && f.screen !== c.screen) { c.screen = f.screen; changed.push('screen'); }
  if (Array.isArray(f.breadcrumbs) && f.breadcrumbs.length) {
    const next = (f.full ? f.breadcrumbs : c.breadcrumbs.concat(f.breadcrumbs)).slice(-50);
    if (differs(next, c.breadcrumbs)) { c.breadcrumbs = next; changed.push('breadcrumbs'); }
  }
  c.updated_ms = f.updated_ms || now();
  u.context = c;
  u.context_shared = true;
  markFlash(f.user, changed);
}

export function initCustomer() {
  root = document.getElementById('customer');
  render();
  on('selected', () => {
    const item = state.convs.get(state.selected);
    render();
    if (item) load(item.user);
  });
  on('user', (user) => { const i = state.convs.get(state.selected); if (i && i.user === user) render(); });
  on('detail', (id) => { if (id === state.selected) render(); });
  on('context', (f) => { applyContext(f); emit('user', f.user); });
  on('event', (f) => {
    const u = state.users.get(f.user);
    if (!u) return;
    u.events = (u.events || []).concat([f.event]).slice(-50);
    markFlash(f.user, ['events']);
    emit('user', f.user);
  });
  on('survey', (f) => {
    const u = state.users.get(f.user);
    if (!u) return;
    u.surveys = [f.survey].concat((u.surveys || []).filter((s) => s.id !== f.survey.id));
    emit('user', f.user);
  });
}
