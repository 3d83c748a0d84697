// The group committer shared by acceptance (250 after commit) and delivery results: items submitted in the
// same turn of the event loop share one commit, items arriving during a commit share the next one, every
// caller is answered only after its own commit, and a failed commit rejects exactly its batch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GroupCommitter } from '../../src/outbound/group-commit.ts';

test('20 concurrent submits are one commit; submits during a commit form the next batch', async () => {
  const commits: number[][] = [];
  let release: (() => void) | undefined;
  const gc = new GroupCommitter<number>(async (items) => {
    commits.push(items);
    if (items[0] === 0) await new Promise<void>((r) => (release = r));
  });
  const first = Array.from({ length: 20 }, (_, i) => gc.submit(i));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(commits, [Array.from({ length: 20 }, (_, i) => i)], 'one commit of all 20');
  let answered = 0;
  for (const p of first) void p.then(() => answered++);
  const second = Array.from({ length: 5 }, (_, i) => gc.submit(100 + i));
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(answered, 0, 'nobody is answered before the commit finishes');
  assert.equal(commits.length, 1, 'no second commit while the first runs');
  release!();
  await Promise.all([...first, ...second]);
  assert.equal(answered, 20);
  assert.deepEqual(commits[1], [100, 101, 102, 103, 104]);
  await gc.idle();
});

test('a lone item commits without a timer; a failed commit rejects only its batch', async () => {
  let fail = true;
  const gc = new GroupCommitter<string>(async () => {
    if (fail) throw new Error('disk full');
  });
  const t0 = performance.now();
  await assert.rejects(Promise.all([gc.submit('a'), gc.submit('b')]), /disk full/);
  fail = false;
  await gc.submit('c');
  assert.ok(performance.now() - t0 < 50);
  await gc.idle();
});
