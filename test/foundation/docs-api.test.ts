// The curl examples in docs/api.md run against a real server and answer what the page shows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { startTestServer } from '../helpers/test-server.ts';

/** Each ```sh curl block paired with the ```json block that follows it. */
function examples(md: string): { curl: string; json: unknown }[] {
  const blocks = [...md.matchAll(/```(sh|json)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1], body: m[2].trim() }));
  const out: { curl: string; json: unknown }[] = [];
  for (let i = 0; i + 1 < blocks.length; i++) {
    if (blocks[i].lang === 'sh' && blocks[i + 1].lang === 'json') out.push({ curl: blocks[i].body.replace(/\\\n\s*/g, ''), json: JSON.parse(blocks[i + 1].body) });
  }
  return out;
}

/** The documented body matches the real one: same keys, same values except placeholders ("…"). */
function like(actual: any, documented: any, path = '$') {
  if (typeof documented === 'string' && documented.includes('…')) return;
  if (documented && typeof documented === 'object') {
    assert.deepEqual(Object.keys(actual ?? {}).sort(), Object.keys(documented).sort(), `keys at ${path}`);
    for (const k of Object.keys(documented)) like(actual[k], documented[k], `${path}.${k}`);
    return;
  }
  if (path.endsWith('createdAt')) return;
  assert.equal(actual, documented, path);
}

test('every example in docs/api.md answers as documented', async () => {
  const md = fs.readFileSync('docs/api.md', 'utf8');
  const ex = examples(md);
  assert.ok(ex.length >= 3, `found ${ex.length} examples`);
  const s = await startTestServer({ roles: ['http'] });
  try {
    const acc = await s.account('you@example.com');
    for (const { curl, json } of ex) {
      const url = /curl -s(?: -X (\w+))? (http:\/\/localhost:8080\S+)/.exec(curl);
      assert.ok(url, curl);
      const headers: Record<string, string> = {};
      for (const m of curl.matchAll(/-H ["']([^:]+): ([^"']+)["']/g)) headers[m[1]] = m[2].replace('$API_KEY', acc.apiKey);
      const body = /-d '([^']+)'/.exec(curl)?.[1];
      const r = await fetch(url[2].replace('http://localhost:8080', s.baseUrl), { method: url[1] ?? 'GET', headers, body });
      like(await r.json(), json);
    }
  } finally {
    await s.stop();
  }
});
