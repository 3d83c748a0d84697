import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { loadConfig, ConfigError, configTable } from '../../src/config/load-config.ts';
import { withConfigTable } from '../../src/cli/commands/config-docs.ts';

test('defaults match the documented contract', () => {
  const c = loadConfig({});
  assert.equal(c.databaseUrl, 'sqlite:./data/mailbeacon.db');
  assert.equal(c.host, '127.0.0.1');
  assert.equal(c.httpPort, 8080);
  assert.equal(c.smtpPort, 2525);
  assert.equal(c.publicUrl, 'http://localhost:8080');
  assert.equal(c.relay, 'outbox');
  assert.equal(c.dnsServers, undefined);
  assert.equal(c.secret, undefined);
});

test('a bad value names the variable', () => {
  for (const [env, value] of [
    ['MAILBEACON_HTTP_PORT', 'eighty'],
    ['MAILBEACON_HTTP_PORT', '70000'],
    ['MAILBEACON_DATABASE_URL', 'mysql://x'],
    ['MAILBEACON_PUBLIC_URL', 'not a url'],
    ['MAILBEACON_RELAY', 'carrier-pigeon'],
    ['MAILBEACON_SECRET', 'short'],
    ['MAILBEACON_DNS_SERVERS', '1.2.3.4:53,bad host!'],
  ]) {
    assert.throws(() => loadConfig({ [env]: value }), (e: unknown) => e instanceof ConfigError && e.variable === env && e.message.startsWith(env), `${env}=${value}`);
  }
});

test('a secret value is never echoed in the error', () => {
  assert.throws(() => loadConfig({ MAILBEACON_SECRET: 'tooshort-secret' }), (e: Error) => !e.message.includes('tooshort-secret'));
});

test('lists and URLs are parsed', () => {
  const c = loadConfig({ MAILBEACON_DNS_SERVERS: '127.0.0.1:5353, 10.0.0.1', MAILBEACON_PUBLIC_URL: 'https://mb.example.com/', MAILBEACON_RETRY_SCHEDULE: '1,2,3' });
  assert.deepEqual(c.dnsServers, ['127.0.0.1:5353', '10.0.0.1']);
  assert.equal(c.publicUrl, 'https://mb.example.com');
  assert.deepEqual(c.retrySchedule, [1, 2, 3]);
});

test('README configuration table is the generated one (not hand-kept)', () => {
  const readme = fs.readFileSync('README.md', 'utf8');
  assert.equal(withConfigTable(readme), readme, 'run `npm run docs:config` to regenerate');
  assert.ok(readme.includes(configTable()));
  const docs = fs.readFileSync('docs/configuration.md', 'utf8');
  assert.equal(withConfigTable(docs), docs, 'run `npm run docs:config` to regenerate');
});
