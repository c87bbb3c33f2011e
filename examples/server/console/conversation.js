// The conversation view: header with state, priority, SLA and actions; the
// transcript (messages with their structured blocks, postbacks, context
// snapshots, agent actions, survey answers, typing); the reply box.
import { h, replace, swap, clock, dateTime, jsonText, initials, safeUrl } from './render.js';
import { state, emit, on, now, slaOf, typingOf, agentName, inFilter, sortFor, PRIORITIES } from './store.js';
import { slaBadge } from './inbox.js';
import * as api from './api.js';

const ACTION_TEXT = {
  handoff: () => 'The bot handed the conversation to the team',
  assign: (a) => `${who(a.by)} took the conversation` + (a.detail && a.detail.to && a.detail.to !== a.by ? ` for ${agentName(a.detail.to)}` : ''),
  transfer: (a) => `${who(a.by)} transferred the conversation to ${agentName((a.detail && a.detail.to) || '?')}` +
    (a.detail && a.detail.note ? ` — “${a.detail.note}”` : ''),
  bot: (a) => `${who(a.by)} handed the conversation back to the bot`,
  close: (a) => `${who(a.by)} closed the conversation`,
  reopen: (a) => (a.by === 'user' ? 'The user wrote again: reopened' : `${who(a.by)} reopened the conversation`),
  priority: (a) => `${who(a.by)} set the priority to ${(a.detail && a.detail.to) || '?'}`,
};

function who(name) {
  if (!name) return 'Someone';
  if (name === 'bot') return 'The bot';
  if (name === 'user') return 'The user';
  if (name === 'rules') return 'Triage';
  return agentName(name);
}

let root;
let triageOpen = false;
let composer = { qr: [], buttons: [] };
let readTimer = null;
let typingSent = 0;
let typingOff = null;

// ---- blocks ----

function choiceChip(label, extra, title) {
  return h('span', { class: ['chip', extra], title }, label);
}

function buttonEl(b) {
  if (b.action === 'url') {
    const href = safeUrl(b.url);
    return h('a', { class: 'chip chip-link', href, target: '_blank', rel: 'noopener noreferrer', title: b.url }, b.label, ' ↗');
  }
  return choiceChip(b.label, 'chip-button', b.payload ? `postback: ${b.payload}` : 'postback');
}

function card(c) {
  return h('div', { class: 'card' },
    h('div', { class: 'card-title' }, c.title),
    c.text ? h('div', { class: 'card-text' }, c.text) : null,
    c.image ? h('div', { class: 'card-image', title: c.image }, 'image: ', c.image) : null,
    c.buttons && c.buttons.length ? h('div', { class: 'chips' }, c.buttons.map(buttonEl)) : null);
}

function blocks(list) {
  if (!Array.isArray(list)) return null;
  return list.map((b) => {
    switch (b && b.kind) {
      case 'quick_replies':
        return h('div', { class: 'chips', 'data-block': 'quick_replies' },
          (b.options || []).map((o) => choiceChip(o.label, 'chip-qr', o.payload ? `payload: ${o.payload}` : null)));
      case 'buttons':
        return h('div', { class: 'chips', 'data-block': 'buttons' }, (b.buttons || []).map(buttonEl));
      case 'card':
        return card(b);
      case 'carousel':
        return h('div', { class: 'carousel' }, (b.cards || []).map(card));
      default:
        return h('div', { class: 'block-unknown' }, `[${(b && b.kind) || 'block'}]`);
    }
  });
}

// The label of the choice a postback answered, found in the message it
// names.
function postbackLabel(conv, pb) {
  const msgs = state.messages.get(conv) || [];
  const m = msgs.find((x) => x.id === pb.msg);
  for (const b of (m && m.blocks) || []) {
    const opts = b.kind === 'quick_replies' ? b.options : b.kind === 'buttons' ? b.buttons : b.kind === 'card' ? b.buttons : [];
    const hit = (opts || []).find((o) => o.id === pb.option);
    if (hit) return hit.label;
  }
  return pb.payload || pb.option;
}

