// The dashboard's files: plain HTML, CSS and ES modules from src/dashboard/static (no build step) plus
// uPlot from node_modules, read once at startup and served with an ETag and a strict CSP.
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

/**
 * The page's Content-Security-Policy. Scripts only from our origin (no inline script anywhere). Images may
 * come from anywhere because a message opened "as recipient" in the outbox iframe inherits this policy and
 * must load its remote images (the tracking pixel among them); the dashboard itself never puts a
 * user-supplied URL into an image. Inline styles are allowed for the same reason (HTML mail is styled
 * inline); the preview iframe is sandboxed without scripts.
 */
export const DASHBOARD_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  'img-src * data:',
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': DASHBOARD_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
  'x-frame-options': 'DENY',
};

function walk(dir: string, base = dir, out: string[] = []): string[] {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, base, out);
    else out.push(path.relative(base, p).split(path.sep).join('/'));
  }
  return out;
}

function asset(file: string): Asset {
  const body = fs.readFileSync(file);
  return { body, type: TYPES[path.extname(file)] ?? 'application/octet-stream', etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
}

/** Every file the dashboard serves, by URL path below /assets/ (plus 'index.html'). */
export function loadAssets(): Map<string, Asset> {
  const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'static');
  const out = new Map<string, Asset>();
  for (const rel of walk(dir)) out.set(rel, asset(path.join(dir, rel)));
  const uplotDir = path.dirname(createRequire(import.meta.url).resolve('uplot'));
  out.set('vendor/uPlot.esm.js', asset(path.join(uplotDir, 'uPlot.esm.js')));
  out.set('vendor/uPlot.min.css', asset(path.join(uplotDir, 'uPlot.min.css')));
  return out;
}
