// One domain: its DNS records and verification, tracking settings (the Open Tracking gate), the custom
// tracking domain, and a link to its analytics.
import { api, isMissing } from '../api.js';
import { h, replace, field, notice, table, badge, fmtTime, copyable } from '../dom.js';
import { SOURCE_LABEL } from './domains.js';

export const DELIVERABILITY_WARNING = 'Tracking pixels can trigger spam filters and lower deliverability, and are often blocked by mail clients. Turn open tracking on only if you need it.';

const SOURCE_WHY = {
  control_panel: 'it was added through a hosting control panel and was never verified in this dashboard',
  manual_dns: 'it is used as a sender in "any domain" mode (manual DNS) and was never verified in this dashboard',
};

/**
 * Why open/click tracking is unavailable, or null. The settings API says `eligible` and, in `tracking.reason`,
 * why not ("tracking needs a domain validated in the dashboard; …"); without it the rule is applied here.
 */
export function ineligibleReason(d, settings) {
  const s = settings ?? {};
  if (s.eligible === true) return null;
  const reason = s.tracking?.reason ?? d.tracking?.reason;
  if (typeof reason === 'string' && reason) {
    // The API speaks to API users; say the same in dashboard terms.
    const text = reason.replace(/^tracking /, 'it ')
      .replace(/Add it with POST \/api\/v1\/domains/, 'Add it on the Domains page')
      .replace(/call POST \/api\/v1\/domains\/\{id\}\/verify/, 'press Verify below');
    return `Open tracking is not available: ${text}.`.replace(/\.\.$/, '.');
  }
  if (s.eligible === false) return 'Open tracking is not available for this domain.';
  if (d.source !== 'dashboard') return `Open tracking is not available: it needs a domain validated in the dashboard; ${d.name}: ${SOURCE_WHY[d.source] ?? `came in as ${d.source}`}.`;
  if (d.status !== 'validated') return `Open tracking is not available: it needs a validated domain; ${d.name} is ${d.status === 'failed' ? 'failing validation' : 'not verified yet'}: publish its DNS records and press Verify.`;
  return null;
}

export function dnsRecordsTable(records) {
  return table(['Type', 'Name', 'Value', 'Purpose'], records.map((r) => h('tr', null,
    h('td', null, r.type), h('td', null, copyable(r.name)), h('td', { class: 'wrap' }, copyable(r.value)),
    h('td', null, r.purpose ?? '', r.required === false ? ' (recommended)' : ''),
  )), 'DNS records to publish');
}

/** One line per DNS check: ✓/✗, the record, what was found, and the API's explanation. */
export function checksList(checks) {
  return h('ul', { class: 'checks' }, checks.map((c) => h('li', { class: c.ok ? 'ok' : 'bad' },
    h('span', { class: 'sr-only' }, c.ok ? 'OK: ' : 'Not OK: '),
    c.ok ? '✓ ' : '✗ ', h('strong', null, `${c.type ?? ''} ${c.name ?? c.record ?? ''}`.trim()),
    c.required === false ? ' (recommended)' : '',
    c.message ? ` — ${c.message}` : '',
    !c.ok && Array.isArray(c.found) && c.found.length ? [' Found: ', h('code', null, c.found.join(' | '))] : null,
  )));
}

/** A Verify button that asks DNS now, with the region where each record's result appears. */
export function verifyBlock(d, after) {
  const region = h('div', { 'aria-live': 'polite' });
  const btn = h('button', { type: 'button', onclick: async () => {
    btn.disabled = true;
    replace(region, h('p', { class: 'muted' }, 'Checking DNS…'));
    try {
      const r = await api.post(`/domains/${encodeURIComponent(d.id)}/verify`);
      replace(region,
        notice(r.status === 'validated' ? 'ok' : 'error', `Status: ${r.status}`),
        r.statusReason ? h('p', null, r.statusReason) : null,
        checksList(r.checks ?? []),
      );
      if (after) await after(r);
    } catch (err) {
      replace(region, notice('error', err.message));
    } finally {
      btn.disabled = false;
    }
  } }, 'Verify');
  return h('div', { class: 'verify' }, h('div', { class: 'actions' }, btn), region);
}

