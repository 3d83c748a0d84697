/* global URLSearchParams, sessionStorage */
// The app shell: session bootstrap, navigation, and a hash router (#/domains, #/domains/ID, ...).
import { request, setCsrf, setUnauthorizedHandler } from './api.js';
import { h, replace, notice } from './dom.js';
import * as login from './views/login.js';
import * as domains from './views/domains.js';
import * as domain from './views/domain.js';
import * as analytics from './views/analytics.js';
import * as messages from './views/messages.js';
import * as outbox from './views/outbox.js';
import * as keys from './views/keys.js';
import * as webhooks from './views/webhooks.js';
import * as account from './views/account.js';

const NAV = [
  ['#/domains', 'Domains'],
  ['#/analytics', 'Analytics'],
  ['#/messages', 'Messages'],
  ['#/outbox', 'Outbox'],
  ['#/keys', 'API keys & SMTP'],
  ['#/webhooks', 'Webhooks'],
  ['#/account', 'Account'],
];

const ROUTES = [
  [/^\/login$/, login],
  [/^\/domains$/, domains],
  [/^\/domains\/([^/]+)$/, domain],
  [/^\/analytics$/, analytics],
  [/^\/messages$/, messages],
  [/^\/messages\/([^/]+)$/, messages],
  [/^\/outbox$/, outbox],
  [/^\/outbox\/([^/]+)$/, outbox],
  [/^\/keys$/, keys],
  [/^\/webhooks$/, webhooks],
  [/^\/account$/, account],
];

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const who = document.getElementById('who');

export const app = {
  session: null,
  /** Called by the login view. */
  loggedIn(session) {
    app.session = session;
    setCsrf(session.csrfToken);
    renderChrome();
    go(sessionStorage.getItem('mb.after-login') || '#/domains');
    sessionStorage.removeItem('mb.after-login');
  },
  async logout() {
    try { await request('POST', '/auth/logout'); } catch { /* logged out anyway */ }
    app.session = null;
    setCsrf(null);
    renderChrome();
    go('#/login');
  },
  go,
};

function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

function renderChrome() {
  const s = app.session;
  nav.hidden = !s;
  replace(nav, s ? h('ul', null, NAV.map(([href, label]) => h('li', null, h('a', { href }, label)))) : null);
  replace(who, s ? [h('span', { class: 'muted' }, s.user.email), ' ', h('button', { type: 'button', class: 'small', onclick: () => app.logout() }, 'Log out')] : null);
  markCurrent();
}

function markCurrent() {
  const path = location.hash.split('?')[0];
  for (const a of nav.querySelectorAll('a')) {
    const here = path === a.getAttribute('href') || path.startsWith(a.getAttribute('href') + '/');
    if (here) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

let cleanup = null;
let seq = 0;

async function route() {
  const raw = location.hash.replace(/^#/, '') || '/domains';
  const [path, query] = raw.split('?');
  const params = new URLSearchParams(query ?? '');
  if (!app.session && path !== '/login') {
    sessionStorage.setItem('mb.after-login', `#${raw}`);
    return go('#/login');
  }
  if (app.session && path === '/login') return go('#/domains');
  const hit = ROUTES.find(([re]) => re.test(path));
  if (typeof cleanup === 'function') cleanup();
  cleanup = null;
  markCurrent();
  const mine = ++seq;
  if (!hit) {
    replace(main, h('h1', { tabindex: '-1' }, 'Not found'), h('p', null, 'No such page. ', h('a', { href: '#/domains' }, 'Go to domains')));
    return;
  }
  const [re, view] = hit;
  const args = path.match(re).slice(1).map(decodeURIComponent);
  replace(main, h('p', { class: 'muted' }, 'Loading…'));
  try {
    const c = await view.render(main, { args, params, app, isCurrent: () => mine === seq });
    if (mine === seq) cleanup = c;
    else if (typeof c === 'function') c();
  } catch (err) {
    if (mine !== seq) return;
    const missing = err && err.status === 404;
    replace(main, h('h1', { tabindex: '-1' }, missing ? 'Not found' : 'Something went wrong'), notice('error', err.message || String(err)));
  }
  if (mine === seq) {
    const h1 = main.querySelector('h1');
    if (h1) { h1.setAttribute('tabindex', '-1'); h1.focus({ preventScroll: true }); }
  }
}

setUnauthorizedHandler(() => {
  if (!app.session) return;
  app.session = null;
  renderChrome();
  go('#/login');
});

async function boot() {
  try {
    const s = await request('GET', '/auth/session');
    app.session = s.authenticated ? s : null;
    setCsrf(app.session?.csrfToken ?? null);
  } catch {
    app.session = null;
  }
  renderChrome();
  window.addEventListener('hashchange', route);
  await route();
}

boot();
