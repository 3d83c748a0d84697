// Extracts the verification snippet from docs/webhooks.md (the ```js block after the
// "<!-- verify-snippet -->" marker) and imports it, so the documented code is the code under test.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

export async function extractVerifySnippet(): Promise<(secret: string, headers: Record<string, string | string[] | undefined>, body: string, nowSeconds?: number) => boolean> {
  const md = fs.readFileSync('docs/webhooks.md', 'utf8');
  const m = /<!-- verify-snippet -->\s*```js\n([\s\S]*?)```/.exec(md);
  if (!m) throw new Error('verification snippet not found in docs/webhooks.md');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mb-snippet-'));
  const file = path.join(dir, 'verify.mjs');
  fs.writeFileSync(file, m[1]);
  const mod = await import(pathToFileURL(file).href);
  fs.rmSync(dir, { recursive: true, force: true });
  if (typeof mod.verifyMailbeaconWebhook !== 'function') throw new Error('the snippet must export verifyMailbeaconWebhook');
  return mod.verifyMailbeaconWebhook;
}
