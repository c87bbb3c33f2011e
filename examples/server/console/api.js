// The agent HTTP API and the live channel (docs/agent-console.md). Every
// request that changes something carries the session's CSRF token.

let csrf = null;

export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

async function call(method, path, body) {
  const headers = { Accept: 'application/json' };
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store' };
  if (method !== 'GET') {
    headers['Content-Type'] = 'application/json';
    if (csrf) headers['X-Parley-CSRF'] = csrf;
    init.body = JSON.stringify(body || {});
  }
  const res = await fetch(path, init);
  let data = null;
  const text = await res.text();
  if (text) {
    try { data = JSON.parse(text); } catch (e) { data = null; }
  }
  if (!res.ok) {
    const msg = (data && data.error) || `${res.status} ${res.statusText}`;
    throw new ApiError(res.status, msg, data);
  }
  return { data, res };
}

async function request(method, path, body) {
  return (await call(method, path, body)).data;
}

export const get = (path) => request('GET', path);
export const post = (path, body) => request('POST', path, body);

export async function me() {
  const r = await get('/api/me');
  if (r && r.csrf) csrf = r.csrf;
  return r;
}

export async function login(name, password) {
  const r = await post('/api/login', { name, password });
  csrf = r.csrf;
  return r;
}

export async function logout() {
  try { await post('/api/logout', {}); } finally { csrf = null; }
}

const enc = encodeURIComponent;
export const conv = {
  list: (params) => get('/api/conversations?' + new URLSearchParams(params)),
  get: (id) => get(`/api/conversations/${enc(id)}`),
  // A page of the transcript, oldest first: the newest messages, or those
  // below the seq `before`; `older` when the answer's Link header names a
  // page before it (rel="prev").
  messages: async (id, before) => {
    const { data, res } = await call('GET', `/api/conversations/${enc(id)}/messages` + (before ? `?before=${enc(before)}` : ''));
    return { list: data, older: /rel="prev"/.test(res.headers.get('Link') || '') };
  },
  send: (id, text, blocks) => post(`/api/conversations/${enc(id)}/messages`, blocks && blocks.length ? { text, blocks } : { text }),
  assign: (id, agent) => post(`/api/conversations/${enc(id)}/assign`, agent ? { agent } : {}),
  transfer: (id, agent) => post(`/api/conversations/${enc(id)}/transfer`, { agent }),
  bot: (id) => post(`/api/conversations/${enc(id)}/bot`, {}),
  close: (id) => post(`/api/conversations/${enc(id)}/close`, {}),
  reopen: (id) => post(`/api/conversations/${enc(id)}/reopen`, {}),
  priority: (id, priority) => post(`/api/conversations/${enc(id)}/priority`, { priority }),
  typing: (id, on) => post(`/api/conversations/${enc(id)}/typing`, { on }),
  read: (id, seq) => post(`/api/conversations/${enc(id)}/read`, { seq }),
};
// The first queued conversation of my teams, assigned to me (docs/routing.md).
export const queue = { next: () => post('/api/queue/next', {}) };
export const users = { get: (id) => get(`/api/users/${enc(id)}`) };
export const agents = { list: () => get('/api/agents') };
export const presence = { set: (p) => post('/api/me/presence', { presence: p }) };
export const metrics = { get: (since, until) => get(`/api/metrics?since=${since}&until=${until}`) };

// The live channel: reconnects with a growing delay (1 s … 30 s) and tells
// the caller each time it is up again, so the lists can be loaded afresh.
export function channel(onFrame, onState) {
  let ws = null;
  let delay = 1000;
  let stopped = false;
  let timer = null;

  function open() {
    const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/agent';
    onState('connecting');
    ws = new WebSocket(url, 'parley.agent.v1');
    ws.onopen = () => { delay = 1000; };
    ws.onmessage = (ev) => {
      let f;
      try { f = JSON.parse(ev.data); } catch (e) { return; }
      if (f && typeof f.t === 'string') {
        if (f.t === 'hello') onState('up', f);
        onFrame(f);
      }
    };
    ws.onclose = (ev) => {
      ws = null;
      if (stopped) return;
      if (ev.code === 4001) { onState('ended'); return; }
      onState('down');
      timer = setTimeout(open, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }
  open();
  return {
    close() {
      stopped = true;
      clearTimeout(timer);
      if (ws) ws.close(1000);
    },
  };
}
