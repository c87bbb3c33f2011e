// The metrics dashboard (GET /api/metrics): headline figures with their
// definitions a click away, volume and first-response charts per day, the
// CSAT distribution, conversations by state, and the per-agent table.
import { h, replace, seconds } from './render.js';
import { emit, now, agentName } from './store.js';
import { bars, line, hbars, TIME_STEPS } from './charts.js';
import * as api from './api.js';

const WINDOWS = [['24h', 1], ['7 days', 7], ['30 days', 30]];
let root;
let days = 7;
let data = null;

const pct = (v) => (v === null || v === undefined ? '—' : `${Math.round(v * 10) / 10}%`);
const num = (v) => (v === null || v === undefined ? '—' : String(Math.round(v * 100) / 100));
const plural = (n, one, many) => `${n} ${n === 1 ? one : many || one + 's'}`;
const when = (ms) => new Date(ms).toLocaleString(undefined, { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit' });
const met = (c) => (c.met + c.breached ? `${c.met} of ${c.met + c.breached} met` : 'none due');

function kpi(label, value, sub, def) {
  return h('div', { class: 'kpi', title: def },
    h('div', { class: 'kpi-label' }, label),
    h('div', { class: 'kpi-value' }, value),
    h('div', { class: 'kpi-sub' }, sub || ''));
}

function headline(m) {
  const frt = m.first_response_s;
  const c = m.csat;
  const sla = m.sla;
  const breaches = sla.first_response.breached + sla.next_response.breached;
  const clocks = breaches + sla.first_response.met + sla.next_response.met;
  return h('div', { class: 'kpis' },
    kpi('First response', seconds(frt.median), `median · p90 ${seconds(frt.p90)} · ${plural(frt.samples, 'reply', 'replies')}`,
      'From the hand-off to humans (bot hand-off, an agent taking over, a reopen) to the first agent reply. Bot time does not count.'),
    kpi('Handle time', seconds(m.handle_time_s.avg), `average · ${plural(m.handle_time_s.samples, 'conversation')} closed`,
      'Time a closed conversation was assigned to an agent and open, all agents added up.'),
    kpi('First-contact resolution', pct(m.fcr.rate_pct), `${m.fcr.resolved_first_contact} of ${m.fcr.closed} closed`,
      'Closed once, never reopened or transferred, one agent writing.'),
    kpi('CSAT', pct(c.positive_pct), `avg ${num(c.avg)} · ${c.responses} of ${c.sent} answered (${pct(c.response_rate_pct)})`,
      'Share of answers in the top two values of the rating scale (the top one on a 3-point scale).'),
    kpi('NPS', m.nps.score === null ? '—' : String(m.nps.score),
      m.nps.responses ? `${plural(m.nps.promoters, 'promoter')} · ${plural(m.nps.detractors, 'detractor')} · ${plural(m.nps.responses, 'answer')}` : 'no answers in this window',
      '% promoters (9–10) minus % detractors (0–6).'),
    kpi('SLA', breaches ? `${breaches} breached` : clocks ? 'all met' : '—',
      `first response ${met(sla.first_response)} · next response ${met(sla.next_response)}`,
      'Response clocks met or breached in the window, per kind (the --sla policies).'));
}

function charts(m) {
  const daily = m.daily || [];
  const short = (d) => d.day.slice(5);
  const dist = (m.csat.scale && m.csat.scale.distribution) || {};
  const from = m.csat.scale ? m.csat.scale.positive_from : Infinity;
  const states = m.volume.by_state;
  return h('div', { class: 'charts' },
    h('section', { class: 'panel chart-panel' }, h('h3', { class: 'panel-title' }, 'Conversations per day'),
      bars(daily.map((d) => ({ label: short(d), values: [d.created, d.closed] })),
        [{ label: 'created', cls: 's1' }, { label: 'closed', cls: 's2' }])),
    h('section', { class: 'panel chart-panel' }, h('h3', { class: 'panel-title' }, 'First response, median per day'),
      line(daily.map((d) => ({ label: short(d), value: d.first_response_median_s })), 'median first response', (v) => seconds(v), TIME_STEPS)),
    h('section', { class: 'panel chart-panel', 'data-chart': 'csat' }, h('h3', { class: 'panel-title' }, 'CSAT answers'),
      Object.keys(dist).length ? hbars(Object.entries(dist).reverse().map(([k, v]) => ({ label: k, value: v, cls: Number(k) >= from ? 'pos' : 'neg' })))
        : h('div', { class: 'muted small' }, 'No rating survey answered in this window.')),
    h('section', { class: 'panel chart-panel' }, h('h3', { class: 'panel-title' }, 'Conversations by state (now)'),
      hbars(['bot', 'queued', 'agent', 'open', 'closed'].map((s) => ({ label: s, value: states[s], cls: 'st-' + s })))));
}

function agentsTable(m) {
  return h('section', { class: 'panel' }, h('h3', { class: 'panel-title' }, 'Agents'),
    m.agents.length ? h('table', { class: 'table' },
      h('thead', {}, h('tr', {}, [
        ['Agent'],
        ['Closed', 'Conversations closed in the window that the agent held last (whoever pressed Close)'],
        ['First response (median)', 'Of the episodes the agent answered first'],
        ['Handle time (avg)', 'The agent\'s own assigned time, per conversation held, of conversations closed in the window'],
        ['CSAT avg', 'CSAT answers about conversations the agent held last'],
        ['CSAT answers'],
      ].map(([t, title]) => h('th', { title }, t)))),
      h('tbody', {}, m.agents.map((a) => h('tr', {},
        h('td', {}, agentName(a.name)), h('td', { class: 'n' }, String(a.closed)), h('td', { class: 'n' }, seconds(a.first_response_median_s)),
        h('td', { class: 'n' }, seconds(a.handle_time_avg_s)), h('td', { class: 'n' }, num(a.csat_avg)), h('td', { class: 'n' }, String(a.csat_responses))))))
      : h('div', { class: 'muted small' }, 'No agent activity in this window.'));
}

export function render() {
  const picker = h('div', { class: 'window-picker', role: 'group', 'aria-label': 'Window' },
    WINDOWS.map(([label, d]) => h('button', { class: ['btn', d === days && 'active'], type: 'button', onclick: () => { days = d; load(); } }, label)));
  if (!data) { replace(root, h('div', { class: 'dash-head' }, h('h2', {}, 'Support metrics'), picker), h('div', { class: 'muted pad' }, 'Loading…')); return; }
  const csv = `/api/metrics/conversations.csv?since=${data.since}&until=${data.until}`;
  replace(root,
    h('div', { class: 'dash-head' }, h('h2', {}, 'Support metrics'),
      h('span', { class: 'muted small' }, `${when(data.since)} – ${when(data.until)}`),
      h('span', { class: 'row-spacer' }),
      h('a', { class: 'btn', href: csv, download: 'parley-conversations.csv', title: 'Every conversation of the window with its facts: times, agents, transfers, CSAT, NPS' }, 'Export CSV'),
      picker),
    headline(data), charts(data), agentsTable(data),
    h('p', { class: 'muted small defs' }, 'Definitions: docs/agent-console.md, “Metrics”. Hover a figure for its definition.'));
}

export async function load() {
  const until = Math.round(now());
  data = null;
  render();
  try {
    data = await api.metrics.get(until - days * 86400000, until);
  } catch (e) {
    emit('error', e);
  }
  render();
}

export function initDashboard() {
  root = document.getElementById('view-dashboard');
}
