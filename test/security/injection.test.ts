// CR/LF injection through the send API: every field that ends up in a header line or the SMTP envelope
// refuses CR and LF with a 422 naming the field, and nothing is queued. (SMTP smuggling sequences on the
// submission port are covered by test/outbound/smtp.test.ts.)
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../helpers/test-server.ts';
import { addDomain } from '../outbound/helpers.ts';
import { apiClient, type Api } from './helpers.ts';

describe('CR/LF injection through the send API', () => {
  let s: TestServer;
  let api: Api;
  let accountId: string;
  const queued = async () => (await s.server.ctx.store.db.kysely.selectFrom('messages').select('id').where('accountId', '=', accountId).execute()).length;

  before(async () => {
    s = await startTestServer({ roles: ['http'] });
    const acc = await s.account();
    accountId = acc.accountId;
    api = apiClient(s.baseUrl, acc.apiKey);
    await addDomain(s.server.ctx.store, accountId, 'inject.example.test');
  });
  after(async () => {
    await s?.stop();
  });

  test('every header and envelope field refuses CR and LF; nothing is queued', async () => {
    const ok = { from: 'news@inject.example.test', to: ['reader@example.net'], subject: 'fine', text: 'body' };
    const control = await api('POST', '/api/v1/messages', ok);
    assert.equal(control.status, 202, `the control message is accepted: ${control.text}`);
    const before = await queued();
    const inj = '\r\nBcc: victim@evil.example';
    const raw = Buffer.from('From: news@inject.example.test\r\nTo: reader@example.net\r\nSubject: raw\r\n\r\nbody\r\n').toString('base64');
    const cases: [string, Record<string, unknown>][] = [
      ['subject', { ...ok, subject: `hi${inj}` }],
      ['subject (bare LF)', { ...ok, subject: 'hi\nBcc: victim@evil.example' }],
      ['subject (bare CR)', { ...ok, subject: 'hi\rBcc: victim@evil.example' }],
      ['from', { ...ok, from: `news@inject.example.test${inj}` }],
      ['from display name', { ...ok, from: `"Shop${inj}" <news@inject.example.test>` }],
      ['to', { ...ok, to: [`reader@example.net${inj}`] }],
      ['cc', { ...ok, cc: [`x@example.net${inj}`] }],
      ['bcc', { ...ok, bcc: [`x@example.net\nRCPT TO:<victim@evil.example>`] }],
      ['replyTo', { ...ok, replyTo: `r@example.net${inj}` }],
      ['header value', { ...ok, headers: { 'X-Campaign': `spring${inj}` } }],
      ['header name', { ...ok, headers: { 'X-A\r\nBcc': 'victim@evil.example' } }],
      ['header name with colon', { ...ok, headers: { 'Bcc: victim@evil.example\r\nX': 'y' } }],
      ['attachment filename', { ...ok, attachments: [{ filename: `a.txt${inj}`, content: 'aGk=' }] }],
      ['attachment type', { ...ok, attachments: [{ filename: 'a.txt', contentType: `text/plain${inj}`, content: 'aGk=' }] }],
      ['raw envelope from', { raw, envelope: { from: `news@inject.example.test\r\nRCPT TO:<victim@evil.example>`, to: ['reader@example.net'] } }],
      ['raw envelope to', { raw, envelope: { from: 'news@inject.example.test', to: ['reader@example.net\r\nDATA'] } }],
    ];
    for (const [what, body] of cases) {
      const r = await api('POST', '/api/v1/messages', body);
      assert.equal(r.status, 422, `${what}: ${r.status} ${r.text}`);
      assert.equal(r.json.error.code, 'invalid_request', what);
      assert.ok(r.json.error.fields && Object.keys(r.json.error.fields).length, `${what}: the field is named`);
    }
    assert.equal(await queued(), before, 'nothing was queued');
  });
});
