import { api } from '../api.js';
import { h, replace, field, notice } from '../dom.js';

export async function render(main, { app }) {
  const acc = await api.get('/account');
  const current = h('input', { type: 'password', autocomplete: 'current-password', required: true });
  const next = h('input', { type: 'password', autocomplete: 'new-password', required: true, minlength: 8 });
  const again = h('input', { type: 'password', autocomplete: 'new-password', required: true, minlength: 8 });
  const status = h('div', { 'aria-live': 'polite' });
  const form = h('form', { class: 'card', onsubmit: async (e) => {
    e.preventDefault();
    if (next.value !== again.value) return replace(status, notice('error', 'The new passwords do not match.'));
    try {
      await api.post('/account/password', { currentPassword: current.value, newPassword: next.value });
      form.reset();
      replace(status, notice('ok', 'Password changed. Other browsers logged in as you were logged out.'));
    } catch (err) {
      replace(status, notice('error', err.fields ? Object.values(err.fields).join('; ') : err.message));
    }
  } },
  h('h2', null, 'Change password'),
  field('Current password', current), field('New password', next, 'At least 8 characters.'), field('New password again', again),
  status, h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Change password')));

  replace(main,
    h('h1', null, 'Account'),
    h('section', { class: 'card' },
      h('dl', { class: 'kv' },
        h('dt', null, 'Account'), h('dd', null, acc.name),
        h('dt', null, 'Account id'), h('dd', null, h('code', null, acc.id)),
        h('dt', null, 'Logged in as'), h('dd', null, app.session.user.email),
        h('dt', null, 'Sending mode'), h('dd', null, acc.sendingMode === 'any' ? 'Any From domain (unverified domains are recorded as manual DNS)' : 'Only domains verified here'),
      ),
    ),
    form,
  );
}
