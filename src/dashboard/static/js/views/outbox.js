// The outbox: messages as they were delivered (MAILBEACON_RELAY=outbox). A message is previewed in a
// sandboxed iframe with remote images blocked, so looking does not count as an open; "Open as recipient"
// loads the images, the tracking pixel among them, and so records a real open.
import { api, fetchBytes, isMissing, qs } from '../api.js';
import { h, replace, notice, pagedTable, fmtTime, fmtNum } from '../dom.js';
import { parseMessage } from '../mime.js';
import { buildSrcdoc } from '../preview.js';

export async function render(main, ctx) {
  if (ctx.args[0]) return renderOne(main, ctx.args[0]);
  return renderList(main, ctx.params);
}

async function renderList(main, params) {
  const messageId = params.get('messageId') ?? '';
  const body = h('div');
  replace(main, h('h1', null, 'Outbox'),
    h('p', { class: 'muted' }, 'Messages delivered to the built-in outbox (MAILBEACON_RELAY=outbox), exactly as a recipient would get them.'),
    messageId ? h('p', null, 'Showing the copies of one message. ', h('a', { href: '#/outbox' }, 'Show all')) : null,
    body);
  await pagedTable(body, ['Delivered', 'Recipient', 'Subject', 'Envelope sender', 'Bytes'], async (cursor) => {
    let res;
    try {
      res = await api.get(`/outbox${qs({ messageId, cursor, limit: 50 })}`);
    } catch (err) {
      if (!isMissing(err)) throw err;
      replace(body, notice('info', 'The outbox API is not available on this server yet.'));
      return undefined;
    }
    const rows = res.data.map((m) => h('tr', null,
      h('td', null, fmtTime(m.createdAt)),
      h('td', null, m.recipient),
      h('th', { scope: 'row' }, h('a', { href: `#/outbox/${encodeURIComponent(m.id)}` }, m.subject || '(no subject)')),
      h('td', null, m.mailFrom),
      h('td', { class: 'num' }, fmtNum(m.size)),
    ));
    return { rows, nextCursor: res.nextCursor };
  });
}

async function renderOne(main, id) {
  const bytes = await fetchBytes(`/outbox/${encodeURIComponent(id)}/raw`);
  const msg = parseMessage(bytes);
  const hd = msg.headers;
  const frameBox = h('div');
  const state = h('div', { 'aria-live': 'polite' });
  const show = (loadImages) => {
    if (msg.html == null) {
      replace(frameBox, h('pre', { class: 'card', style: 'white-space: pre-wrap' }, msg.text ?? '(no text body)'));
      return;
    }
    const frame = h('iframe', { class: 'preview-frame', title: loadImages ? 'Message as the recipient sees it, images loaded' : 'Message preview, remote images blocked', sandbox: '', referrerpolicy: 'no-referrer' });
    frame.setAttribute('srcdoc', buildSrcdoc(msg.html, { loadImages }));
    replace(frameBox, frame);
    replace(state, loadImages
      ? notice('warn', 'Images loaded: the tracking pixel was fetched, so this counts as an open.')
      : notice('info', 'Remote images are blocked in this preview, so looking at it does not count as an open.'));
  };
  const asRecipient = h('button', { type: 'button', onclick: () => { show(true); asRecipient.disabled = true; } }, 'Open as recipient');
  const textBtn = msg.html != null && msg.text != null
    ? h('button', { type: 'button', class: 'secondary', onclick: () => { replace(frameBox, h('pre', { class: 'card', style: 'white-space: pre-wrap' }, msg.text)); asRecipient.disabled = false; } }, 'Show text part')
    : null;
  replace(main,
    h('p', null, h('a', { href: '#/outbox' }, '← Outbox')),
    h('h1', null, hd.subject || '(no subject)'),
    h('section', { class: 'card' }, h('dl', { class: 'kv' },
      h('dt', null, 'From'), h('dd', null, hd.from ?? ''),
      h('dt', null, 'To'), h('dd', null, hd.to ?? ''),
      hd.cc ? [h('dt', null, 'Cc'), h('dd', null, hd.cc)] : null,
      h('dt', null, 'Date'), h('dd', null, hd.date ?? ''),
      h('dt', null, 'Message-ID'), h('dd', null, h('code', null, hd['message-id'] ?? '')),
      h('dt', null, 'DKIM'), h('dd', null, hd['dkim-signature'] ? 'signed' : 'not signed'),
      h('dt', null, 'Size'), h('dd', null, `${fmtNum(bytes.length)} bytes`),
    )),
    h('div', { class: 'actions' }, msg.html != null ? asRecipient : null, textBtn, h('a', { href: `/api/v1/outbox/${encodeURIComponent(id)}/raw`, download: `${id}.eml` }, 'Download raw MIME')),
    state,
    frameBox,
  );
  show(false);
}