function snapshot(ctx) {
  if (!ctx || typeof ctx !== 'object') return null;
  const rows = [];
  if (ctx.screen) rows.push(['screen', ctx.screen]);
  for (const [k, v] of Object.entries(ctx.attributes || {})) rows.push([k, jsonText(v)]);
  for (const [k, v] of Object.entries(ctx)) {
    if (k !== 'screen' && k !== 'attributes' && k !== 'breadcrumbs' && k !== 'device') rows.push([k, jsonText(v)]);
  }
  if (Array.isArray(ctx.breadcrumbs) && ctx.breadcrumbs.length) {
    const last = ctx.breadcrumbs[ctx.breadcrumbs.length - 1];
    rows.push(['last action', last && last.text ? last.text : jsonText(last)]);
  }
  if (!rows.length) return null;
  return h('details', { class: 'snapshot' },
    h('summary', {}, 'context when sent', ctx.screen ? ` · ${ctx.screen}` : ''),
    h('table', { class: 'kv' }, rows.map(([k, v]) => h('tr', {}, h('th', {}, k), h('td', {}, v)))));
}

// A file the message carries: a link the server answers with the file
// itself (Content-Disposition: attachment, nosniff), never shown inline.
function fileSize(n) {
  if (n >= 1048576) return `${(n / 1048576).toFixed(1)} MB`;
  if (n >= 1024) return `${Math.round(n / 1024)} KB`;
  return `${n} B`;
}

function attachment(a) {
  if (!a || !a.id) return null;
  return h('a', { class: 'attachment', href: `/api/attachments/${encodeURIComponent(a.id)}`, title: a.type || '' },
    '📎 ', a.name || a.id, h('span', { class: 'attachment-size' }, ` · ${fileSize(Number(a.size) || 0)}`));
}

function message(conv, m) {
  const kind = (m.author && m.author.kind) || 'system';
  const name = kind === 'user' ? conv.user : kind === 'bot' ? (m.author.name || 'Bot') : kind === 'agent' ? (m.author.name || agentName(m.by)) : 'System';
  if (kind === 'system') return h('div', { class: 'event-line', 'data-seq': m.seq }, m.text);
  return h('div', { class: ['msg', 'msg-' + kind], 'data-seq': m.seq, 'data-msg': m.id },
    kind !== 'agent' ? h('div', { class: ['avatar', 'avatar-' + kind], 'aria-hidden': 'true' }, kind === 'bot' ? 'B' : initials(conv.user)) : null,
    h('div', { class: 'msg-body' },
      h('div', { class: 'msg-head' },
        h('span', { class: 'msg-name' }, name),
        kind === 'bot' ? h('span', { class: 'tag' }, 'bot') : null,
        kind === 'agent' && m.by ? h('span', { class: 'msg-by', title: 'agent account' }, '@' + m.by) : null,
        h('time', { class: 'msg-time', title: new Date(m.ts).toLocaleString() }, clock(m.ts))),
      m.postback ? h('div', { class: 'postback' }, '↩ chose ', h('strong', {}, postbackLabel(conv.id, m.postback))) : null,
      m.text && !(m.postback && m.text === postbackLabel(conv.id, m.postback)) ? h('div', { class: 'msg-text' }, m.text) : null,
      blocks(m.blocks),
      attachment(m.attachment),
      kind === 'user' ? snapshot(m.context) : null));
}

function actionLine(a) {
  const f = ACTION_TEXT[a.action];
  return h('div', { class: 'event-line', 'data-action': a.action },
    h('span', {}, f ? f(a) : `${who(a.by)}: ${a.action}`), ' · ', h('time', {}, clock(a.ts)));
}

