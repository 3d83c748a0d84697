// Analytics per account or per domain for 24 h / 7 d / 30 d / a custom range: opens over time (total,
// unique, human, machine) and clicks as a uPlot chart, the totals and rates, breakdowns by client, OS,
// device and machine reason. New events arrive over SSE (/api/v1/live) and refresh the numbers in place.
/* global ResizeObserver */
import uPlot from '/assets/vendor/uPlot.esm.js';
import { api, isMissing, qs } from '../api.js';
import { h, replace, field, notice, table, fmtNum, fmtPct, fmtTime, badge } from '../dom.js';
import { listOf } from './domains.js';

const HOUR = 3_600_000;
const DAY = 86_400_000;
const RANGES = [
  ['24h', 'Last 24 hours', 24 * HOUR, 'hour'],
  ['7d', 'Last 7 days', 7 * DAY, 'hour'],
  ['30d', 'Last 30 days', 30 * DAY, 'day'],
];
const BREAKDOWNS = [['client', 'Mail client'], ['os', 'Operating system'], ['device', 'Device'], ['reason', 'Classification reason']];

export async function render(main, { params }) {
  let domains = [];
  try { domains = listOf(await api.get('/domains')); } catch (err) { if (!isMissing(err)) throw err; }
  const state = { domain: params.get('domain') ?? '', range: params.get('range') ?? '24h', from: params.get('from') ?? '', to: params.get('to') ?? '' };

  const domainSel = h('select', { name: 'domain' }, h('option', { value: '' }, 'All domains'),
    domains.map((d) => h('option', { value: d.id, selected: d.id === state.domain }, d.name)));
  const fromIn = h('input', { type: 'date', name: 'from', value: state.from });
  const toIn = h('input', { type: 'date', name: 'to', value: state.to });
  const custom = h('form', { class: 'inline', onsubmit: (e) => {
    e.preventDefault();
    if (!fromIn.value || !toIn.value) return;
    nav({ range: 'custom', from: fromIn.value, to: toIn.value });
  } }, field('From', fromIn), field('To', toIn), h('button', { type: 'submit', class: 'secondary' }, 'Apply range'));
  const rangeBtns = RANGES.map(([key, label]) => h('button', { type: 'button', 'aria-pressed': String(state.range === key), onclick: () => nav({ range: key, from: '', to: '' }) }, label));
  domainSel.addEventListener('change', () => nav({ domain: domainSel.value }));

  function nav(patch) {
    const next = { ...state, ...patch };
    location.hash = `#/analytics${qs({ domain: next.domain, range: next.range === '24h' ? '' : next.range, from: next.range === 'custom' ? next.from : '', to: next.range === 'custom' ? next.to : '' })}`;
  }

  const tiles = h('div', { class: 'tiles', 'aria-live': 'polite' });
  const chartBox = h('div', { class: 'chart', role: 'img', 'aria-label': 'Opens and clicks over time' });
  const breakBox = h('div', { class: 'grid2' });
  const liveList = h('ul', { class: 'live-feed', 'aria-label': 'Latest events' });
  const liveState = h('span', { class: 'muted' }, 'connecting…');
  const status = h('div');
  const domainName = domains.find((d) => d.id === state.domain)?.name;

  replace(main,
    h('h1', null, domainName ? `Analytics: ${domainName}` : 'Analytics'),
    h('section', { class: 'card' },
      h('div', { class: 'inline' }, field('Domain', domainSel), h('div', { class: 'range', role: 'group', 'aria-label': 'Time range' }, rangeBtns)),
      h('details', { open: state.range === 'custom' }, h('summary', null, 'Custom range'), custom)),
    status, tiles,
    h('section', { class: 'card' }, h('h2', null, 'Opens over time'), chartBox,
      h('p', { class: 'muted' }, 'Human opens are people (image proxies such as Gmail count as human, proxied); machine opens are privacy proxies (Apple Mail Privacy Protection), scanners and prefetchers.')),
    h('section', { class: 'card' }, h('h2', null, 'Breakdowns'), breakBox),
    h('section', { class: 'card' }, h('h2', null, 'Live events ', liveState), liveList),
  );

  const window_ = () => {
    if (state.range === 'custom' && state.from && state.to) {
      const from = new Date(`${state.from}T00:00:00`).getTime();
      const to = new Date(`${state.to}T00:00:00`).getTime() + DAY;
      return { from, to, interval: to - from > 7 * DAY ? 'day' : 'hour' };
    }
    const r = RANGES.find(([k]) => k === state.range) ?? RANGES[0];
    const to = Date.now();
    return { from: to - r[2], to, interval: r[3] };
  };

  let plot = null;
  let alive = true;
  const resize = new ResizeObserver(() => { if (plot) plot.setSize({ width: chartBox.clientWidth, height: 260 }); });
  resize.observe(chartBox);

  async function refresh() {
    const w = window_();
    const q = { domain: state.domain, from: new Date(w.from).toISOString(), to: new Date(w.to).toISOString() };
    let stats;
    try {
      stats = await api.get(`/stats${qs({ ...q, interval: w.interval })}`);
    } catch (err) {
      if (isMissing(err)) return replace(status, notice('info', 'The stats API is not available on this server yet; live events still appear below.'));
      return replace(status, notice('error', err.message));
    }
    if (!alive) return;
    replace(status);
    const t = stats.totals;
    const tile = (label, value, title) => h('div', { class: 'tile', title }, h('div', { class: 'label' }, label), h('div', { class: 'value', 'data-metric': label }, value));
    replace(tiles,
      tile('Delivered', fmtNum(t.delivered)),
      tile('Opens', fmtNum(t.opens), 'every pixel load counted as an open'),
      tile('Unique opens', fmtNum(t.uniqueOpens), 'first open of each recipient copy'),
      tile('Human opens', fmtNum(t.humanOpens)),
      tile('Machine opens', fmtNum(t.machineOpens)),
      tile('Clicks', fmtNum(t.clicks)),
      tile('Open rate', fmtPct(t.openRate), 'unique opens / delivered'),
      tile('Human open rate', fmtPct(t.humanOpenRate), 'human opens / all opens'),
      tile('Click rate', fmtPct(t.clickRate), 'unique clicks / delivered'),
    );
    const xs = stats.series.map((p) => new Date(p.t).getTime() / 1000);
    const data = [xs, ...['opens', 'uniqueOpens', 'humanOpens', 'machineOpens', 'clicks'].map((k) => stats.series.map((p) => p[k]))];
    if (plot) plot.setData(data);
    else {
      plot = new uPlot({
        width: Math.max(chartBox.clientWidth, 280), height: 260,
        series: [{}, { label: 'Opens', stroke: '#1f5fbf', width: 2 }, { label: 'Unique', stroke: '#6a3fb5', width: 2 }, { label: 'Human', stroke: '#1d7a3a', width: 2 }, { label: 'Machine', stroke: '#b3261e', width: 2, dash: [6, 4] }, { label: 'Clicks', stroke: '#c77800', width: 2 }],
        axes: [{}, { size: 50 }],
        scales: { y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
      }, data, chartBox);
    }
    const parts = await Promise.all(BREAKDOWNS.map(async ([by, label]) => {
      try {
        const r = await api.get(`/stats/breakdown${qs({ ...q, by })}`);
        return h('div', null, table([label, 'Opens', 'Human', 'Machine', 'Clicks'], (r.data ?? []).map((x) => h('tr', null,
          h('th', { scope: 'row' }, x.value || '(unknown)'), h('td', { class: 'num' }, fmtNum(x.opens)), h('td', { class: 'num' }, fmtNum(x.humanOpens)),
          h('td', { class: 'num' }, fmtNum(x.machineOpens)), h('td', { class: 'num' }, fmtNum(x.clicks)))), `By ${label.toLowerCase()}`));
      } catch (err) {
        return h('div', null, h('h3', null, label), notice(isMissing(err) ? 'info' : 'error', isMissing(err) ? 'Not available on this server yet.' : err.message));
      }
    }));
    if (alive) replace(breakBox, parts);
  }

  // Live: one EventSource; each event is listed at once and the numbers are refreshed (debounced).
  let pending = null;
  const schedule = () => {
    if (pending) return;
    pending = setTimeout(() => { pending = null; if (alive) refresh(); }, 400);
  };
  const es = new EventSource('/api/v1/live');
  es.onopen = () => replace(liveState, '(connected)');
  es.onmessage = onEvent;
  es.onerror = () => replace(liveState, '(reconnecting…)');
  function onEvent(msg) {
    let e;
    try { e = JSON.parse(msg.data); } catch { return; }
    if (state.domain && e.domainId !== state.domain) return;
    liveList.prepend(h('li', null,
      h('time', { datetime: e.createdAt }, fmtTime(e.createdAt)), ' ', h('strong', null, e.type), ' ',
      e.recipient ?? '', e.clientName ? ` in ${e.clientName}` : '', e.classification ? [' ', badge(e.classification)] : null, e.reason ? h('span', { class: 'muted' }, ` ${e.reason}`) : null,
      e.messageId ? [' ', h('a', { href: `#/messages/${encodeURIComponent(e.messageId)}` }, 'message')] : null));
    while (liveList.children.length > 50) liveList.lastChild.remove();
    if (e.type !== 'open_signal') schedule();
  }

  await refresh();
  return () => {
    alive = false;
    es.close();
    resize.disconnect();
    clearTimeout(pending);
    plot?.destroy();
  };
}
