// API keys and SMTP credentials: list, create (the secret is shown once), revoke.
import { api } from '../api.js';
import { h, replace, field, notice, table, fmtTime, badge, copyable } from '../dom.js';

export async function render(main, ctx) {
  const keysBox = h('section', { class: 'card', 'aria-labelledby': 'keys-h' });
  const smtpBox = h('section', { class: 'card', 'aria-labelledby': 'smtp-h' });
  replace(main, h('h1', null, 'API keys & SMTP credentials'), keysBox, smtpBox);
  await Promise.all([renderKeys(keysBox, ctx), renderSmtp(smtpBox, ctx)]);
}

async function renderKeys(box) {
  const { data } = await api.get('/api-keys');
  const name = h('input', { type: 'text', maxlength: 100, placeholder: 'e.g. production' });
  const status = h('div', { 'aria-live': 'polite' });
  const rows = data.map((k) => h('tr', null,
    h('td', null, k.name), h('td', null, h('code', null, `${k.prefix}…`)), h('td', null, fmtTime(k.createdAt)),
    h('td', null, k.revokedAt ? badge('revoked', 'failed') : badge('active', 'validated')),
    h('td', null, k.revokedAt ? null : h('button', { type: 'button', class: 'small danger', 'aria-label': `Revoke API key ${k.name}`, onclick: async () => {
      if (!window.confirm(`Revoke the API key "${k.name}"? Programs using it will stop working.`)) return;
      await api.del(`/api-keys/${encodeURIComponent(k.id)}`);
      await renderKeys(box);
    } }, 'Revoke')),
  ));
  replace(box,
    h('h2', { id: 'keys-h' }, 'API keys'),
    h('p', { class: 'muted' }, 'Programs call the API with Authorization: Bearer <key>. The key is shown once, when it is created.'),
    table(['Name', 'Key', 'Created', 'Status', ''], rows),
    h('form', { class: 'inline', onsubmit: async (e) => {
      e.preventDefault();
      try {
        const k = await api.post('/api-keys', { name: name.value || 'key' });
        await renderKeys(box);
        box.append(notice('ok', 'New API key (copy it now, it is not shown again):'), h('p', null, copyable(k.apiKey)));
      } catch (err) { replace(status, notice('error', err.message)); }
    } }, field('New key name', name), h('button', { type: 'submit' }, 'Create API key')),
    status,
  );
}

async function renderSmtp(box) {
  const { data } = await api.get('/smtp-credentials');
  const rows = data.map((c) => h('tr', null,
    h('td', null, h('code', null, c.username)), h('td', null, fmtTime(c.createdAt)),
    h('td', null, c.revokedAt ? badge('revoked', 'failed') : badge('active', 'validated')),
    h('td', null, c.revokedAt ? null : h('button', { type: 'button', class: 'small danger', 'aria-label': `Revoke SMTP credential ${c.username}`, onclick: async () => {
      if (!window.confirm(`Revoke the SMTP credential ${c.username}?`)) return;
      await api.del(`/smtp-credentials/${encodeURIComponent(c.id)}`);
      await renderSmtp(box);
    } }, 'Revoke')),
  ));
  replace(box,
    h('h2', { id: 'smtp-h' }, 'SMTP credentials'),
    h('p', { class: 'muted' }, 'Applications send through the SMTP submission port with AUTH PLAIN or LOGIN. The password is shown once.'),
    table(['Username', 'Created', 'Status', ''], rows),
    h('div', { class: 'actions' }, h('button', { type: 'button', onclick: async () => {
      const c = await api.post('/smtp-credentials');
      await renderSmtp(box);
      box.append(notice('ok', 'New SMTP credential (copy the password now, it is not shown again):'),
        h('dl', { class: 'kv' }, h('dt', null, 'Username'), h('dd', null, copyable(c.username)), h('dt', null, 'Password'), h('dd', null, copyable(c.password))));
    } }, 'Create SMTP credential')),
  );
}