function surveyLine(s) {
  const parts = [];
  if (s.csat !== null && s.csat !== undefined) parts.push(`CSAT ${s.csat}`);
  if (s.nps !== null && s.nps !== undefined) parts.push(`NPS ${s.nps}`);
  const status = s.status === 'submitted' ? `answered the “${s.survey}” survey` + (parts.length ? ': ' + parts.join(', ') : '')
    : s.status === 'dismissed' ? `dismissed the “${s.survey}” survey` : `was sent the “${s.survey}” survey`;
  return h('div', { class: ['event-line', 'survey-line'], 'data-survey': s.id }, 'The user ', status,
    s.status === 'submitted' ? h('span', { class: 'answers' }, ' ', jsonText(s.answers)) : null);
}

// ---- the header ----

const STATE_LABEL = { bot: 'Bot', queued: 'Queued', agent: 'Assigned', open: 'Reopened', closed: 'Closed' };

function slaHead(item) {
  const t = now();
  const s = slaOf(item, t);
  if (!s) return null;
  const what = s.kind === 'first_response' ? 'first reply' : 'next reply';
  return [s.level === 'breach' ? `${what} overdue` : `${what} due in`, slaBadge(item, t)];
}

// What triage decided and why (docs/routing.md): the scores, the route,
// the team and the VIP lane, what the app said the request is about, and
// the rules that fired, in the order they did.
const ROUTE_LABEL = { kb: 'knowledge base first', bot: 'bot', human: 'human queue' };

function aboutText(about) {
  if (!about) return '';
  return [about.category, about.area, about.severity && `severity hint ${about.severity}`].filter(Boolean).join(' · ');
}

// The box stays as the agent left it, across redraws and conversations. Read from the page:
// the toggle event comes a task after the click, maybe after a redraw.
function triageIsOpen() {
  const box = root.querySelector('details.triage');
  if (box) triageOpen = box.open;
  return triageOpen;
}

function triageBox(detail) {
  const t = detail && detail.triage;
  if (!t) return null;
  const reasons = t.reasons || [];
  const said = aboutText(detail.about);
  return h('details', { class: 'triage', open: triageIsOpen() },
    h('summary', { class: 'triage-summary' },
      h('span', { class: 'triage-score', title: 'Triage score, 0 to 100' }, `Score ${t.score}`),
      h('span', { class: 'muted small' }, `complexity ${t.complexity} · severity ${t.severity} · effort ${t.effort}`),
      h('span', { class: 'triage-route' }, ROUTE_LABEL[t.route] || t.route),
      h('span', { class: 'team-tag' }, 'team ', t.team),
      t.jump ? h('span', { class: 'vip-tag' }, 'VIP lane') : null,
      h('span', { class: 'muted small' }, `${reasons.length} ${reasons.length === 1 ? 'reason' : 'reasons'}`)),
    said ? h('div', { class: 'triage-about small' }, 'The app says: ', said) : null,
    h('ol', { class: 'triage-reasons' }, reasons.map((r) => h('li', { 'data-rule': r.rule },
      h('span', { class: 'triage-rule' }, r.rule), ' ', r.text))));
}

