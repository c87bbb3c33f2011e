// What the console knows: conversations (list items), their details and
// messages, customers, agents, who is typing; a tiny publish/subscribe so
// each view redraws what changed.

const listeners = new Map();

export function on(topic, fn) {
  if (!listeners.has(topic)) listeners.set(topic, new Set());
  listeners.get(topic).add(fn);
}

export function emit(topic, data) {
  for (const fn of listeners.get(topic) || []) {
    try { fn(data); } catch (e) { console.error(topic, e); }
  }
}

export const state = {
  me: null,
  offset: 0, // server clock minus ours
  convs: new Map(),
  closedNext: undefined, // cursor of the closed list: undefined not loaded, null done
  filter: 'queue',
  selected: null,
  details: new Map(),
  messages: new Map(), // conv -> the loaded messages, oldest first: the newest page and those shown before it
  older: new Map(), // conv -> whether messages older than the loaded ones exist
  users: new Map(),
  agents: new Map(),
  typing: new Map(), // conv -> {user: ms, agents: Map name -> ms}
  flash: new Map(), // user -> {key -> ms}: what just changed in their context
};

export const now = () => Date.now() + state.offset;

export const PRIORITIES = ['urgent', 'high', 'normal', 'low'];
const RANK = { urgent: 0, high: 1, normal: 2, low: 3 };

export function upsertConv(item) {
  const old = state.convs.get(item.id);
  if (old && old.updated_ms > item.updated_ms) return false;
  state.convs.set(item.id, item);
  return true;
}

// The clock to show: the running one, first response before next.
export function slaOf(item, t) {
  const s = item && item.sla;
  if (!s) return null;
  for (const kind of ['first_response', 'next_response']) {
    const c = s[kind];
    if (c && c.due_ms && !c.met_ms) {
      const level = t >= c.due_ms ? 'breach' : c.warn_ms && t >= c.warn_ms ? 'warning' : 'ok';
      return { kind, due: c.due_ms, warn: c.warn_ms || 0, level };
    }
  }
  return null;
}

export function inFilter(item, filter) {
  const me = state.me && state.me.name;
  switch (filter) {
    case 'queue': return item.state === 'queued' || (item.state === 'open' && !item.assignee);
    case 'mine': return item.state !== 'closed' && item.assignee && item.assignee.name === me;
    case 'open': return item.state !== 'closed';
    case 'closed': return item.state === 'closed';
    default: return false;
  }
}

// Queue order: priority, then the soonest deadline, then the longest wait;
// other lists: priority for open ones, then the newest activity.
export function sortFor(filter) {
  const t = now();
  const due = (c) => { const s = slaOf(c, t); return s ? s.due : Infinity; };
  if (filter === 'queue') {
    // With routing the server's line (VIP lane, priority, age: docs/routing.md)
    // is the order agents work in; reopened ones have no place in it.
    const line = (c) => c.queue_position || Infinity;
    return (a, b) => (a.queue_position && b.queue_position ? line(a) - line(b) : 0) ||
      RANK[a.priority] - RANK[b.priority] || due(a) - due(b) ||
      (a.queued_ms || a.updated_ms) - (b.queued_ms || b.updated_ms);
  }
  if (filter === 'closed') return (a, b) => b.updated_ms - a.updated_ms;
  return (a, b) => RANK[a.priority] - RANK[b.priority] || due(a) - due(b) || b.updated_ms - a.updated_ms;
}

export function typingOf(conv) {
  if (!state.typing.has(conv)) state.typing.set(conv, { user: 0, agents: new Map() });
  return state.typing.get(conv);
}

export function agentName(name) {
  const a = state.agents.get(name);
  return a ? a.display_name || a.name : name;
}
