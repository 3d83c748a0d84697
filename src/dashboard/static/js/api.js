/* global URLSearchParams */
// The dashboard calls the same /api/v1 as everyone else; the session cookie authenticates it and every
// state-changing request carries the session's CSRF token.
let csrfToken = null;
let onUnauthorized = null;

export function setCsrf(token) { csrfToken = token; }
export function setUnauthorizedHandler(fn) { onUnauthorized = fn; }

export class ApiError extends Error {
  constructor(status, code, message, fields) {
    super(message);
    this.status = status;
    this.code = code;
    this.fields = fields;
  }
}

export async function request(method, path, body) {
  const headers = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD' && csrfToken) headers['x-csrf-token'] = csrfToken;
  const url = path.startsWith('/auth/') ? path : `/api/v1${path}`;
  let r;
  try {
    r = await fetch(url, { method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, 'network', 'The server could not be reached.');
  }
  if (r.status === 204) return null;
  const type = r.headers.get('content-type') ?? '';
  const data = type.includes('json') ? await r.json().catch(() => null) : await r.text();
  if (!r.ok) {
    const err = data && data.error ? data.error : { code: 'http_' + r.status, message: `Request failed (${r.status})` };
    if (r.status === 401 && !path.startsWith('/auth/') && onUnauthorized) onUnauthorized();
    throw new ApiError(r.status, err.code, err.message, err.fields);
  }
  return data;
}

/** The bytes of a non-JSON response (e.g. message/rfc822). */
export async function fetchBytes(path) {
  const r = await fetch(`/api/v1${path}`, { credentials: 'same-origin' });
  if (!r.ok) {
    const data = await r.json().catch(() => null);
    throw new ApiError(r.status, data?.error?.code ?? `http_${r.status}`, data?.error?.message ?? `Request failed (${r.status})`);
  }
  return new Uint8Array(await r.arrayBuffer());
}

export const api = {
  get: (p) => request('GET', p),
  post: (p, b) => request('POST', p, b ?? {}),
  put: (p, b) => request('PUT', p, b ?? {}),
  patch: (p, b) => request('PATCH', p, b ?? {}),
  del: (p) => request('DELETE', p),
};

/** The query string of an object, skipping empty values. */
export function qs(params) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v != null && v !== '') u.set(k, String(v));
  const s = u.toString();
  return s ? `?${s}` : '';
}

/** True when the error means the API route is not there (yet): the view degrades instead of failing. */
export function isMissing(err) {
  return err instanceof ApiError && err.status === 404 && err.code === 'not_found' && /route/.test(err.message);
}