export async function render(main, { args }) {
  const id = args[0];
  const path = `/domains/${encodeURIComponent(id)}`;
  const d = await api.get(path);
  let settings = null;
  try {
    settings = await api.get(`${path}/settings`);
  } catch (err) {
    if (!isMissing(err)) throw err;
  }
  const dnsBox = h('section', { class: 'card', 'aria-labelledby': 'dns-h' });
  const setBox = h('section', { class: 'card', 'aria-labelledby': 'settings-h', id: 'settings' });
  const tdBox = h('section', { class: 'card', 'aria-labelledby': 'td-h' });
  const statusLine = h('p');
  const showStatus = (dom) => replace(statusLine, badge(SOURCE_LABEL[dom.source] ?? dom.source, `source-${dom.source}`), ' ', badge(dom.status, dom.status),
    dom.statusReason ? h('span', { class: 'muted' }, ` ${dom.statusReason}`) : null);
  showStatus(d);
  // After Verify: a domain that became validated (or stopped being) gets its settings redrawn at once, so
  // the Open Tracking switch unlocks without a reload; the per-record results stay on screen.
  const afterVerify = async (r) => {
    if (r.status === d.status) return;
    const [fresh, freshSettings] = await Promise.all([api.get(path), settings ? api.get(`${path}/settings`) : null]);
    Object.assign(d, fresh);
    showStatus(d);
    renderSettings(setBox, d, freshSettings);
    await renderTrackingDomain(tdBox, d);
  };
  replace(main,
    h('h1', null, d.name),
    statusLine,
    h('p', null, h('a', { href: `#/analytics?domain=${encodeURIComponent(d.id)}` }, `Analytics for ${d.name}`)),
    setBox, tdBox, dnsBox,
    h('section', { class: 'card danger-zone' }, h('h2', null, 'Remove domain'),
      h('button', { type: 'button', class: 'danger', onclick: async () => {
        if (!window.confirm(`Remove ${d.name}? Mail from it will no longer be accepted.`)) return;
        await api.del(path);
        location.hash = '#/domains';
      } }, `Remove ${d.name}`)),
  );
  renderDns(dnsBox, d, afterVerify);
  renderSettings(setBox, d, settings);
  await renderTrackingDomain(tdBox, d);
}

function renderDns(box, d, afterVerify) {
  replace(box, h('h2', { id: 'dns-h' }, 'DNS records'),
    d.status === 'validated' ? h('p', null, `Verified ${fmtTime(d.verifiedAt)}; re-checked ${fmtTime(d.lastCheckedAt)}.`) : h('p', null, 'Publish these records at your DNS provider, then press Verify.'),
    dnsRecordsTable(d.dnsRecords ?? []),
    d.source === 'dashboard' ? verifyBlock(d, afterVerify) : null);
}

function renderSettings(box, d, settings) {
  if (!settings) {
    replace(box, h('h2', { id: 'settings-h' }, 'Settings'), notice('info', 'Tracking settings are not available on this server yet.'));
    return;
  }
  const s = settings.settings ?? settings;
  const reason = ineligibleReason(d, settings);
  const reasonId = `ineligible-${d.id}`;
  const open = h('input', { type: 'checkbox', role: 'switch', name: 'openTracking', checked: !!s.openTracking, disabled: !!reason && !s.openTracking, 'aria-describedby': reason ? reasonId : null });
  const click = h('input', { type: 'checkbox', role: 'switch', name: 'clickTracking', checked: !!s.clickTracking, disabled: !!reason && !s.clickTracking, 'aria-describedby': reason ? reasonId : null });
  const placement = h('select', { name: 'pixelPlacement' },
    [['bottom', 'Bottom (before </body>)'], ['top', 'Top (right after <body>)'], ['auto', 'Auto (top when the HTML is big enough for Gmail to clip it)']].map(([v, l]) => h('option', { value: v, selected: s.pixelPlacement === v }, l)));
  const ipTrunc = h('input', { type: 'checkbox', name: 'ipTruncation', checked: !!s.ipTruncation });
  const retention = h('input', { type: 'number', name: 'retentionDays', min: 1, max: 3650, value: String(s.retentionDays ?? 90), required: true });
  const warning = h('p', { class: 'notice notice-warn', role: 'alert', id: 'tracking-warning' }, DELIVERABILITY_WARNING);
  warning.hidden = !open.checked;
  open.addEventListener('change', () => { warning.hidden = !open.checked; });
  const status = h('div', { 'aria-live': 'polite' });
  const initial = { openTracking: !!s.openTracking, clickTracking: !!s.clickTracking, pixelPlacement: s.pixelPlacement, ipTruncation: !!s.ipTruncation, retentionDays: Number(s.retentionDays) };
  const form = h('form', { onsubmit: async (e) => {
    e.preventDefault();
    const now = { openTracking: open.checked, clickTracking: click.checked, pixelPlacement: placement.value, ipTruncation: ipTrunc.checked, retentionDays: Number(retention.value) };
    const patch = {};
    for (const k of Object.keys(now)) if (now[k] !== initial[k]) patch[k] = now[k];
    if (!Object.keys(patch).length) return replace(status, notice('ok', 'Nothing changed.'));
    try {
      const saved = await api.patch(`/domains/${encodeURIComponent(d.id)}/settings`, patch);
      Object.assign(initial, now);
      renderSettings(box, d, saved && typeof saved === 'object' ? saved : { ...s, ...patch });
      box.querySelector('[data-status]')?.append(notice('ok', 'Settings saved.'));
    } catch (err) {
      replace(status, notice('error', err.code === 'domain_not_eligible' ? err.message : err.fields ? Object.entries(err.fields).map(([k, v]) => `${k}: ${v}`).join('; ') : err.message));
    }
  } },
  h('div', { class: 'switch-field' }, open, h('label', { for: (open.id = `open-${d.id}`) }, 'Open Tracking')),
  warning,
  reason ? h('p', { class: 'notice notice-info ineligible', id: reasonId }, reason) : null,
  h('div', { class: 'switch-field' }, click, h('label', { for: (click.id = `click-${d.id}`) }, 'Click tracking')),
  field('Pixel placement', placement),
  h('div', { class: 'switch-field' }, ipTrunc, h('label', { for: (ipTrunc.id = `ip-${d.id}`) }, 'Truncate IP addresses (/24 for IPv4, /48 for IPv6)')),
  field('Keep raw events for (days)', retention, 'Older open and click events are purged; the hourly counters stay.'),
  h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Save')),
  h('div', { 'data-status': '' }, status));
  replace(box, h('h2', { id: 'settings-h' }, 'Settings'), form);
}

