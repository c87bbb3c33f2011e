// The inbox: four lists (queue, mine, all open, closed) with counts,
// unread badges, priority and the SLA countdown of each conversation.
import { h, replace, countdown, ago } from './render.js';
import { state, emit, on, inFilter, sortFor, slaOf, now, agentName } from './store.js';
import * as api from './api.js';

const FILTERS = ['queue', 'mine', 'open', 'closed'];
const STATE_LABEL = { bot: 'Bot', queued: 'Queued', agent: 'Assigned', open: 'Reopened', closed: 'Closed' };
let listEl;
let pending = false;

export function slaBadge(item, t) {
  const s = slaOf(item, t);
  if (!s) return null;
  const left = s.due - t;
  const label = s.kind === 'first_response' ? 'First response' : 'Next response';
  const text = s.level === 'breach' ? '+' + countdown(-left) : countdown(left);
  return h('span', {
    class: ['sla', 'sla-' + s.level],
    title: `${label} ${s.level === 'breach' ? 'overdue since' : 'due'} ${new Date(s.due).toLocaleTimeString()}`,
    'data-sla': s.level,
    'data-due': s.due,
    'data-warn': s.warn || '',
    'data-kind': s.kind,
  }, text);
}

function row(item, t) {
  const last = item.last_message;
  const who = last && last.author ? (last.author.kind === 'user' ? '' : (last.author.name || last.author.kind) + ': ') : '';
  const unread = item.unread > 0 && item.state !== 'closed';
  return h('li', {
    class: ['conv-row', 'prio-' + item.priority, item.id === state.selected && 'selected', unread && 'unread'],
    'data-conv': item.id,
    tabindex: '0',
    role: 'button',
    onclick: () => { location.hash = '#/c/' + encodeURIComponent(item.id); },
    onkeydown: (e) => { if (e.key === 'Enter') location.hash = '#/c/' + encodeURIComponent(item.id); },
  },
  h('div', { class: 'row-top' },
    h('span', { class: 'row-user', title: item.user }, item.user),
    item.priority !== 'normal' ? h('span', { class: ['prio', 'prio-tag-' + item.priority] }, item.priority) : null,
    h('span', { class: 'row-spacer' }),
    slaBadge(item, t) || h('span', { class: 'row-time' }, ago(item.updated_ms, t))),
  h('div', { class: 'row-subject' }, item.subject || (last ? last.text : '')),
  h('div', { class: 'row-bottom' },
    h('span', { class: 'row-last' }, last ? who + last.text : 'No messages yet'),
    unread ? h('span', { class: 'badge', 'aria-label': `${item.unread} unread` }, String(item.unread)) : null),
  h('div', { class: 'row-meta' },
    h('span', { class: ['state', 'state-' + item.state] }, STATE_LABEL[item.state] || item.state),
    item.assignee ? h('span', { class: 'row-assignee' }, agentName(item.assignee.name)) : null,
    item.state === 'closed' && item.last_action && item.last_action.action === 'close' && item.last_action.by
      ? h('span', { class: 'row-assignee' }, 'by ', agentName(item.last_action.by)) : null,
    item.queue_position ? h('span', { class: 'row-assignee' }, '#' + item.queue_position + ' in line') : null,
    item.triage ? h('span', { class: 'team-tag', title: `Triage score ${item.triage.score}` }, item.triage.team) : null,
    item.triage && item.triage.jump ? h('span', { class: 'vip-tag' }, 'VIP') : null));
}

export function renderList() {
  pending = false;
  const t = now();
  const items = [...state.convs.values()].filter((c) => inFilter(c, state.filter)).sort(sortFor(state.filter));
  replace(listEl, items.length ? items.map((c) => row(c, t))
    : h('li', { class: 'list-empty' }, state.filter === 'queue' ? 'Nobody is waiting.' : 'Nothing here.'));
  for (const f of FILTERS) {
    const el = document.querySelector(`[data-count="${f}"]`);
    if (el) {
      const n = f === 'closed' ? 0 : [...state.convs.values()].filter((c) => inFilter(c, f)).length;
      el.textContent = n ? String(n) : '';
    }
  }
  document.querySelectorAll('.tab').forEach((b) => {
    b.classList.toggle('active', b.dataset.filter === state.filter);
    b.setAttribute('aria-selected', b.dataset.filter === state.filter ? 'true' : 'false');
  });
  const more = document.getElementById('list-more');
  more.hidden = !(state.filter === 'closed' && state.closedNext);
}

export function scheduleList() {
  if (!pending) {
    pending = true;
    requestAnimationFrame(renderList);
  }
}

// Every conversation that is not closed (all pages), and the first page of
// closed ones.
export async function loadAll() {
  let cursor = null;
  const seen = new Set();
  do {
    const params = { state: 'active', limit: '200' };
    if (cursor) params.cursor = cursor;
    const page = await api.conv.list(params);
    for (const it of page.items) { state.convs.set(it.id, it); seen.add(it.id); }
    cursor = page.next;
  } while (cursor && seen.size < 2000);
  for (const [id, c] of state.convs) if (c.state !== 'closed' && !seen.has(id)) state.convs.delete(id);
  state.closedNext = undefined;
  await loadClosed();
}

async function loadClosed() {
  const params = { state: 'closed', limit: '50' };
  if (state.closedNext) params.cursor = state.closedNext;
  const page = await api.conv.list(params);
  for (const it of page.items) state.convs.set(it.id, it);
  state.closedNext = page.next;
  scheduleList();
}

// The countdowns move every second without redrawing the list.
function tick() {
  const t = now();
  let reorder = false;
  listEl.querySelectorAll('.sla[data-due]').forEach((el) => {
    const due = Number(el.dataset.due);
    const warn = Number(el.dataset.warn || 0);
    const level = t >= due ? 'breach' : warn && t >= warn ? 'warning' : 'ok';
    const left = due - t;
    el.textContent = level === 'breach' ? '+' + countdown(-left) : countdown(left);
    if (level !== el.dataset.sla) reorder = true;
  });
  if (reorder) scheduleList();
}

export function initInbox() {
  listEl = document.getElementById('conv-list');
  document.querySelectorAll('.tab').forEach((b) => b.addEventListener('click', () => {
    state.filter = b.dataset.filter;
    renderList();
  }));
  document.querySelector('#list-more button').addEventListener('click', () => loadClosed().catch((e) => emit('error', e)));
  on('convs', scheduleList);
  on('selected', scheduleList);
  setInterval(tick, 1000);
}
