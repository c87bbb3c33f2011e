// Starts the console: the login form or the workspace, the live channel,
// routing between the inbox (#/inbox, #/c/<id>) and the dashboard.
import { h } from './render.js';
import { state, emit, on, upsertConv, typingOf } from './store.js';
import * as api from './api.js';
import { initInbox, loadAll, scheduleList } from './inbox.js';
import { initConversation, select } from './conversation.js';
import { initCustomer } from './customer.js';
import { initDashboard, load as loadDashboard } from './dashboard.js';

const $ = (id) => document.getElementById(id);
let chan = null;
let started = false;

// ---- notices ----

function notice(text, level, key) {
  const box = $('alerts');
  if (key) box.querySelectorAll(`[data-key="${CSS.escape(key)}"]`).forEach((n) => n.remove());
  const el = h('div', { class: ['alert', 'alert-' + level], role: level === 'error' ? 'alert' : 'status', 'data-key': key || '' },
    h('span', {}, text), h('button', { class: 'alert-x', type: 'button', 'aria-label': 'dismiss', onclick: () => el.remove() }, '×'));
  box.appendChild(el);
  while (box.children.length > 3) box.firstChild.remove();
  if (level !== 'breach') setTimeout(() => el.remove(), 8000);
}

on('error', (e) => {
  if (e && e.status === 401) { showLogin('Your session ended. Sign in again.'); return; }
  notice(e && e.message ? e.message : String(e), 'error');
});

// ---- the channel ----

function onFrame(f) {
  switch (f.t) {
    case 'hello':
      state.offset = f.server_ms - Date.now();
      state.me = f.agent;
      for (const a of f.agents || []) state.agents.set(a.name, a);
      renderMe();
      break;
    case 'conv.new':
    case 'conv.update':
      if (upsertConv(f.conv)) { emit('convs'); emit('conv', f.conv); }
      break;
    case 'msg':
      emit('msg', f);
      break;
    case 'typing': {
      const t = typingOf(f.conv);
      if (f.who === 'user') t.user = f.on ? Date.now() : 0;
      else if (f.name) { if (f.on) t.agents.set(f.name, Date.now()); else t.agents.delete(f.name); }
      emit('typing', f.conv);
      break;
    }
    case 'read':
      if (f.side === 'agent') {
        const d = state.details.get(f.conv);
        if (d) d.agent_read_seq = f.seq;
      }
      break;
    case 'context':
      emit('context', f);
      break;
    case 'event':
      emit('event', f);
      break;
    case 'survey':
      emit('survey', f);
      break;
    case 'queue':
      for (const q of f.items || []) {
        const c = state.convs.get(q.conv);
        if (c) c.queue_position = q.position;
        // A queued conversation's team follows its newest triage.
        if (c && c.triage && q.team) c.triage = { ...c.triage, team: q.team };
      }
      scheduleList();
      break;
    case 'presence':
      state.agents.set(f.agent.name, { ...(state.agents.get(f.agent.name) || {}), ...f.agent });
      if (state.me && f.agent.name === state.me.name) { state.me.presence = f.agent.presence; renderMe(); }
      emit('agents');
      break;
    case 'sla': {
      const c = state.convs.get(f.conv);
      const who = c ? c.user : f.conv;
      const kind = f.kind === 'first_response' ? 'first response' : 'next response';
      notice(f.level === 'breach' ? `SLA breached: ${kind} to ${who} (${f.priority})` : `SLA warning: ${kind} to ${who} due soon`,
        f.level === 'breach' ? 'breach' : 'warning', `sla:${f.conv}:${f.kind}`);
      scheduleList();
      break;
    }
    case 'session.end':
      showLogin('Your session ended. Sign in again.');
      break;
    default:
      break;
  }
}

function onChannelState(s) {
  const el = $('channel-state');
  el.className = 'channel-state channel-' + s;
  el.title = { connecting: 'Connecting…', up: 'Live', down: 'Reconnecting…', ended: 'Signed out' }[s] || s;
  el.textContent = s === 'up' ? 'live' : s === 'ended' ? '' : 'reconnecting…';
  if (s === 'up') reload();
  if (s === 'ended') showLogin('Your session ended. Sign in again.');
}

async function reload() {
  try {
    const list = await api.agents.list();
    for (const a of list) state.agents.set(a.name, a);
    await loadAll();
    emit('convs');
    if (state.selected) await select(state.selected);
  } catch (e) {
    emit('error', e);
  }
}

// ---- views ----

function renderMe() {
  if (!state.me) return;
  $('me-name').textContent = state.me.display_name || state.me.name;
  const p = state.me.presence === 'offline' ? 'online' : state.me.presence || 'online';
  $('presence').value = p;
  $('presence-dot').className = 'dot dot-' + p;
}

function route() {
  const hash = location.hash || '#/inbox';
  const dash = hash.startsWith('#/dashboard');
  $('view-inbox').hidden = dash;
  $('view-dashboard').hidden = !dash;
  $('nav-inbox').classList.toggle('active', !dash);
  $('nav-dashboard').classList.toggle('active', dash);
  if (dash) { loadDashboard(); return; }
  const m = hash.match(/^#\/c\/(.+)$/);
  const id = m ? decodeURIComponent(m[1]) : null;
  if (id !== state.selected) select(id);
}

function showLogin(message) {
  if (chan) { chan.close(); chan = null; }
  $('app').hidden = true;
  $('login').hidden = false;
  $('login-error').textContent = message || '';
  $('login-password').value = '';
  $('login-name').focus();
}

async function startApp(me) {
  state.me = { ...me.agent };
  $('login').hidden = true;
  $('app').hidden = false;
  renderMe();
  if (!started) {
    started = true;
    initInbox();
    initConversation();
    initCustomer();
    initDashboard();
    window.addEventListener('hashchange', route);
  }
  chan = api.channel(onFrame, onChannelState);
  route();
}

async function onLogin(e) {
  e.preventDefault();
  const name = $('login-name').value.trim();
  const password = $('login-password').value;
  const btn = e.target.querySelector('button');
  btn.disabled = true;
  $('login-error').textContent = '';
  try {
    await api.login(name, password);
    $('login-password').value = '';
    await startApp(await api.me());
  } catch (err) {
    $('login-error').textContent = err.status === 429
      ? `Too many failed attempts. Try again in ${(err.body && err.body.retry_s) || 'a few'} seconds.`
      : err.status === 401 ? 'Wrong name or password.' : err.message;
  } finally {
    btn.disabled = false;
  }
}

async function boot() {
  $('login-form').addEventListener('submit', onLogin);
  $('logout').addEventListener('click', async () => {
    try { await api.logout(); } catch (e) { /* the session is gone either way */ }
    state.convs.clear();
    showLogin('Signed out.');
  });
  $('presence').addEventListener('change', async (e) => {
    try {
      await api.presence.set(e.target.value);
      state.me.presence = e.target.value;
      renderMe();
    } catch (err) {
      emit('error', err);
    }
  });
  try {
    const me = await api.me();
    if (me.via !== 'session') throw new api.ApiError(401, 'no session');
    await startApp(me);
  } catch (e) {
    showLogin(e.status === 401 ? '' : 'Cannot reach the server: ' + e.message);
  }
}

boot();
