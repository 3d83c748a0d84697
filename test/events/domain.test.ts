// Event filter parsing, the opaque cursor, the CSV writer and the stats window, with plain values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeCursor, encodeCursor, parseEventQuery } from '../../src/events/filters.ts';
import { csvHeader, csvRow, ndjsonLine, toPublicEvent, type EventRow } from '../../src/events/public-event.ts';
import { AppError } from '../../src/domain/errors.ts';

test('event filters parse, default and refuse bad values with the field named', () => {
  assert.deepEqual(parseEventQuery({}), { limit: 100 });
  const f = parseEventQuery({ type: 'open,click', domain: 'example.com', messageId: 'msg_1', recipient: 'Ann@Example.ORG', since: '2026-11-01T00:00:00Z', until: '1764000000000', human: 'false', limit: '1000' });
  assert.deepEqual(f, { types: ['open', 'click'], domain: 'example.com', messageId: 'msg_1', recipient: 'ann@example.org', since: Date.UTC(2026, 10, 1), until: 1764000000000, human: false, limit: 1000 });
  for (const [q, field] of [[{ type: 'opened' }, 'type'], [{ limit: '1001' }, 'limit'], [{ limit: '0' }, 'limit'], [{ since: 'yesterday' }, 'since'], [{ human: 'maybe' }, 'human'], [{ cursor: 'abc' }, 'cursor']] as const) {
    assert.throws(() => parseEventQuery(q as any), (e: AppError) => e.kind === 'invalid' && !!e.fields?.[field], JSON.stringify(q));
  }
});

test('cursors are opaque and round-trip; forged ones are refused', () => {
  const c = encodeCursor(123456789);
  assert.doesNotMatch(c, /123456789/);
  assert.equal(decodeCursor(c), 123456789);
  assert.equal(parseEventQuery({ cursor: c }).afterId, 123456789);
  assert.throws(() => decodeCursor(Buffer.from('ev1:-5').toString('base64url')));
  assert.throws(() => decodeCursor(Buffer.from('xx:5').toString('base64url')));
});

test('CSV rows quote commas, quotes and newlines, and defuse spreadsheet formulas', () => {
  assert.match(csvHeader(), /^id,type,createdAt,/);
  const e: EventRow = { id: 7, accountId: 'a', domainId: null, messageId: null, copyId: null, type: 'click', createdAt: 0, recipient: 'a@b.c', linkIndex: 2, url: 'https://x.test/?a=1,b="2"', ip: null, userAgent: 'line1\nline2', clientName: '=HYPERLINK("x")', clientVersion: null, os: null, device: null, classification: 'human', reason: null, isFirst: 1, data: null };
  const row = csvRow(e);
  assert.ok(row.startsWith('evt_7,click,1970-01-01T00:00:00.000Z,,,,a@b.c,2,"https://x.test/?a=1,b=""2""",,"line1\nline2","\'=HYPERLINK(""x"")",'));
  assert.ok(row.endsWith(',human,,1,\r\n'));
});

test('the fast NDJSON line is byte-identical to JSON.stringify of the public event', () => {
  const base: EventRow = { id: 1, accountId: 'acc_1', domainId: null, messageId: null, copyId: null, type: 'open', createdAt: 1764000000123, recipient: null, linkIndex: null, url: null, ip: null, userAgent: null, clientName: null, clientVersion: null, os: null, device: null, classification: null, reason: null, isFirst: 0, data: null };
  const rows: EventRow[] = [
    base,
    { ...base, id: 99, type: 'click', domainId: 'dom_x', messageId: 'msg_"q"', copyId: 'cpy_\\', recipient: 'ann@example.org', linkIndex: 3, url: 'https://x.test/?a=1&b=\u2028', ip: '::1', userAgent: 'Mozilla/5.0 "quoted"\n\ttab', clientName: 'Gmail', clientVersion: null, os: 'iOS', device: 'mobile', classification: 'human', reason: 'google_proxy', isFirst: 1, data: '{"proxy":true,"n":[1,2]}' },
    { ...base, clientName: 'Outlook', clientVersion: '16.0', data: 'not json \u0001' },
  ];
  for (const r of rows) assert.equal(ndjsonLine(r), JSON.stringify(toPublicEvent(r)) + '\n');
});
