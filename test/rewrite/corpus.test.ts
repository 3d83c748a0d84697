// Every message of the shared corpus (../shared/corpus, several malformed on purpose) through the
// rewriter with opens and clicks on: it never throws, the output parses to the same MIME tree with the
// same headers, non-HTML parts are byte-identical, and every eligible HTML part has exactly one pixel
// (or, when it can't be rewritten safely, is byte-identical and a warning says so). mailparser, an
// independent parser, must find the same attachments in input and output.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { isEligibleHtmlPart } from '../../src/rewrite/eligibility.ts';
import { CORPUS, PIXEL_SRC, corpusFiles, count, decodeBody, readParts, rewrite } from './helpers.ts';


async function attachmentsOf(msg: Buffer): Promise<string[] | string> {
  try {
    const m = await simpleParser(msg, { skipHtmlToText: true, skipTextToHtml: true, skipTextLinks: true, skipImageLinks: true });
    return m.attachments.map((a) => `${a.contentType} ${a.filename ?? ''} ${a.checksum}`).sort();
  } catch (e) {
    return `error: ${(e as Error).message}`;
  }
}

describe('rewriter over the corpus', () => {
  const files = corpusFiles();
  test('the corpus is there', () => assert.ok(files.length >= 50, `found ${files.length} files in ${CORPUS}`));

  for (const file of files) {
    test(path.relative(CORPUS, file), async () => {
      const input = fs.readFileSync(file);
      const r = await rewrite(input, { pixel: 'auto' });
      const before = await readParts(input);
      const after = await readParts(r.output);
      assert.equal(after.length, before.length, 'same number of MIME nodes');
      let pixelParts = 0;
      for (let i = 0; i < before.length; i++) {
        const a = before[i];
        const b = after[i];
        assert.equal(b.contentType, a.contentType, `node ${i} type`);
        assert.ok(b.header.equals(a.header), `node ${i} header byte-identical`);
        if (!isEligibleHtmlPart(a.node)) {
          assert.ok(b.body.equals(a.body), `node ${i} (${a.contentType}) body byte-identical`);
          continue;
        }
        const pixels = count(decodeBody(b), PIXEL_SRC);
        if (pixels === 0) {
          assert.ok(b.body.equals(a.body), `unrewritten HTML part ${i} is byte-identical`);
          assert.ok(r.warnings.length > 0, 'a part left alone comes with a warning');
        } else {
          assert.equal(pixels, 1, `exactly one pixel in HTML part ${i}`);
          assert.ok(!a.body.equals(b.body));
          pixelParts++;
        }
      }
      assert.equal(r.pixels, pixelParts);
      if (r.pixels === 0 && r.links === 0) assert.ok(r.output.equals(input), 'nothing rewritten → byte-identical');
      assert.deepEqual(await attachmentsOf(r.output), await attachmentsOf(input), 'mailparser sees the same attachments');
    });
  }
});
