// SMTP and delivery rules as plain values: no sockets, no store.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { authAllowed, BareLineEndingDetector, inNetworks, isLoopback, replyForError } from '../../src/smtp/protocol.ts';
import { afterTemporaryFailure } from '../../src/outbound/retry.ts';
import { AppError } from '../../src/domain/errors.ts';
import { headerEnd, normalizeCrlf, parseHeaderFields, prependHeaders } from '../../src/outbound/message-headers.ts';
import { classifySmtpError } from '../../src/outbound/transports.ts';

function bare(...chunks: string[]) {
  const d = new BareLineEndingDetector();
  for (const c of chunks) d.feed(Buffer.from(c, 'latin1'));
  d.end();
  return d.found;
}

test('bare CR / LF detection, across chunk boundaries', () => {
  assert.equal(bare('a\r\nb\r\n'), undefined);
  assert.equal(bare('a\r', '\nb\r\n'), undefined, 'CRLF split over two chunks is fine');
  assert.equal(bare('a\nb\r\n'), 'LF');
  assert.equal(bare('a\r\n', '\n'), 'LF');
  assert.equal(bare('a\rb\r\n'), 'CR');
  assert.equal(bare('a\r', 'b'), 'CR');
  assert.equal(bare('a\r'), 'CR', 'a CR at the very end is bare');
  assert.equal(bare('body\r.\r'), 'CR');
  assert.equal(bare('body\n.\r\n'), 'LF');
});

// The detector and normalizeCrlf scan with Buffer.indexOf; this checks them against the plain per-byte
// definition on random input split at random places.
test('bare CR / LF detection and normalizeCrlf agree with a per-byte reference on random input', () => {
  const reference = (s: string): 'CR' | 'LF' | undefined => {
    for (let i = 0; i < s.length; i++) {
      if (s[i] === '\r' && s[i + 1] !== '\n') return 'CR';
      if (s[i] === '\n' && s[i - 1] !== '\r') return 'LF';
    }
    return undefined;
  };
  let seed = 7;
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
  for (let round = 0; round < 3000; round++) {
    const len = rnd(24);
    let s = '';
    for (let i = 0; i < len; i++) s += ['a', '\r', '\n', '\r\n', '\r\n'][rnd(5)];
    const cuts = [0, ...Array.from({ length: rnd(4) }, () => rnd(s.length + 1)).sort((a, b) => a - b), s.length];
    const chunks = cuts.slice(1).map((c, i) => s.slice(cuts[i], c));
    assert.equal(bare(...chunks), reference(s), JSON.stringify(chunks));
    const n = normalizeCrlf(Buffer.from(s, 'latin1'));
    assert.equal(n.toString('latin1'), s.replace(/\r\n|\r|\n/g, '\r\n'), JSON.stringify(s));
    if (reference(s) === undefined) assert.equal(n.toString('latin1'), s);
  }
});

test('AUTH in clear text only from loopback unless allowed; trusted networks', () => {
  assert.equal(isLoopback('127.0.0.1'), true);
  assert.equal(isLoopback('::ffff:127.0.0.5'), true);
  assert.equal(isLoopback('::1'), true);
  assert.equal(isLoopback('10.0.0.1'), false);
  assert.equal(authAllowed({ secure: false, remoteAddress: '192.0.2.7', allowInsecure: false }), false);
  assert.equal(authAllowed({ secure: true, remoteAddress: '192.0.2.7', allowInsecure: false }), true);
  assert.equal(authAllowed({ secure: false, remoteAddress: '192.0.2.7', allowInsecure: true }), true);
  assert.equal(authAllowed({ secure: false, remoteAddress: '127.0.0.1', allowInsecure: false }), true);
  assert.equal(inNetworks('10.1.2.3', ['10.0.0.0/8']), true);
  assert.equal(inNetworks('::ffff:10.1.2.3', ['10.0.0.0/8']), true);
  assert.equal(inNetworks('11.1.2.3', ['10.0.0.0/8', '192.0.2.1']), false);
  assert.equal(inNetworks('192.0.2.1', ['10.0.0.0/8', '192.0.2.1']), true);
  assert.equal(inNetworks('2001:db8::5', ['2001:db8::/32']), true);
  assert.equal(inNetworks('10.0.0.1', []), false);
});

test('domain errors map to SMTP replies at the edge; unknown errors are temporary', () => {
  assert.deepEqual(replyForError(new AppError('forbidden', 'sender_domain_not_allowed', 'nope')), { code: 550, message: '5.7.1 nope' });
  assert.equal(replyForError(new AppError('too_large', 'x', 'big')).code, 552);
  assert.equal(replyForError(new AppError('unavailable', 'x', 'later')).code, 451);
  assert.equal(replyForError(new Error('boom')).code, 451);
});

test('retry schedule: waits grow, the last repeats, a last try at the deadline, then bounce', () => {
  const base = { acceptedAt: 0, scheduleSeconds: [60, 300], giveUpAfterSeconds: 1000 };
  assert.deepEqual(afterTemporaryFailure({ ...base, now: 1000, attempts: 1 }), { status: 'deferred', nextAttemptAt: 61_000 });
  assert.deepEqual(afterTemporaryFailure({ ...base, now: 61_000, attempts: 2 }), { status: 'deferred', nextAttemptAt: 361_000 });
  assert.deepEqual(afterTemporaryFailure({ ...base, now: 361_000, attempts: 3 }), { status: 'deferred', nextAttemptAt: 661_000 });
  assert.deepEqual(afterTemporaryFailure({ ...base, now: 900_000, attempts: 5 }), { status: 'deferred', nextAttemptAt: 1_000_000 });
  assert.equal(afterTemporaryFailure({ ...base, now: 1_000_000, attempts: 6 }).status, 'bounced');
});

test('smarthost errors: 5xx bounce, 4xx and broken connections defer', () => {
  assert.equal(classifySmtpError({ responseCode: 550, response: '550 5.1.1 no such user' }).kind, 'permanent');
  assert.equal(classifySmtpError({ responseCode: 451, response: '451 later' }).kind, 'temporary');
  assert.equal(classifySmtpError({ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' }).kind, 'temporary');
});

test('header helpers: end of header, unfolding, CRLF normalization, prepending in the message\'s own line ending', () => {
  const raw = Buffer.from('Subject: a\r\n long\r\nFrom: x@y.z\r\n\r\nbody\n');
  assert.deepEqual(headerEnd(raw), { headerLength: 32, bodyOffset: 34 });
  assert.deepEqual(parseHeaderFields(raw), [{ name: 'subject', value: 'a long' }, { name: 'from', value: 'x@y.z' }]);
  assert.equal(normalizeCrlf(Buffer.from('a\nb\rc\r\nd')).toString(), 'a\r\nb\r\nc\r\nd');
  const clean = Buffer.from('a\r\nb\r\n');
  assert.equal(normalizeCrlf(clean), clean, 'clean input is returned as is');
  assert.equal(prependHeaders(Buffer.from('A: 1\n\nx\n'), ['B: 2']).toString(), 'B: 2\nA: 1\n\nx\n');
});
