// Classification rules with real user-agent strings, pure (no server).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classify, type Hit } from '../../src/tracking/classify.ts';

const opts = { prefetchSeconds: 10, scannerNetworks: ['192.0.2.0/24'] };
const HOUR = 3_600_000;
const hit = (userAgent: string, more: Partial<Hit> = {}): Hit => ({ kind: 'open', method: 'GET', userAgent, ip: '203.0.113.9', sinceDeliveryMs: HOUR, ...more });

const UA = {
  appleMpp: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)',
  safari: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15',
  gmail: 'Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)',
  yahoo: 'YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html',
  outlookDesktop: 'Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17029; Pro)',
  outlookOld: 'Mozilla/4.0 (compatible; ms-office; MSOffice 16)',
  thunderbird: 'Mozilla/5.0 (X11; Linux x86_64; rv:115.0) Gecko/20100101 Thunderbird/115.5.0',
  iosMail: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148',
  ipadMail: 'Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148',
  chrome: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
  androidGmailApp: 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36',
  barracuda: 'Mozilla/5.0 (compatible; Barracuda Sentinel (EE))',
  mimecast: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Mimecast/1.0',
  proofpoint: 'Proofpoint URL Defense/1.0',
  curl: 'curl/8.5.0',
  python: 'python-requests/2.31.0',
  headless: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36',
};

test('Apple Mail Privacy Protection: the generic WebKit UA, or Apple\'s 17.0.0.0/8, is machine apple_mpp', () => {
  const v = classify(hit(UA.appleMpp), opts);
  assert.equal(v.classification, 'machine');
  assert.equal(v.reason, 'apple_mpp');
  assert.equal(v.clientName, 'Apple Mail');
  assert.equal(v.proxied, true);
  assert.equal(v.signals.appleGenericUa, true);
  const byRange = classify(hit(UA.safari, { ip: '17.58.101.3' }), opts);
  assert.equal(byRange.reason, 'apple_mpp');
  assert.equal(byRange.signals.appleRange, true);
  assert.equal(classify(hit('Mozilla/5.0'), opts).reason, 'apple_mpp');
  // Safari itself (Version/… Safari/…) from elsewhere is a person.
  assert.equal(classify(hit(UA.safari), opts).reason, 'client');
});

test('Gmail and Yahoo image proxies are human, proxied, with client and place hidden', () => {
  const g = classify(hit(UA.gmail), opts);
  assert.deepEqual([g.classification, g.reason, g.clientName, g.os, g.device, g.proxied], ['human', 'google_proxy', 'Gmail', null, null, true]);
  const y = classify(hit(UA.yahoo), opts);
  assert.deepEqual([y.classification, y.reason, y.clientName, y.os, y.device, y.proxied], ['human', 'yahoo_proxy', 'Yahoo Mail', null, null, true]);
  // Even soon after delivery: over-filtering proxied opens is how Mautic lost real Gmail opens.
  assert.equal(classify(hit(UA.gmail, { sinceDeliveryMs: 2000 }), opts).reason, 'google_proxy');
});

test('desktop and mobile mail clients are human with their name, version, OS and device', () => {
  const cases: [string, string, string | null, string | null, string | null][] = [
    [UA.outlookDesktop, 'Outlook', '16.0.17029', 'Windows', 'desktop'],
    [UA.outlookOld, 'Outlook', '16', null, null],
    [UA.thunderbird, 'Thunderbird', '115.5.0', 'Linux', 'desktop'],
    [UA.iosMail, 'Apple Mail', null, 'iOS', 'mobile'],
    [UA.ipadMail, 'Apple Mail', null, 'iOS', 'tablet'],
    [UA.chrome, 'Chrome', '120.0.0.0', 'Windows', 'desktop'],
    [UA.androidGmailApp, 'Chrome', '120.0.6099.144', 'Android', 'mobile'],
  ];
  for (const [ua, client, version, os, device] of cases) {
    const v = classify(hit(ua), opts);
    assert.equal(v.classification, 'human', ua);
    assert.equal(v.reason, 'client', ua);
    assert.deepEqual([v.clientName, v.clientVersion, v.os, v.device], [client, version, os, device], ua);
  }
});

test('security scanners by user agent or address are machine scanner; tools are bot', () => {
  for (const ua of [UA.barracuda, UA.mimecast, UA.proofpoint]) assert.equal(classify(hit(ua), opts).reason, 'scanner', ua);
  const net = classify(hit(UA.chrome, { ip: '192.0.2.44' }), opts);
  assert.equal(net.reason, 'scanner');
  assert.equal(net.signals.scannerNetwork, true);
  for (const ua of [UA.curl, UA.python, UA.headless, '', 'Googlebot/2.1 (+http://www.google.com/bot.html)']) {
    const v = classify(hit(ua), opts);
    assert.deepEqual([v.classification, v.reason], ['machine', 'bot'], ua);
  }
});

test('many links of one copy clicked within seconds is a scanner; a load right after delivery is a prefetch', () => {
  assert.equal(classify(hit(UA.chrome, { kind: 'click', recentOtherClicks: 3 }), opts).reason, 'scanner');
  assert.equal(classify(hit(UA.chrome, { kind: 'click', recentOtherClicks: 1 }), opts).reason, 'client');
  const p = classify(hit(UA.outlookDesktop, { sinceDeliveryMs: 4000 }), opts);
  assert.deepEqual([p.classification, p.reason, p.signals.sinceDeliveryMs], ['machine', 'prefetch', 4000]);
  assert.equal(classify(hit(UA.outlookDesktop, { sinceDeliveryMs: 11_000 }), opts).reason, 'client');
  assert.equal(classify(hit(UA.outlookDesktop, { sinceDeliveryMs: undefined }), opts).reason, 'client');
});

test('HEAD requests are machine head, whatever the user agent', () => {
  const v = classify(hit(UA.outlookDesktop, { method: 'HEAD' }), opts);
  assert.deepEqual([v.classification, v.reason], ['machine', 'head']);
});