function header(item, detail) {
  const mine = item.assignee && state.me && item.assignee.name === state.me.name;
  const closed = item.state === 'closed';
  const others = [...state.agents.values()].filter((a) => !item.assignee || a.name !== item.assignee.name);
  const act = (fn, label) => h('button', { class: 'btn', type: 'button', 'data-action': label, onclick: () => run(fn) }, label);
  return h('div', { class: 'conv-header' },
    h('div', { class: 'conv-title' },
      h('div', { class: 'conv-user' }, item.user),
      h('div', { class: 'conv-subject' }, item.subject || 'No subject'),
      h('div', { class: 'conv-chips' },
        h('span', { class: ['state', 'state-' + item.state] }, STATE_LABEL[item.state] || item.state),
        item.assignee ? h('span', { class: 'assignee' }, 'with ', agentName(item.assignee.name)) : h('span', { class: 'assignee muted' }, 'unassigned'),
        h('span', { class: 'conv-sla' }, slaHead(item)),
        h('span', { class: 'muted small' }, 'opened ', dateTime(item.created_ms)))),
    h('div', { class: 'conv-actions' },
      h('label', { class: 'select-label' }, 'Priority ',
        h('select', { class: ['prio-select', 'prio-' + item.priority], 'aria-label': 'Priority', onchange: (e) => run(() => api.conv.priority(item.id, e.target.value)) },
          PRIORITIES.map((p) => h('option', { value: p, selected: p === item.priority }, p)))),
      !closed && !mine ? act(() => api.conv.assign(item.id), 'Take') : null,
      !closed && item.assignee ? h('select', {
        class: 'transfer-select', 'aria-label': 'Transfer to',
        onchange: (e) => { const to = e.target.value; e.target.value = ''; if (to) run(() => api.conv.transfer(item.id, to)); },
      }, h('option', { value: '' }, 'Transfer to…'),
      others.map((a) => h('option', { value: a.name }, `${a.display_name || a.name} · ${a.presence}`))) : null,
      !closed && item.state !== 'bot' ? act(() => api.conv.bot(item.id), 'Hand back to bot') : null,
      !closed ? act(() => api.conv.close(item.id), 'Close') : act(() => api.conv.reopen(item.id), 'Reopen')),
    triageBox(detail));
}

async function run(fn) {
  try {
    const item = await fn();
    if (item && item.id) { state.convs.set(item.id, item); emit('convs'); }
    await refreshDetail(state.selected);
  } catch (e) {
    emit('error', e);
  }
}

// ---- the transcript ----

function transcriptItems(item) {
  const out = [];
  const msgs = state.messages.get(item.id) || [];
  // Actions and answers among the messages not loaded yet wait for them.
  const from = state.older.get(item.id) && msgs.length ? msgs[0].ts : -Infinity;
  for (const m of msgs) out.push({ ts: m.ts, order: 1, el: () => message(item, m) });
  const d = state.details.get(item.id);
  for (const a of (d && d.actions) || []) if (a.ts >= from) out.push({ ts: a.ts, order: 2, el: () => actionLine(a) });
  const u = state.users.get(item.user);
  for (const s of (u && u.surveys) || []) {
    const ts = s.submitted_ms || s.delivered_ms;
    if (s.conv === item.id && ts >= from) out.push({ ts, order: 3, el: () => surveyLine(s) });
  }
  out.sort((a, b) => a.ts - b.ts || a.order - b.order);
  return out.map((x) => x.el());
}

function typingLine(item) {
  const t = typingOf(item.id);
  const n = Date.now();
  const names = [];
  if (t.user && n - t.user < 6000) names.push(item.user);
  for (const [name, ms] of t.agents) if (n - ms < 6000 && (!state.me || name !== state.me.name)) names.push(agentName(name));
  return names.length ? `${names.join(', ')} ${names.length > 1 ? 'are' : 'is'} typing…` : '';
}

// The page before the oldest message shown goes in above it; what the agent
// was reading stays where it was on screen. A list that changed meanwhile
// (a refresh) takes no page that would not join it.
async function loadEarlier(id, button) {
  const before = (state.messages.get(id) || [])[0];
  if (!before) return;
  button.disabled = true;
  try {
    const page = await api.conv.messages(id, before.seq);
    const list = state.messages.get(id) || [];
    if (list[0] !== before) return;
    state.messages.set(id, page.list.concat(list));
    state.older.set(id, page.older);
    const item = state.convs.get(id);
    if (item && id === state.selected) renderTranscript(item, true);
  } catch (e) {
    emit('error', e);
  } finally {
    button.disabled = false;
  }
}

function earlierButton(item) {
  if (!state.older.get(item.id)) return null;
  return h('button', { class: 'btn btn-ghost earlier', type: 'button', 'data-action': 'earlier', onclick: (e) => loadEarlier(item.id, e.currentTarget) },
    'Show earlier messages');
}

