// Messages: search by recipient, subject and date; per-recipient status, opens and clicks; a message's
// timeline (accepted, delivered, opened with client and place, clicked which link).
import { api, isMissing, qs } from '../api.js';
import { h, replace, field, notice, table, pagedTable, badge, fmtTime, fmtNum } from '../dom.js';

export async function render(main, ctx) {
  if (ctx.args[0]) return renderOne(main, ctx.args[0]);
  return renderSearch(main, ctx.params);
}

function dayStart(v) { return v ? new Date(`${v}T00:00:00`).toISOString() : ''; }
function dayEnd(v) { return v ? new Date(new Date(`${v}T00:00:00`).getTime() + 86_400_000).toISOString() : ''; }

async function renderSearch(main, params) {
  const recipient = h('input', { type: 'email', name: 'recipient', value: params.get('recipient') ?? '', autocomplete: 'off' });
  const subject = h('input', { type: 'search', name: 'subject', value: params.get('subject') ?? '' });
  const since = h('input', { type: 'date', name: 'since', value: params.get('since') ?? '' });
  const until = h('input', { type: 'date', name: 'until', value: params.get('until') ?? '' });
  const results = h('div', { 'aria-live': 'polite' });
  const form = h('form', { class: 'card inline', role: 'search', onsubmit: (e) => {
    e.preventDefault();
    location.hash = `#/messages${qs({ recipient: recipient.value.trim(), subject: subject.value.trim(), since: since.value, until: until.value })}`;
  } },
  field('Recipient', recipient), field('Subject contains', subject), field('From date', since), field('To date', until),
  h('button', { type: 'submit' }, 'Search'));
  replace(main, h('h1', null, 'Messages'), form, results);

  await pagedTable(results, ['Sent', 'Subject', 'From', 'Recipients'], async (cursor) => {
    let res;
    try {
      res = await api.get(`/messages${qs({ recipient: recipient.value.trim(), subject: subject.value.trim(), since: dayStart(since.value), until: dayEnd(until.value), cursor, limit: 50 })}`);
    } catch (err) {
      // The notice takes the table's place; no page.
      replace(results, isMissing(err)
        ? notice('info', 'The messages API is not available on this server yet.')
        : notice('error', err.fields ? Object.entries(err.fields).map(([k, v]) => `${k}: ${v}`).join('; ') : err.message));
      return undefined;
    }
    const copyIds = res.data.flatMap((m) => (m.recipients ?? []).map((r) => r.id)).filter(Boolean);
    let activity = {};
    if (copyIds.length) {
      try { activity = (await api.get(`/copies/activity${qs({ ids: copyIds.join(',') })}`)).data; } catch { activity = {}; }
    }
    const plural = (n, one) => `${n} ${one}${n === 1 ? '' : 's'}`;
    const rows = res.data.map((m) => h('tr', null,
      h('td', null, fmtTime(m.createdAt)),
      h('th', { scope: 'row' }, h('a', { href: `#/messages/${encodeURIComponent(m.id)}` }, m.subject || '(no subject)')),
      h('td', null, m.from),
      h('td', null, h('ul', { class: 'plain' }, (m.recipients ?? []).map((r) => {
        const a = activity[r.id];
        return h('li', null, r.email, ' ', badge(r.status), a ? h('span', { class: 'muted' }, ` · ${plural(a.opens, 'open')} (${a.humanOpens} human) · ${plural(a.clicks, 'click')}`) : null);
      }))),
    ));
    return { rows, nextCursor: res.nextCursor };
  });
}

function describe(e) {
  switch (e.type) {
    case 'open': {
      const who = [e.clientName && `${e.clientName}${e.clientVersion ? ` ${e.clientVersion}` : ''}`, e.os, e.device].filter(Boolean).join(', ');
      return [e.isFirst ? 'Opened (first open)' : 'Opened again', who ? ` in ${who}` : '', e.ip ? ` from ${e.ip}` : ''];
    }
    case 'click':
      return ['Clicked ', e.url ? h('code', null, e.url) : `link ${e.linkIndex ?? '?'}`, e.ip ? ` from ${e.ip}` : ''];
    case 'delivered': return ['Delivered', e.data?.response ? ` (${e.data.response})` : ''];
    case 'deferred': return ['Deferred', e.data?.response || e.data?.error ? `: ${e.data.response ?? e.data.error}` : ''];
    case 'bounced': return ['Bounced', e.data?.response || e.data?.error ? `: ${e.data.response ?? e.data.error}` : ''];
    case 'accepted': return ['Accepted'];
    default: return [e.type];
  }
}

async function renderOne(main, id) {
  const m = await api.get(`/messages/${encodeURIComponent(id)}`);
  let timeline = [];
  try { timeline = (await api.get(`/messages/${encodeURIComponent(id)}/timeline`)).data; } catch (err) { if (!isMissing(err)) throw err; }
  const count = (copyId, type) => timeline.filter((e) => e.copyId === copyId && e.type === type).length;
  const rcptRows = (m.recipients ?? []).map((r) => h('tr', null,
    h('th', { scope: 'row' }, r.email),
    h('td', null, badge(r.status)),
    h('td', { class: 'num' }, fmtNum(r.attempts)),
    h('td', null, fmtTime(r.deliveredAt)),
    h('td', { class: 'num' }, fmtNum(count(r.id, 'open'))),
    h('td', { class: 'num' }, fmtNum(count(r.id, 'click'))),
    h('td', null, r.lastError ?? ''),
  ));
  const byCopy = new Map((m.recipients ?? []).map((r) => [r.id, r.email]));
  const items = timeline.map((e) => h('li', null,
    h('time', { datetime: e.at }, fmtTime(e.at)), ' — ',
    h('strong', null, e.recipient ?? byCopy.get(e.copyId) ?? ''), ': ',
    describe(e),
    e.classification ? [' ', badge(e.classification), e.reason ? h('span', { class: 'muted' }, ` ${e.reason}`) : null] : null,
    e.userAgent ? h('div', { class: 'muted ua' }, 'User agent: ', h('code', null, e.userAgent)) : null,
  ));
  replace(main,
    h('p', null, h('a', { href: '#/messages' }, '← Messages')),
    h('h1', null, m.subject || '(no subject)'),
    h('section', { class: 'card' }, h('dl', { class: 'kv' },
      h('dt', null, 'From'), h('dd', null, m.from ?? ''),
      h('dt', null, 'Message-ID'), h('dd', null, h('code', null, m.messageId ?? '')),
      h('dt', null, 'Accepted'), h('dd', null, fmtTime(m.createdAt), m.source ? ` via ${m.source}` : ''),
      h('dt', null, 'Size'), h('dd', null, `${fmtNum(m.size)} bytes`),
    ), h('p', null, h('a', { href: `#/outbox?messageId=${encodeURIComponent(m.id)}` }, 'Delivered copies in the outbox'))),
    h('section', { class: 'card' }, h('h2', null, 'Recipients'), table(['Recipient', 'Status', 'Attempts', 'Delivered', 'Opens', 'Clicks', 'Last error'], rcptRows)),
    h('section', { class: 'card' }, h('h2', null, 'Timeline'), items.length ? h('ol', { class: 'timeline' }, items) : h('p', { class: 'muted' }, 'No events yet.')),
  );
}
