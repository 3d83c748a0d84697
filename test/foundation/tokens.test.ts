import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TokenSigner, keyringFromSecret, normalizeHost } from '../../src/tracking/tokens.ts';

const signer = new TokenSigner(keyringFromSecret('s'.repeat(32)));

test('open and click tokens round-trip', () => {
  const t = signer.sign({ kind: 'open', copyId: 'cpy_01abc' }, 'track.example.com');
  assert.match(t, /^[A-Za-z0-9_-]+$/);
  assert.deepEqual(signer.verify(t, 'track.example.com'), { kind: 'open', copyId: 'cpy_01abc' });
  const url = 'https://example.com/a?b=1&c=%20d#frag';
  const c = signer.sign({ kind: 'click', copyId: 'cpy_01abc', linkIndex: 300, url }, 'track.example.com');
  assert.deepEqual(signer.verify(c, 'TRACK.example.com:443'), { kind: 'click', copyId: 'cpy_01abc', linkIndex: 300, url });
});

test('a token is bound to its host', () => {
  const t = signer.sign({ kind: 'open', copyId: 'x1' }, 'track.a.com');
  assert.equal(signer.verify(t, 'track.b.com'), undefined);
});

test('flipping any bit of any byte breaks the token', () => {
  const t = signer.sign({ kind: 'click', copyId: 'copy-1', linkIndex: 2, url: 'https://e.com/x' }, 'h.example');
  const raw = Buffer.from(t, 'base64url');
  for (let i = 0; i < raw.length; i++) {
    for (let bit = 0; bit < 8; bit++) {
      const m = Buffer.from(raw);
      m[i] ^= 1 << bit;
      assert.equal(signer.verify(m.toString('base64url'), 'h.example'), undefined, `byte ${i} bit ${bit}`);
    }
  }
  assert.equal(signer.verify(t.slice(0, -1), 'h.example'), undefined);
  assert.equal(signer.verify(t + 'A', 'h.example'), undefined);
});

test('retired key ids stop verifying; rotated ones keep working', () => {
  const old = new TokenSigner(keyringFromSecret('s'.repeat(32), [1]));
  const rotated = new TokenSigner(keyringFromSecret('s'.repeat(32), [2, 1]));
  const retired = new TokenSigner(keyringFromSecret('s'.repeat(32), [2]));
  const t = old.sign({ kind: 'open', copyId: 'c' }, 'h');
  assert.ok(rotated.verify(t, 'h'));
  assert.equal(retired.verify(t, 'h'), undefined);
  const other = new TokenSigner(keyringFromSecret('x'.repeat(32)));
  assert.equal(other.verify(t, 'h'), undefined);
});

test('normalizeHost strips port, case and trailing dot', () => {
  assert.equal(normalizeHost('Track.Example.COM.:8080'), 'track.example.com');
  assert.equal(normalizeHost('[::1]:8080'), '[::1]');
});

test('the hot-path HMAC-SHA256 equals node:crypto for random keys, prefixes and lengths (0 to 300 bytes)', async () => {
  const { createHmac, randomBytes } = await import('node:crypto');
  const { HmacSha256 } = await import('../../src/tracking/hmac-sha256.ts');
  for (let i = 0; i < 2000; i++) {
    const key = randomBytes(1 + (i % 64));
    const a = randomBytes(i % 70);
    const b = randomBytes(i % 301);
    const start = b.length ? i % b.length : 0;
    const want = createHmac('sha256', key).update(a).update(b.subarray(start)).digest();
    const h = new HmacSha256(key);
    assert.deepEqual(h.digest(a, b, start, b.length), want, `key ${key.length} a ${a.length} b ${b.length - start}`);
    assert.equal(h.verify(a, b, start, b.length, want, 0, 16), true);
    const bad = Buffer.from(want);
    bad[i % 16] ^= 1 << (i % 8);
    assert.equal(h.verify(a, b, start, b.length, bad, 0, 16), false);
  }
});

test('a signed token carries the node:crypto HMAC-SHA256 of "mbt1\\0" + host + "\\0" + its body, first 16 bytes', async () => {
  const { createHmac } = await import('node:crypto');
  const { keyringFromSecret: ring } = await import('../../src/tracking/tokens.ts');
  const keyring = ring('s'.repeat(32));
  const key = keyring.keys.get(keyring.current)!;
  for (const [claims, host] of [
    [{ kind: 'open', copyId: 'cpy_01abc' }, 'track.example.com'],
    [{ kind: 'click', copyId: 'c'.repeat(255), linkIndex: 70_000, url: `https://example.com/${'x'.repeat(3000)}` }, 'T.Example.org:8443'],
  ] as const) {
    const raw = Buffer.from(signer.sign(claims, host), 'base64url');
    const body = raw.subarray(0, raw.length - 16);
    const want = createHmac('sha256', key).update(`mbt1\0${normalizeHost(host)}\0`).update(body).digest().subarray(0, 16);
    assert.deepEqual(raw.subarray(raw.length - 16), want);
  }
});

test('only the canonical base64url spelling of a token verifies', () => {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const seen = new Set<number>();
  for (let n = 1; n <= 8; n++) {
    const t = signer.sign({ kind: 'open', copyId: 'c'.repeat(n) }, 'h.test');
    seen.add(t.length % 4);
    assert.ok(signer.verify(t, 'h.test'));
    // Other spellings of the same bytes (unused low bits of the last character set) never verify.
    for (const ch of alphabet) {
      const u = t.slice(0, -1) + ch;
      if (u !== t && Buffer.from(u, 'base64url').equals(Buffer.from(t, 'base64url'))) assert.equal(signer.verify(u, 'h.test'), undefined, u);
    }
    // 4n+1 characters are never base64url of anything (the decoder would drop the last one).
    if (t.length % 4 === 0) assert.equal(signer.verify(`${t}A`, 'h.test'), undefined);
  }
  assert.deepEqual([...seen].sort(), [0, 2, 3], 'every token length class was tried');
});
