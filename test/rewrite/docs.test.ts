// docs/rewriting.md: the example runs as written and gives the output shown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { runCli } from '../helpers/spawn-cli.ts';

test('docs/rewriting.md: the mailbeacon rewrite example gives the documented output', async () => {
  const doc = fs.readFileSync('docs/rewriting.md', 'utf8');
  const example = doc.slice(doc.indexOf('### Example'));
  const blocks = [...example.matchAll(/```(\w+)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1], body: m[2] }));
  const [input, cmd, output] = blocks;
  assert.equal(input.lang, 'eml');
  assert.equal(output.lang, 'eml');
  const args = cmd.body.trim().replace(/ < in\.eml > out\.eml$/, '').split(/\s+/);
  assert.equal(args.shift(), 'mailbeacon');
  const r = await runCli(args, {}, input.body);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, output.body);
});
