// Webhooks: create (the signing secret is shown once), list, enable/disable, send a test event, delete,
// and each webhook's delivery log with replay.
import { api, isMissing } from '../api.js';
import { h, replace, field, notice, table, badge, fmtTime, copyable } from '../dom.js';
import { listOf } from './domains.js';

const TYPES = ['accepted', 'delivered', 'deferred', 'bounced', 'open', 'click'];

export async function render(main) {
  let res;
  try {
    res = await api.get('/webhooks');
  } catch (err) {
    if (!isMissing(err)) throw err;
    replace(main, h('h1', null, 'Webhooks'), notice('info', 'The webhooks API is not available on this server yet.'));
    return;
  }
  let domains = [];
  try { domains = listOf(await api.get('/domains')); } catch (err) { if (!isMissing(err)) throw err; }
  const nameOf = (id) => domains.find((d) => d.id === id)?.name ?? id;
  const status = h('div', { 'aria-live': 'polite' });
  const deliveries = h('div');
  const rows = (res.data ?? []).map((w) => h('tr', null,
    h('th', { scope: 'row' }, h('code', null, w.url)),
    h('td', null, (w.events ?? []).join(', ')),
    h('td', null, w.domainId ? nameOf(w.domainId) : 'all'),
    h('td', null, w.enabled ? badge('active', 'active') : [badge('disabled', 'failed'), w.disabledReason ? h('div', { class: 'muted' }, w.disabledReason) : null]),
    h('td', null, h('div', { class: 'actions' },
      h('button', { type: 'button', class: 'small secondary', 'aria-label': `Send a test event to ${w.url}`, onclick: async () => {
        try { await api.post(`/webhooks/${encodeURIComponent(w.id)}/test`); replace(status, notice('ok', `Test event queued for ${w.url}.`)); } catch (err) { replace(status, notice('error', err.message)); }
      } }, 'Send test'),
      h('button', { type: 'button', class: 'small secondary', 'aria-label': `Show deliveries of ${w.url}`, onclick: () => showDeliveries(deliveries, w) }, 'Deliveries'),
      h('button', { type: 'button', class: 'small secondary', onclick: async () => {
        try { await api.patch(`/webhooks/${encodeURIComponent(w.id)}`, { enabled: !w.enabled }); await render(main); } catch (err) { replace(status, notice('error', err.message)); }
      } }, w.enabled ? 'Disable' : 'Enable'),
      h('button', { type: 'button', class: 'small danger', 'aria-label': `Delete webhook ${w.url}`, onclick: async () => {
        if (!window.confirm(`Delete the webhook ${w.url} and its delivery log?`)) return;
        try { await api.del(`/webhooks/${encodeURIComponent(w.id)}`); await render(main); } catch (err) { replace(status, notice('error', err.message)); }
      } }, 'Delete'),
    )),
  ));
  const url = h('input', { type: 'url', name: 'url', required: true, placeholder: 'https://example.com/hooks/mailbeacon' });
  const boxes = TYPES.map((t) => h('input', { type: 'checkbox', name: 'events', value: t, checked: t === 'open' || t === 'click', id: `wh-ev-${t}` }));
  const domainSel = h('select', { name: 'domain' }, h('option', { value: '' }, 'All domains'), domains.map((d) => h('option', { value: d.id }, d.name)));
  const created = h('div', { 'aria-live': 'polite' });
  const form = h('form', { class: 'card', 'aria-labelledby': 'wh-new', onsubmit: async (e) => {
    e.preventDefault();
    const events = boxes.filter((b) => b.checked).map((b) => b.value);
    if (!events.length) return replace(created, notice('error', 'Pick at least one event type.'));
    try {
      const w = await api.post('/webhooks', { url: url.value.trim(), events, ...(domainSel.value ? { domain: domainSel.value } : {}) });
      await render(main);
      main.append(h('section', { class: 'card' }, notice('ok', `Webhook created. Its signing secret (shown once; verify X-Mailbeacon-Signature with it):`), h('p', null, copyable(w.secret))));
    } catch (err) {
      replace(created, notice('error', err.fields ? Object.entries(err.fields).map(([k, v]) => `${k}: ${v}`).join('; ') : err.message));
    }
  } },
  h('h2', { id: 'wh-new' }, 'New webhook'),
  field('URL', url),
  h('fieldset', null, h('legend', null, 'Events'), h('div', { class: 'inline' }, boxes.map((b) => h('span', { class: 'switch-field' }, b, h('label', { for: b.id }, b.value))))),
  field('Domain', domainSel),
  h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Create webhook')), created);
  replace(main, h('h1', null, 'Webhooks'),
    h('p', { class: 'muted' }, 'Each event is POSTed as JSON, signed with HMAC-SHA256 (X-Mailbeacon-Signature) and retried on failure.'),
    table(['URL', 'Events', 'Domain', 'Status', ''], rows), status, deliveries, form);
}

async function showDeliveries(box, w) {
  let res;
  try { res = await api.get(`/webhooks/${encodeURIComponent(w.id)}/deliveries?limit=50`); } catch (err) { return replace(box, notice('error', err.message)); }
  const status = h('div', { 'aria-live': 'polite' });
  const rows = (res.data ?? []).map((d) => h('tr', null,
    h('td', null, fmtTime(d.createdAt)), h('td', null, d.type), h('td', null, badge(d.status, d.status === 'succeeded' ? 'active' : d.status === 'pending' ? 'pending' : 'failed')),
    h('td', { class: 'num' }, String(d.attempts ?? 0)), h('td', null, d.lastStatusCode != null ? String(d.lastStatusCode) : d.lastError ?? ''),
    h('td', null, d.nextAttemptAt ? fmtTime(d.nextAttemptAt) : ''),
    h('td', null, h('button', { type: 'button', class: 'small secondary', 'aria-label': `Replay delivery ${d.id}`, onclick: async () => {
      try { await api.post(`/webhooks/${encodeURIComponent(w.id)}/deliveries/${encodeURIComponent(d.id)}/replay`); await showDeliveries(box, w); box.append(notice('ok', 'Replay queued.')); } catch (err) { replace(status, notice('error', err.message)); }
    } }, 'Replay')),
  ));
  replace(box, h('section', { class: 'card' }, h('h2', { tabindex: '-1' }, 'Deliveries to ', h('code', null, w.url)),
    table(['Created', 'Event', 'Status', 'Attempts', 'Last response', 'Next attempt', ''], rows), status));
  box.querySelector('h2').focus();
}
