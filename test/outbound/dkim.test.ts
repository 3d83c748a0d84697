// Our DKIM signer (src/outbound/dkim.ts): relaxed canonicalization edge cases against RFC 6376 §3.4.2 and
// §3.4.4 and against dkimpy's canonicalization, and signatures that two independent verifiers (mailauth and
// dkimpy) accept, for messages with folded, duplicated and whitespace-laden headers, empty bodies, bodies
// without a final CRLF, bare LF input and a large base64 body. No DNS: both verifiers get the key record
// from a lookup function.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { relaxedBody, relaxedHeader, signMessage, signMessageSync, splitHeaderFields } from '../../src/outbound/dkim.ts';
import { dkimKeyPair } from './helpers.ts';

const key = () => ({ domain: 'example.test', selector: 'mb1', privateKey: dkimKeyPair().privateKey });
const NOW = Date.UTC(2026, 10, 26, 12, 0, 0);

test('relaxed header canonicalization (RFC 6376 §3.4.2)', () => {
  assert.equal(relaxedHeader('Subject: Hello'), 'subject:Hello\r\n');
  assert.equal(relaxedHeader('SUBJECT :  Hello  \t World \t '), 'subject:Hello World\r\n', 'WSP around the colon, runs, trailing WSP');
  assert.equal(relaxedHeader('To: a@example.net,\r\n\tb@example.net,\r\n    c@example.net'), 'to:a@example.net, b@example.net, c@example.net\r\n', 'folded lines unfold');
  assert.equal(relaxedHeader('X-Empty:'), 'x-empty:\r\n');
  assert.equal(relaxedHeader('X-Empty:   \r\n '), 'x-empty:\r\n', 'a value of only folding whitespace is empty');
  assert.equal(relaxedHeader('Subject:a\r\n b'), 'subject:a b\r\n');
  assert.deepEqual(splitHeaderFields('A: 1\r\nB: 2\r\n 3\r\n\t4\r\nA: 5'), ['A: 1', 'B: 2\r\n 3\r\n\t4', 'A: 5']);
});

test('relaxed body canonicalization (RFC 6376 §3.4.4)', () => {
  assert.equal(relaxedBody(''), '', 'empty body hashes as the empty string');
  assert.equal(relaxedBody('\r\n'), '', 'only empty lines: empty');
  assert.equal(relaxedBody('\r\n\r\n\r\n'), '');
  assert.equal(relaxedBody(' \t \r\n\r\n'), '', 'whitespace-only lines are empty lines');
  assert.equal(relaxedBody('abc'), 'abc\r\n', 'a body without its final CRLF gets one');
  assert.equal(relaxedBody('abc \t'), 'abc\r\n', 'trailing WSP on the last line without CRLF is ignored too');
  assert.equal(relaxedBody('a  b\t\tc \r\n d\r\n\r\n\r\n'), 'a b c\r\n d\r\n', 'WSP runs, trailing WSP, trailing empty lines');
  assert.equal(relaxedBody('a\r\n\r\nb\r\n'), 'a\r\n\r\nb\r\n', 'empty lines inside stay');
  assert.equal(relaxedBody('line\r\n \r\nend\r\n'), 'line\r\n\r\nend\r\n', 'a whitespace-only line inside becomes empty');
});

// Python's dkim.canonicalization on the same inputs (dkimpy keeps trailing WSP on a last line without CRLF,
// where the RFC and mailauth drop it; the signer never meets that case: it adds the final CRLF first).
test('canonicalization agrees with dkimpy', async () => {
  const bodies = ['', '\r\n', '\r\n\r\n', 'abc', 'a  b\t\tc \r\n d\r\n\r\n\r\n', 'a\r\n\r\nb\r\n', ' \t \r\n\r\n', 'x\r\n \r\ny \r\n'];
  const headers = ['Subject: Hello', 'SUBJECT :  Hello  \t World \t ', 'To: a@example.net,\r\n\tb@example.net,\r\n    c@example.net', 'X-Empty:', 'X-Empty:   \r\n '];
  const py = String.raw`
import sys, json
from dkim.canonicalization import Relaxed
d = json.load(sys.stdin)
enc = lambda s: s.encode('latin1')
out = {'bodies': [Relaxed.canonicalize_body(enc(b)).decode('latin1') for b in d['bodies']], 'headers': []}
for h in d['headers']:
    n, v = h.split(':', 1)
    [(cn, cv)] = Relaxed.canonicalize_headers([(enc(n), enc(v))])
    out['headers'].append((cn + b':' + cv).decode('latin1'))
print(json.dumps(out))
`;
  const r = JSON.parse(await python(py, JSON.stringify({ bodies, headers })));
  assert.deepEqual(r.bodies, bodies.map(relaxedBody));
  assert.deepEqual(r.headers, headers.map(relaxedHeader));
});

