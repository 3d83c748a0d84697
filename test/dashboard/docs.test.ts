// docs/dashboard.md names real routes: every `METHOD /path` it mentions is in the running server's OpenAPI
// document, and its curl login example works as written (against a test server).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { startTestServer } from '../helpers/test-server.ts';

test('docs/dashboard.md: every route it names exists; the login example works', async () => {
  const md = fs.readFileSync('docs/dashboard.md', 'utf8');
  const s = await startTestServer();
  try {
    const doc = await (await fetch(`${s.baseUrl}/api/openapi.json`)).json();
    const named = [...md.matchAll(/`((?:GET|POST|PUT|PATCH|DELETE)(?:\/(?:GET|POST|PUT|PATCH|DELETE))*) (\/[^` ?]+)[^`]*`/g)];
    assert.ok(named.length >= 15);
    for (const [, methods, path] of named) {
      for (const m of methods.split('/')) assert.ok(doc.paths[path]?.[m.toLowerCase()], `${m} ${path} is documented but not served`);
    }
    // The curl example: log in with JSON, read with the cookie, change with cookie + X-CSRF-Token.
    await s.account('docs@example.test');
    const login = /curl -si -c jar -H '([^']+)' \\\n\s+-d '([^']+)'/.exec(md)!;
    assert.ok(login, 'the login example is in the doc');
    const [hName, hValue] = login[1].split(': ');
    const body = login[2].replace('demo@mailbeacon.local', 'docs@example.test').replace('"…"', '"correct horse battery"');
    const r = await fetch(`${s.baseUrl}/auth/login`, { method: 'POST', headers: { [hName]: hValue }, body });
    assert.equal(r.status, 200);
    assert.match(r.headers.get('set-cookie')!, /^mb_session=[^;]+; Path=\/; HttpOnly; SameSite=Lax; Max-Age=604800$/, 'the cookie looks as documented');
    const { csrfToken } = await r.json();
    const cookie = r.headers.get('set-cookie')!.split(';')[0];
    assert.equal((await fetch(`${s.baseUrl}/api/v1/account`, { headers: { cookie } })).status, 200);
    const created = await fetch(`${s.baseUrl}/api/v1/api-keys`, { method: 'POST', headers: { cookie, 'x-csrf-token': csrfToken, 'content-type': 'application/json' }, body: '{"name":"ci"}' });
    assert.equal(created.status, 201);
  } finally {
    await s.stop();
  }
});
