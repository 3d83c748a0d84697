// The public tracking host: forged, tampered, re-purposed and cross-tenant tokens record nothing (and the
// pixel still answers the image, never leaking validity); click redirects go only to an absolute http(s)
// URL signed into the token, never to anything a request or a crafted URL could choose.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';
import { TokenSigner, keyringFromSecret } from '../../src/tracking/tokens.ts';
import { PIXEL_GIF, trackingSettled } from '../../src/tracking/tracking-http.ts';
import { trackingHosts } from '../../src/tracking/tracking-host-policy.ts';
import { request, seedCopies, signer } from '../tracking/helpers.ts';

const HOST = 'track.test';
const B_HOST = 'track.tenant-b.test';

describe('tracking tokens and click redirects under attack', () => {
  let s: TestServer;
  let port: number;
  let copyA: string;
  let copyB: string;
  const events = async () => {
    await trackingSettled(s.server.ctx); // SQLite: answered hits are ingested from the event journal
    return (await s.server.ctx.store.db.kysely.selectFrom('events').select(['id', 'type', 'copyId', 'url']).execute()).length;
  };

  before(async () => {
    s = await startTestServer({ env: { MAILBEACON_PUBLIC_URL: `https://${HOST}`, MAILBEACON_EVENT_FLUSH_MS: '1' } });
    port = s.server.httpPort!;
    // B's verified custom tracking host (what the domains feature registers for a verified tracking domain).
    trackingHosts(s.server.ctx).registerHostSource((h) => h === B_HOST);
    copyA = (await seedCopies(s.server.ctx.store, 1)).copyIds[0];
    copyB = (await seedCopies(s.server.ctx.store, 1)).copyIds[0];
  });
  after(async () => {
    await s?.stop();
  });

  const pixel = async (token: string, host = HOST) => {
    const r = await request(port, `/o/${token}.gif`, { host });
    assert.equal(r.status, 200, 'the pixel always answers');
    assert.deepEqual(r.body, PIXEL_GIF);
  };

  test('a valid token records (the control: the rest of this file could fail)', async () => {
    const before = await events();
    await pixel(signer.sign({ kind: 'open', copyId: copyA }, HOST));
    await pixel(signer.sign({ kind: 'open', copyId: copyB }, B_HOST), B_HOST);
    assert.equal(await events(), before + 2);
  });

  test('forged, tampered, re-purposed and cross-tenant tokens record nothing', async () => {
    const good = signer.sign({ kind: 'open', copyId: copyA }, HOST);
    const flip = (t: string, i: number) => t.slice(0, i) + (t[i] === 'A' ? 'B' : 'A') + t.slice(i + 1);
    const otherInstall = new TokenSigner(keyringFromSecret('another-install-secret-another-install-0', [1]));
    const rotatedOut = new TokenSigner(keyringFromSecret('test-secret-test-secret-test-secret-0123', [7]));
    const bad: [string, string, string?][] = [
      ['random bytes', randomBytes(40).toString('base64url')],
      ['empty', ''],
      ['tampered first char', flip(good, 0)],
      ['tampered middle', flip(good, Math.floor(good.length / 2))],
      ['tampered MAC', flip(good, good.length - 1)],
      ['truncated', good.slice(0, -4)],
      ['extended', `${good}AAAA`],
      ['signed by another installation', otherInstall.sign({ kind: 'open', copyId: copyA }, HOST)],
      ['signed with a key id not in the keyring', rotatedOut.sign({ kind: 'open', copyId: copyA }, HOST)],
      ['a click token used as a pixel', signer.sign({ kind: 'click', copyId: copyA, linkIndex: 0, url: 'https://example.com/' }, HOST)],
      ['a copy that does not exist', signer.sign({ kind: 'open', copyId: 'cpy_doesnotexist00000000000000' }, HOST)],
      // Tenant A's token on tenant B's tracking host, and B's token on the default host: bound to their host.
      ["A's token on B's tracking host", good, B_HOST],
      ["B's token on the default host", signer.sign({ kind: 'open', copyId: copyB }, B_HOST), HOST],
      ['a token on a host that is no tracking host', good, 'evil.example'],
      ['path traversal', `../../${good}`],
    ];
    const before = await events();
    for (const [what, token, host] of bad) {
      await pixel(token, host ?? HOST);
      assert.equal(await events(), before, `${what} recorded an event`);
    }
    // Click endpoint: the same tokens (an open token instead of the click token) answer a plain 404 that
    // never reflects the input.
    const badClicks = bad.map(([what, token, host]): [string, string, string?] =>
      what === 'a click token used as a pixel' ? ['an open token used as a click', good] : [what, token, host]);
    for (const [what, token, host] of badClicks) {
      const r = await request(port, `/c/${token}`, { host: host ?? HOST });
      assert.equal(r.status, 404, `${what}: click → ${r.status}`);
      assert.equal(r.headers.location, undefined);
      assert.ok(!r.body.toString().includes(token.slice(0, 12)) || !token, `${what}: 404 reflects the token`);
    }
    assert.equal(await events(), before);
  });

  test('click redirects only to absolute http(s) URLs signed into the token', async () => {
    const hostile = [
      '//evil.example/x',
      '\\\\evil.example\\x',
      '/\\evil.example',
      'javascript:alert(document.cookie)',
      'JaVaScRiPt:alert(1)',
      ' javascript:alert(1)',
      'data:text/html,<script>alert(1)</script>',
      'vbscript:msgbox(1)',
      'file:///etc/passwd',
      'https://ok.example/\r\nSet-Cookie: pwned=1',
      'https://ok.example/\nLocation: https://evil.example/',
      'https://ok.example/\u0000x',
      '/relative/path',
      'mailto:x@evil.example',
    ];
    const before = await events();
    for (const url of hostile) {
      const t = signer.sign({ kind: 'click', copyId: copyA, linkIndex: 0, url }, HOST);
      const r = await request(port, `/c/${t}`);
      assert.equal(r.status, 404, `${JSON.stringify(url)} → ${r.status} ${r.headers.location ?? ''}`);
      assert.equal(r.headers.location, undefined);
      assert.equal(r.headers['set-cookie'], undefined);
    }
    assert.equal(await events(), before, 'refused redirects record no click');

    // A good token: the request cannot choose the target (query, extra path, headers are ignored).
    const target = 'https://shop.example/a?b=1#c';
    const t = signer.sign({ kind: 'click', copyId: copyA, linkIndex: 2, url: target }, HOST);
    for (const path of [`/c/${t}?url=https://evil.example/`, `/c/${t}?next=//evil.example`]) {
      const r = await request(port, path, { headers: { referer: 'https://evil.example/', 'x-forwarded-host': 'evil.example' } });
      assert.equal(r.status, 302);
      assert.equal(r.headers.location, target);
      assert.ok(!/[\r\n]/.test(String(r.headers.location)));
    }
    for (const path of [`/c/${t}/https://evil.example`, `/c/${t}%0d%0aLocation:%20https://evil.example`, `/c/${t}%2f%2fevil.example`]) {
      const r = await request(port, path);
      assert.equal(r.status, 404, `${path} → ${r.status} ${r.headers.location ?? ''}`);
    }
  });
});