const MESSAGES: Record<string, string> = {
  plain: 'From: News <news@example.test>\r\nTo: a@example.net\r\nSubject: Hi\r\nDate: Wed, 26 Nov 2026 12:00:00 +0000\r\nMessage-ID: <1@example.test>\r\n\r\nHello\r\n',
  folded: 'From: news@example.test\r\nTo: a@example.net,\r\n\tb@example.net,\r\n  c@example.net\r\nSubject:  Long \t subject\r\n  continued  \r\nMIME-Version: 1.0\r\n\r\nBody\r\n',
  duplicated: 'From: news@example.test\r\nTo: a@example.net\r\nTo: b@example.net\r\nSubject: first\r\nSubject: second\r\nX-Other: not signed\r\n\r\nBody\r\n',
  trailingWhitespace: 'From: news@example.test \t\r\nSubject: ws  \r\n\r\nline with trailing spaces   \r\n\ttabbed\t\tline\t\r\n\r\n\r\n\r\n',
  emptyBody: 'From: news@example.test\r\nSubject: empty\r\n\r\n',
  noBody: 'From: news@example.test\r\nSubject: no blank line\r\n',
  noFinalCrlf: 'From: news@example.test\r\nSubject: no final CRLF\r\n\r\nlast line without CRLF   ',
  bareLf: 'From: news@example.test\nSubject: bare LF\n\nline one\nline two\n',
  bigBase64: 'From: news@example.test\r\nSubject: big\r\nMIME-Version: 1.0\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n' +
    Buffer.alloc(1_500_000, 7).toString('base64').replace(/.{76}/g, '$&\r\n') + '\r\n',
};

const signedAll = () => Object.fromEntries(Object.entries(MESSAGES).map(([k, v]) => [k, signMessageSync(Buffer.from(v, 'latin1'), key(), NOW)]));

test('the signature header: relaxed/relaxed, rsa-sha256, no l=, every signed occurrence, b= last', () => {
  const out = signMessageSync(Buffer.from(MESSAGES.duplicated, 'latin1'), key(), NOW).toString('latin1');
  const sig = /^DKIM-Signature:(.*?)\r\n(?![ \t])/s.exec(out)?.[1];
  assert.ok(sig, out);
  const tags = Object.fromEntries(sig.replace(/\r\n/g, '').split(';').map((t) => t.trim()).filter(Boolean).map((t) => [t.slice(0, t.indexOf('=')), t.slice(t.indexOf('=') + 1).replace(/\s+/g, '')]));
  assert.equal(tags.c, 'relaxed/relaxed');
  assert.equal(tags.a, 'rsa-sha256');
  assert.equal(tags.l, undefined, 'never l=');
  assert.equal(tags.t, String(NOW / 1000));
  assert.equal(tags.h, 'subject:subject:to:to:from', 'both To and both Subject fields, bottom up; X-Other not signed');
  assert.match(sig.trim().split(';').pop()!.trim(), /^b=/, 'b= is the last tag');
  for (const line of out.split('\r\n')) assert.ok(line.length <= 998, 'no line over 998 characters');
  assert.ok(out.endsWith('\r\n'));
  assert.ok(!/[^\r]\n|\r[^\n]/.test(out), 'CRLF line endings only');
  assert.throws(() => signMessageSync(Buffer.from('Subject: no from\r\n\r\nx\r\n'), key(), NOW), /From/);
});

test('signMessage (RSA on the thread pool) gives the same bytes as signMessageSync', async () => {
  // RSASSA-PKCS1-v1_5 is deterministic, so the two must match byte for byte.
  for (const raw of Object.values(MESSAGES)) {
    assert.deepEqual(await signMessage(Buffer.from(raw, 'latin1'), key(), NOW), signMessageSync(Buffer.from(raw, 'latin1'), key(), NOW));
  }
});

test('mailauth verifies every signed message', async () => {
  const { dkimVerify } = await import('mailauth/lib/dkim/verify.js');
  const record = `v=DKIM1; k=rsa; p=${dkimKeyPair().publicKeyB64}`;
  for (const [name, raw] of Object.entries(signedAll())) {
    const res = await dkimVerify(raw, { resolver: async (n: string, type: string) => { assert.equal(type, 'TXT'); assert.equal(n, 'mb1._domainkey.example.test'); return [[record]]; } } as any);
    assert.equal(res.results.length, 1, name);
    assert.equal(res.results[0].status.result, 'pass', `${name}: ${res.results[0].status.comment ?? ''} ${res.results[0].info ?? ''}`);
  }
  // And a changed byte fails: the test can fail.
  const tampered = Buffer.from(signedAll().plain.toString('latin1').replace('Hello', 'Hellp'), 'latin1');
  const bad = await dkimVerify(tampered, { resolver: async () => [[record]] } as any);
  assert.notEqual(bad.results[0].status.result, 'pass');
});

test('dkimpy verifies every signed message', async () => {
  const signed = signedAll();
  const py = String.raw`
import sys, json, base64, dkim
d = json.load(sys.stdin)
rec = d['record'].encode()
def txt(name, timeout=5):
    assert name in (b'mb1._domainkey.example.test.', b'mb1._domainkey.example.test'), name
    return rec
out = {k: bool(dkim.verify(base64.b64decode(v), dnsfunc=txt)) for k, v in d['messages'].items()}
print(json.dumps(out))
`;
  const messages = Object.fromEntries(Object.entries(signed).map(([k, v]) => [k, v.toString('base64')]));
  messages.tampered = Buffer.from(signed.plain.toString('latin1').replace('Hello', 'Hellp'), 'latin1').toString('base64');
  const r = JSON.parse(await python(py, JSON.stringify({ record: `v=DKIM1; k=rsa; p=${dkimKeyPair().publicKeyB64}`, messages })));
  for (const name of Object.keys(MESSAGES)) assert.equal(r[name], true, `dkimpy: ${name}`);
  assert.equal(r.tampered, false, 'dkimpy refuses a changed body');
});

async function python(code: string, input: string): Promise<string> {
  const child = spawn('/usr/bin/python3', ['-c', code], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  child.stdin!.end(input);
  const code_ = await new Promise((r) => child.once('exit', r));
  assert.equal(code_, 0, err);
  return out;
}
