// The fast-path example in docs/tracking.md, run with real curl against a real server: the commands as written
// (host and port swapped for the test server's) print what the page shows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startTestServer } from '../helpers/test-server.ts';
import { seedCopies, signer } from './helpers.ts';
import { trackingSettled } from '../../src/tracking/tracking-http.ts';

test('the HTTP fast path example in docs/tracking.md prints what the page shows', async () => {
  const md = fs.readFileSync('docs/tracking.md', 'utf8');
  const block = /To watch it,[\s\S]*?```sh\n([\s\S]*?)```/.exec(md)?.[1];
  assert.ok(block, 'the example block');
  const lines = block.split('\n');
  const commands = lines.filter((l) => l.startsWith('curl '));
  const expected = lines.filter((l) => l.startsWith('# ')).map((l) => l.slice(2).replace(/\s+<-.*$/, ''));
  assert.equal(commands.length, 2);
  assert.equal(expected.length, 3);
  // The tracking host is the public URL's (any port): 127.0.0.1, as the test server listens there.
  const s = await startTestServer({ env: { MAILBEACON_PUBLIC_URL: 'http://127.0.0.1:8080' } });
  try {
    const { copyIds } = await seedCopies(s.server.ctx.store, 1);
    const pixel = `${s.baseUrl}/o/${signer.sign({ kind: 'open', copyId: copyIds[0] }, '127.0.0.1')}.gif`;
    // Asynchronously: the server runs in this process.
    const run = async (cmd: string) => (await promisify(execFile)('bash', ['-c', cmd.replaceAll('http://localhost:8080', s.baseUrl)], { env: { ...process.env, PIXEL: pixel }, encoding: 'utf8', timeout: 10_000 })).stdout;
    assert.deepEqual((await run(commands[0])).trim().split('\n'), expected.slice(0, 2));
    assert.equal((await run(commands[1])).trim(), expected[2]);
    await trackingSettled(s.server.ctx);
    const evs = await s.server.ctx.store.db.kysely.selectFrom('events').select(['copyId', 'type']).execute();
    assert.deepEqual(evs, [{ copyId: copyIds[0], type: 'open' }], 'the pixel load was recorded');
  } finally {
    await s.stop();
  }
});
