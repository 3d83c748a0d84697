import { request } from '../api.js';
import { h, replace, field, notice } from '../dom.js';

export async function render(main, { app }) {
  const email = h('input', { type: 'email', name: 'email', autocomplete: 'username', required: true });
  const password = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true });
  const status = h('div', { 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit' }, 'Log in');
  const form = h('form', { class: 'card narrow', onsubmit: async (e) => {
    e.preventDefault();
    submit.disabled = true;
    replace(status);
    try {
      const s = await request('POST', '/auth/login', { email: email.value, password: password.value });
      app.loggedIn(s);
    } catch (err) {
      replace(status, notice('error', err.status === 401 ? 'Wrong email or password.' : err.message));
      submit.disabled = false;
      password.select();
    }
  } },
  field('Email', email), field('Password', password), status, h('div', { class: 'actions' }, submit));
  replace(main, h('h1', null, 'Log in'), form);
  email.focus();
}
