// Memory: a 50 MB message with a 40 MB attachment streams through the rewriter adding less than 100 MB of
// RSS (measured in a child process, data generated there on the fly).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

test('memory: a 50 MB message with a 40 MB attachment adds < 100 MB RSS', { timeout: 240_000 }, async () => {
  const child = path.resolve('test/rewrite/memory-child.ts');
  const { stdout } = await run(process.execPath, ['--expose-gc', '--import', 'tsx', child], { maxBuffer: 1 << 20, timeout: 230_000 });
  const r = JSON.parse(stdout);
  const MB = 1024 * 1024;
  assert.ok(r.inBytes > 50 * MB, `message size ${r.inBytes}`);
  assert.equal(r.pixels, 1);
  assert.equal(r.links, 1);
  assert.ok(r.sawPixel);
  assert.deepEqual(r.warnings, []);
  assert.ok(r.outBytes > r.inBytes && r.outBytes < r.inBytes + 4096, `output ${r.outBytes} for input ${r.inBytes}`);
  const added = (r.peak - r.baseline) / MB;
  assert.ok(added < 100, `RSS grew by ${added.toFixed(1)} MB`);
});