function renderTranscript(item, keepView) {
  const box = root.querySelector('.transcript');
  if (!box) return;
  const fromBottom = box.scrollHeight - box.scrollTop;
  const atBottom = fromBottom - box.clientHeight < 60;
  replace(box, earlierButton(item), transcriptItems(item), h('div', { class: 'typing', 'aria-live': 'polite' }, typingLine(item)));
  if (keepView) box.scrollTop = box.scrollHeight - fromBottom;
  else if (atBottom || !box.dataset.scrolled) { box.scrollTop = box.scrollHeight; box.dataset.scrolled = '1'; }
}

// ---- the reply box ----

function chipsEditor(kind) {
  const list = composer[kind];
  return list.map((label, i) => h('span', { class: 'chip chip-edit' }, label,
    h('button', { type: 'button', class: 'chip-x', 'aria-label': `remove ${label}`, onclick: () => { list.splice(i, 1); renderComposer(); } }, '×')));
}

function addInput(kind, placeholder) {
  return h('input', {
    class: 'add-input', placeholder, maxlength: '128', 'data-add': kind,
    onkeydown: (e) => {
      if (e.key === 'Enter') {
        e.preventDefault();
        const v = e.target.value.trim();
        if (v && composer[kind].length < 13 && !composer[kind].includes(v)) composer[kind].push(v);
        e.target.value = '';
        renderComposer();
        root.querySelector(`[data-add="${kind}"]`).focus();
      }
    },
  });
}

function composerBlocks() {
  const out = [];
  if (composer.qr.length) {
    out.push({ kind: 'quick_replies', options: composer.qr.map((l, i) => ({ id: 'q' + (i + 1), label: l, payload: l })) });
  }
  if (composer.buttons.length) {
    out.push({ kind: 'buttons', buttons: composer.buttons.map((l, i) => ({ id: 'b' + (i + 1), label: l, action: 'postback', payload: l })) });
  }
  return out;
}

function renderComposer() {
  const box = root.querySelector('.composer-extras');
  if (!box) return;
  replace(box,
    h('div', { class: 'extra-row' }, h('span', { class: 'extra-label' }, 'Quick replies'), chipsEditor('qr'), addInput('qr', 'add… ⏎')),
    h('div', { class: 'extra-row' }, h('span', { class: 'extra-label' }, 'Buttons'), chipsEditor('buttons'), addInput('buttons', 'add… ⏎')));
}

async function send(item) {
  const ta = root.querySelector('.reply-text');
  const text = ta.value.trim();
  if (!text) return;
  const blocks = composerBlocks();
  ta.disabled = true;
  try {
    await api.conv.send(item.id, text, blocks);
    ta.value = '';
    composer = { qr: [], buttons: [] };
    renderComposer();
    stopTyping(item.id);
  } catch (e) {
    emit('error', e);
  } finally {
    ta.disabled = false;
    ta.focus();
  }
}

function typed(id) {
  const n = Date.now();
  if (n - typingSent > 3000) {
    typingSent = n;
    api.conv.typing(id, true).catch(() => {});
  }
  clearTimeout(typingOff);
  typingOff = setTimeout(() => stopTyping(id), 4000);
}

function stopTyping(id) {
  clearTimeout(typingOff);
  if (typingSent) {
    typingSent = 0;
    api.conv.typing(id, false).catch(() => {});
  }
}

function composerEl(item) {
  const closed = item.state === 'closed';
  return h('div', { class: 'composer' },
    h('div', { class: 'composer-extras' }),
    h('div', { class: 'composer-main' },
      h('textarea', {
        class: 'reply-text', rows: '3', placeholder: closed ? 'Closed — reopen to reply' : `Reply to ${item.user}…  (Enter sends, Shift+Enter new line)`,
        disabled: closed, 'aria-label': 'Reply',
        onkeydown: (e) => { if (e.key === 'Enter' && !e.shiftKey) { e.preventDefault(); send(item); } },
        oninput: () => typed(item.id),
      }),
      h('button', { class: 'btn btn-primary send', type: 'button', disabled: closed, onclick: () => send(item) }, 'Send')));
}