async function renderTrackingDomain(box, d) {
  const base = `/domains/${encodeURIComponent(d.id)}/tracking-domain`;
  let td = d.trackingDomain ?? null;
  if (td === null && !('trackingDomain' in d)) {
    try { td = await api.get(base); } catch (err) { if (err.status !== 404) throw err; td = null; }
  }
  const status = h('div', { 'aria-live': 'polite' });
  const head = [h('h2', { id: 'td-h' }, 'Custom tracking domain'),
    h('p', { class: 'muted' }, `Serve the pixel and links from your own subdomain (e.g. track.${d.name}) instead of the shared tracking host.`)];
  if (!td || !td.hostname) {
    const host = h('input', { type: 'text', name: 'hostname', required: true, placeholder: `track.${d.name}`, spellcheck: 'false', autocomplete: 'off' });
    replace(box, head, h('form', { class: 'inline', onsubmit: async (e) => {
      e.preventDefault();
      try {
        const set = await api.put(base, { hostname: host.value.trim() });
        await renderTrackingDomain(box, { ...d, trackingDomain: set });
      } catch (err) {
        replace(status, notice('error', err.fields?.hostname ? `Hostname ${err.fields.hostname}` : err.message));
      }
    } }, field('Hostname', host, `A subdomain of ${d.name}.`), h('button', { type: 'submit' }, 'Set tracking domain')), status);
    return;
  }
  const cert = td.certificate ?? td.cert ?? null;
  const certStatus = cert?.status ?? td.certificateStatus ?? td.certStatus ?? (cert ? 'issued' : 'none');
  const certExpiry = cert?.expiresAt ?? td.certificateExpiresAt ?? td.certExpiresAt ?? null;
  const out = h('div');
  replace(box, head,
    h('dl', { class: 'kv' },
      h('dt', null, 'Hostname'), h('dd', null, h('code', null, td.hostname)),
      h('dt', null, 'CNAME to create'), h('dd', null, copyable(td.hostname), ' → ', copyable(td.cnameTarget ?? '')),
      h('dt', null, 'DNS status'), h('dd', null, badge(td.status ?? 'pending', td.status ?? 'pending'), td.statusReason || td.message ? h('span', { class: 'muted' }, ` ${td.statusReason ?? td.message}`) : null),
      td.baseUrl ? [h('dt', null, 'New mail uses'), h('dd', null, h('code', null, td.baseUrl))] : null,
      h('dt', null, 'Certificate'), h('dd', null, badge(certStatus === 'none' ? 'none (HTTP only)' : certStatus, certStatus === 'valid' ? 'validated' : certStatus), certExpiry ? ` expires ${fmtTime(certExpiry)}` : null,
        cert?.error ?? td.certificateError ? h('span', { class: 'muted' }, ` ${cert?.error ?? td.certificateError}`) : null),
      td.lastCheckedAt ? [h('dt', null, 'Last checked'), h('dd', null, fmtTime(td.lastCheckedAt))] : null,
    ),
    h('div', { class: 'actions' },
      h('button', { type: 'button', onclick: async (e) => {
        e.target.disabled = true;
        try {
          const r = await api.post(`${base}/verify`);
          await renderTrackingDomain(box, { ...d, trackingDomain: r && r.hostname ? r : td });
          box.append(notice(r?.status === 'verified' ? 'ok' : 'error', `CNAME check: ${r?.status ?? 'done'}`), checksList(r?.checks ?? []));
        } catch (err) { replace(status, notice('error', err.message)); e.target.disabled = false; }
      } }, 'Verify CNAME'),
      ' ',
      h('button', { type: 'button', class: 'danger', onclick: async () => {
        if (!window.confirm(`Stop using ${td.hostname} for new mail? Links in mail already sent keep working.`)) return;
        try { await api.del(base); await renderTrackingDomain(box, { ...d, trackingDomain: null }); } catch (err) { replace(status, notice('error', err.message)); }
      } }, 'Remove tracking domain'),
    ),
    out, status);
}
