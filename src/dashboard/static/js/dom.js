// Building DOM without HTML strings: every value becomes a text node or an attribute, never markup, so
// subjects, addresses, user agents and URLs from mail and requests are always shown as text.

/** h('a', {href: '#/x', onclick: fn}, 'text', child, [more]) */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props ?? {})) {
    if (v == null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2).toLowerCase(), v);
    else if (k === 'class') el.className = v;
    else if (k === 'checked' || k === 'value' || k === 'disabled' || k === 'selected') el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c == null || c === false) continue;
    el.append(typeof c === 'object' ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

export function replace(el, ...children) {
  return append(clear(el), children);
}

let uid = 0;
/** A labelled form field: label + control (+ hint), wired with for/id and aria-describedby. */
export function field(label, control, hint) {
  const id = control.id || `f${++uid}`;
  control.id = id;
  const parts = [h('label', { for: id }, label), control];
  if (hint) {
    const hid = `${id}-hint`;
    control.setAttribute('aria-describedby', hid);
    parts.push(h('p', { class: 'hint', id: hid }, hint));
  }
  return h('div', { class: 'field' }, parts);
}

export function badge(text, kind) {
  return h('span', { class: `badge badge-${kind ?? text}` }, text);
}

export function fmtTime(v) {
  if (v == null || v === '') return '—';
  const d = typeof v === 'number' ? new Date(v) : new Date(String(v));
  return Number.isNaN(d.getTime()) ? String(v) : d.toLocaleString();
}

export function fmtNum(n) {
  return n == null ? '—' : Number(n).toLocaleString();
}

export function fmtPct(r) {
  return r == null || Number.isNaN(Number(r)) ? '—' : `${(Number(r) * 100).toFixed(1)}%`;
}

/** A status line for errors and confirmations (role=alert for errors so screen readers announce them). */
export function notice(kind, text) {
  return h('p', { class: `notice notice-${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);
}

export function table(headers, rows, caption) {
  return h('div', { class: 'table-wrap' },
    h('table', null,
      caption ? h('caption', null, caption) : null,
      h('thead', null, h('tr', null, headers.map((x) => h('th', { scope: 'col' }, x)))),
      h('tbody', null, rows.length ? rows : h('tr', null, h('td', { colspan: headers.length, class: 'muted' }, 'Nothing here yet.'))),
    ),
  );
}

/**
 * A table filled page by page from a cursor-paged list API, with a "Load more" button while there is a next
 * page. `loadPage(cursor)` returns `{ rows, nextCursor }`, or nothing when it has shown its own notice in
 * `container` instead.
 */
export async function pagedTable(container, headers, loadPage) {
  let cursor = null;
  const rows = [];
  const more = h('button', { type: 'button', class: 'secondary', onclick: () => load() }, 'Load more');
  async function load() {
    const page = await loadPage(cursor);
    if (!page) return;
    rows.push(...page.rows);
    cursor = page.nextCursor;
    replace(container, table(headers, rows), cursor ? h('div', { class: 'actions' }, more) : null);
  }
  await load();
}

/** Copyable value: monospace text plus a Copy button. */
export function copyable(value, label = 'Copy') {
  const code = h('code', { class: 'copy-value' }, value);
  const btn = h('button', { type: 'button', class: 'small', 'aria-label': `${label} ${value.length > 48 ? `${value.slice(0, 48)}…` : value}`, onclick: async () => {
    try { await navigator.clipboard.writeText(value); btn.textContent = 'Copied'; } catch { btn.textContent = 'Select and copy'; }
  } }, label);
  return h('span', { class: 'copyable' }, code, ' ', btn);
}