// ---- loading and live updates ----

export async function refreshDetail(id) {
  if (!id) return;
  const [detail, page] = await Promise.all([api.conv.get(id), api.conv.messages(id)]);
  state.details.set(id, detail);
  takeNewest(id, page);
  if (detail && detail.id) {
    const item = state.convs.get(id);
    if (!item || item.updated_ms <= detail.updated_ms) state.convs.set(id, pickItem(detail));
  }
  emit('detail', id);
}

// The newest page, below the older pages the agent loaded when they reach
// it (seqs have no gaps): a refresh after an action keeps them. Live
// messages newer than the page (they came while it was on its way) stay.
function takeNewest(id, page) {
  const list = state.messages.get(id) || [];
  const first = page.list.length ? Number(page.list[0].seq) : 1;
  const last = page.list.length ? Number(page.list[page.list.length - 1].seq) : 0;
  const older = list.filter((m) => Number(m.seq) < first);
  const newer = list.filter((m) => Number(m.seq) > last);
  const joins = older.length && Number(older[older.length - 1].seq) === first - 1;
  state.messages.set(id, (joins ? older : []).concat(page.list, newer));
  if (!joins) state.older.set(id, page.older);
}

// The list-item members of a detail answer.
function pickItem(d) {
  const keys = ['id', 'user', 'subject', 'created_ms', 'updated_ms', 'last_seq', 'state', 'priority', 'priority_by',
    'assignee', 'queue_position', 'queued_ms', 'unread', 'last_message', 'sla', 'last_action', 'triage'];
  const o = {};
  for (const k of keys) o[k] = d[k];
  return o;
}

// With routing: the server picks the first of my teams' line and gives it
// to me; the console opens it.
async function takeNext() {
  try {
    const item = await api.queue.next();
    state.convs.set(item.id, item);
    emit('convs');
    location.hash = '#/c/' + encodeURIComponent(item.id);
  } catch (e) {
    emit('error', e);
  }
}

// Nothing open: where the work stands, and the way to the next of it.
function emptyState() {
  const all = [...state.convs.values()];
  const queue = all.filter((c) => inFilter(c, 'queue')).sort(sortFor('queue'));
  const mine = all.filter((c) => inFilter(c, 'mine')).length;
  const open = all.filter((c) => inFilter(c, 'open')).length;
  const next = queue[0];
  const n = (k, one, many) => `${k} ${k === 1 ? one : many}`;
  return h('div', { class: 'empty-state' }, h('div', { class: 'empty-card' },
    h('div', { class: 'empty-title' }, queue.length ? `${n(queue.length, 'conversation', 'conversations')} waiting in the queue` : 'Nobody is waiting'),
    h('div', { class: 'muted' }, `${n(mine, 'conversation', 'conversations')} assigned to you · ${open} open in all`),
    next ? h('button', { class: 'btn btn-primary', type: 'button', 'data-action': 'next', 'data-conv': next.id, onclick: () => { location.hash = '#/c/' + encodeURIComponent(next.id); } },
      'Open the next in line: ', next.user) : null,
    next && next.triage ? h('button', { class: 'btn', type: 'button', 'data-action': 'take-next', onclick: takeNext },
      'Take the next for my teams') : null,
    h('div', { class: 'muted small' }, 'Or pick a conversation from the list.')));
}

