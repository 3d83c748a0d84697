// Domains: the list with source and status badges, and adding a domain (→ DNS records + Verify).
import { api, isMissing } from '../api.js';
import { h, replace, field, notice, table, badge, fmtTime } from '../dom.js';
import { dnsRecordsTable, verifyBlock } from './domain.js';

export const SOURCE_LABEL = { dashboard: 'dashboard', control_panel: 'control panel', manual_dns: 'manual DNS' };

export function listOf(res) {
  return Array.isArray(res) ? res : res?.data ?? res?.domains ?? [];
}

export async function render(main) {
  let res;
  try {
    res = await api.get('/domains');
  } catch (err) {
    if (!isMissing(err)) throw err;
    replace(main, h('h1', null, 'Domains'), notice('info', 'The domains API is not available on this server yet.'));
    return;
  }
  const rows = listOf(res).map((d) => h('tr', null,
    h('th', { scope: 'row' }, h('a', { href: `#/domains/${encodeURIComponent(d.id)}` }, d.name)),
    h('td', null, badge(SOURCE_LABEL[d.source] ?? d.source, `source-${d.source}`)),
    h('td', null, badge(d.status, d.status)),
    h('td', null, d.tracking ? (d.tracking.opens ? 'on' : 'off') : '—'),
    h('td', null, fmtTime(d.createdAt)),
  ));
  const name = h('input', { type: 'text', name: 'domain', required: true, placeholder: 'example.com', autocomplete: 'off', spellcheck: 'false' });
  const result = h('div', { 'aria-live': 'polite' });
  const form = h('form', { class: 'card', 'aria-labelledby': 'add-h', onsubmit: async (e) => {
    e.preventDefault();
    replace(result);
    try {
      const d = await api.post('/domains', { name: name.value.trim() });
      form.reset();
      replace(result,
        notice('ok', `${d.name} was added. Publish these DNS records, then verify.`),
        dnsRecordsTable(d.dnsRecords ?? []),
        verifyBlock(d),
        h('p', null, h('a', { href: `#/domains/${encodeURIComponent(d.id)}` }, `Open ${d.name}: settings and tracking`)),
      );
    } catch (err) {
      replace(result, notice('error', err.fields?.name ? `Domain ${err.fields.name}` : err.message));
    }
  } },
  h('h2', { id: 'add-h' }, 'Add a domain'),
  h('div', { class: 'inline' }, field('Domain name', name), h('button', { type: 'submit' }, 'Add domain')),
  result);
  replace(main, h('h1', null, 'Domains'), table(['Domain', 'Source', 'Status', 'Open tracking', 'Added'], rows), form);
}