export function render() {
  const id = state.selected;
  const item = id && state.convs.get(id);
  if (!item) {
    // Every live update of any conversation comes here while nothing is open.
    const fresh = id ? h('div', { class: 'empty-state' }, 'Loading…') : emptyState();
    if (root.childNodes.length === 1) swap(root.firstChild, fresh);
    else replace(root, fresh);
    delete root.dataset.conv;
    return;
  }
  const keep = root.querySelector('.reply-text');
  const draft = keep && root.dataset.conv === id ? keep.value : '';
  const hadFocus = keep && document.activeElement === keep;
  replace(root, header(item, state.details.get(id)), h('div', { class: 'transcript', role: 'log', 'aria-label': 'Transcript' }), composerEl(item));
  root.dataset.conv = id;
  const ta = root.querySelector('.reply-text');
  ta.value = draft;
  if (hadFocus) ta.focus();
  renderComposer();
  renderTranscript(item);
  markRead(item);
}

function renderHeaderOnly() {
  const item = state.convs.get(state.selected);
  const old = root.querySelector('.conv-header');
  if (item && old) swap(old, header(item, state.details.get(item.id)));
}

function markRead(item) {
  clearTimeout(readTimer);
  const last = Number(item.last_seq || 0);
  const d = state.details.get(item.id);
  const read = Number((d && d.agent_read_seq) || 0);
  if (!last || read >= last || document.hidden) return;
  readTimer = setTimeout(() => {
    api.conv.read(item.id, String(last)).then(() => {
      if (d) d.agent_read_seq = String(last);
      const it = state.convs.get(item.id);
      if (it) { it.unread = 0; emit('convs'); }
    }).catch(() => {});
  }, 400);
}

export async function select(id) {
  if (state.selected && state.selected !== id) stopTyping(state.selected);
  // Opening a conversation starts again from its newest page; what arrives
  // live meanwhile is kept and joins the page.
  if (state.selected !== id) { state.messages.set(id, []); state.older.delete(id); }
  state.selected = id;
  composer = { qr: [], buttons: [] };
  emit('selected', id);
  render();
  if (!id) return;
  try {
    await refreshDetail(id);
  } catch (e) {
    emit('error', e);
  }
}

export function initConversation() {
  root = document.getElementById('conversation');
  on('detail', (id) => { if (id === state.selected) render(); });
  on('msg', ({ conv, msg }) => {
    const list = state.messages.get(conv);
    if (list && !list.some((m) => m.seq === msg.seq)) {
      list.push(msg);
      list.sort((a, b) => Number(a.seq) - Number(b.seq));
    }
    if (conv === state.selected) {
      const item = state.convs.get(conv);
      if (item) { renderTranscript(item); markRead(item); }
    }
  });
  on('conv', (item) => {
    if (item.id !== state.selected) return;
    const d = state.details.get(item.id);
    const actionChanged = d && item.last_action && !(d.actions || []).some((a) => a.ts === item.last_action.ts && a.action === item.last_action.action);
    // A new triage (the user wrote while queued): the header's reasons are the detail's.
    const triageChanged = d && item.triage && d.triage && (item.triage.score !== d.triage.score || item.triage.team !== d.triage.team);
    if (actionChanged || triageChanged) refreshDetail(item.id).catch((e) => emit('error', e));
    else renderHeaderOnly();
  });
  on('typing', (conv) => {
    if (conv !== state.selected) return;
    const item = state.convs.get(conv);
    const el = root.querySelector('.typing');
    if (item && el) el.textContent = typingLine(item);
  });
  on('user', (user) => {
    const item = state.convs.get(state.selected);
    if (item && item.user === user) renderTranscript(item);
  });
  document.addEventListener('visibilitychange', () => {
    const item = state.convs.get(state.selected);
    if (item && !document.hidden) markRead(item);
  });
  on('convs', () => { if (!state.selected) render(); });
  setInterval(() => {
    const item = state.convs.get(state.selected);
    if (!item) return;
    const el = root.querySelector('.conv-sla');
    if (el) replace(el, slaHead(item));
    const t = root.querySelector('.typing');
    if (t) t.textContent = typingLine(item);
  }, 1000);
  render();
}
