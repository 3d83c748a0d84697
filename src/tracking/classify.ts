// Classifies one pixel load or click as `human` or `machine`, with a reason code, from the user agent,
// the address and the timing relative to delivery. Pure: no I/O, no clock; every input is a parameter, and
// the raw signals come back too so they can be stored with the event and the rules improved later.
import { UAParser } from 'ua-parser-js';
import { cidrMatcher, parseIp } from './ip.ts';

export type Classification = 'human' | 'machine';
export type Reason = 'apple_mpp' | 'google_proxy' | 'yahoo_proxy' | 'scanner' | 'prefetch' | 'head' | 'bot' | 'client';

export interface Hit {
  kind: 'open' | 'click';
  method: string;
  userAgent: string;
  /** Canonical client address (before any privacy truncation). */
  ip: string;
  /** Milliseconds since the copy was delivered; undefined when not (yet) known as delivered. */
  sinceDeliveryMs?: number;
  /** Clicks: how many other links of the same copy were clicked in the last few seconds. */
  recentOtherClicks?: number;
}

export interface ClassifyOptions {
  /** A load or click this soon after delivery (seconds) is a prefetch. */
  prefetchSeconds: number;
  /** Extra address ranges of known scanners / datacenters (CIDR list). */
  scannerNetworks?: readonly string[];
  /** Clicks on this many other links within the window make a click a scanner's. */
  manyClicks?: number;
}

export interface Verdict {
  classification: Classification;
  reason: Reason;
  /** The client as far as it can be told; proxied opens hide the real one. */
  clientName: string | null;
  clientVersion: string | null;
  /** OS name without version (breakdowns group by it); the version is in osVersion. */
  os: string | null;
  osVersion: string | null;
  /** desktop | mobile | tablet | ... */
  device: string | null;
  /** The open came through a mail provider's image proxy: client and place are hidden. */
  proxied: boolean;
  /** The raw signals behind the verdict (stored in the event's data). */
  signals: Record<string, boolean | number | string>;
}

/**
 * Apple's own address space. Apple Mail Privacy Protection fetches images through Apple's proxies; its
 * iCloud Private Relay egress list is published but far too large to ship, so we use Apple's 17.0.0.0/8
 * (and its IPv6 2620:149::/32) plus the generic user agent below. See docs/tracking.md.
 */
export const APPLE_NETWORKS = ['17.0.0.0/8', '2620:149::/32'];
const isApple = cidrMatcher(APPLE_NETWORKS);

// The generic WebKit user agent Apple's MPP proxy sends: a Mac, WebKit, and no Safari/Version/Mobile token.
const APPLE_GENERIC = /^Mozilla\/5\.0 \(Macintosh; Intel Mac OS X [\d_]+\) AppleWebKit\/[\d.]+ \(KHTML, like Gecko\)$/;
const BARE_MOZILLA = /^Mozilla\/5\.0$/;
// Apple Mail on iOS/iPadOS with MPP off: WebKit, Mobile/…, no Safari token.
const APPLE_MAIL_IOS = /\((iPhone|iPad|iPod)[^)]*\) AppleWebKit\/[\d.]+ \(KHTML, like Gecko\)(?: Mobile\/\w+)?$/;

const SCANNER_UA = /barracuda|mimecast|proofpoint|urldefense|forcepoint|fireeye|trellix|zscaler|symantec|messagelabs|sophos|trend ?micro|cisco|ironport|checkpoint|check point|safelinks|safe ?links|microsoft office protocol discovery|bitdefender|kaspersky|\bvade\b|avanan|abnormal|urlscan|virustotal|phishtank|netcraft|paloalto|palo alto/i;
const BOT_UA = /bot\b|bot\/|spider|crawler|crawl|curl\/|wget\/|python-requests|python-urllib|aiohttp|go-http-client|okhttp|java\/|libwww|httpclient|axios\/|node-fetch|undici|headlesschrome|phantomjs|slurp|facebookexternalhit|scrapy|postman/i;

interface ClientGuess { name: string | null; version: string | null }

/** Mail clients ua-parser-js does not name, checked first. */
function mailClient(ua: string): ClientGuess | undefined {
  let m = /Microsoft Outlook (\d[\d.]*)/.exec(ua) ?? /MSOffice (\d+)/.exec(ua) ?? /Outlook-(?:iOS|Android)\/([\d.]+)/.exec(ua);
  if (m || /ms-office|Microsoft Office\//.test(ua)) return { name: 'Outlook', version: m?.[1] ?? null };
  m = /Thunderbird\/([\d.]+)/.exec(ua);
  if (m) return { name: 'Thunderbird', version: m[1] };
  m = /(?:Evolution|KMail|Claws Mail|Airmail|Spark|Superhuman|eM Client|Postbox|Canary Mail|Mailspring)\/?\s*([\d.]*)/.exec(ua);
  if (m) return { name: m[0].replace(/\/?\s*[\d.]*$/, ''), version: m[1] || null };
  if (APPLE_GENERIC.test(ua) || APPLE_MAIL_IOS.test(ua)) return { name: 'Apple Mail', version: null };
  if (/GoogleImageProxy/.test(ua)) return { name: 'Gmail', version: null };
  if (/YahooMailProxy/.test(ua)) return { name: 'Yahoo Mail', version: null };
  return undefined;
}

type Matcher = (ip: Uint8Array | undefined) => boolean;
const matcherCache = new Map<string, Matcher>();
function scannerMatcher(list: readonly string[] | undefined): Matcher {
  if (!list?.length) return () => false;
  const key = list.join(',');
  let m = matcherCache.get(key);
  if (!m) {
    m = cidrMatcher(list);
    matcherCache.set(key, m);
  }
  return m;
}

interface UaFacts {
  clientName: string | null;
  clientVersion: string | null;
  os: string | null;
  osVersion: string | null;
  device: string | null;
  appleGenericUa: boolean;
  bot: boolean;
  scanner: boolean;
  google: boolean;
  yahoo: boolean;
}

// Parsing a user agent costs far more than everything else on the pixel's path, and mail traffic repeats
// the same few hundred strings: remember the facts per string (bounded, oldest dropped first).
const uaCache = new Map<string, UaFacts>();
const UA_CACHE_MAX = 5000;

function uaFacts(ua: string): UaFacts {
  const hit = uaCache.get(ua);
  if (hit) return hit;
  const parsed = UAParser(ua);
  const guess = mailClient(ua);
  const facts: UaFacts = {
    clientName: guess?.name ?? parsed.browser.name ?? null,
    clientVersion: guess ? guess.version : parsed.browser.version ?? null,
    os: parsed.os.name ?? null,
    osVersion: parsed.os.version ?? null,
    device: parsed.device.type ?? (parsed.os.name ? 'desktop' : null),
    appleGenericUa: APPLE_GENERIC.test(ua) || BARE_MOZILLA.test(ua),
    bot: !ua || BOT_UA.test(ua),
    scanner: SCANNER_UA.test(ua),
    google: /GoogleImageProxy/.test(ua),
    yahoo: /YahooMailProxy/.test(ua),
  };
  if (uaCache.size >= UA_CACHE_MAX) uaCache.delete(uaCache.keys().next().value!);
  uaCache.set(ua, facts);
  return facts;
}

export function classify(hit: Hit, opts: ClassifyOptions): Verdict {
  const ua = hit.userAgent.trim();
  const f = uaFacts(ua);
  const signals: Verdict['signals'] = {};
  const base = {
    clientName: f.clientName,
    clientVersion: f.clientVersion,
    os: f.os,
    osVersion: f.osVersion,
    device: f.device,
    proxied: false,
  };
  const verdict = (classification: Classification, reason: Reason, extra: Partial<Verdict> = {}): Verdict => ({ ...base, classification, reason, signals, ...extra });

  const ipBytes = parseIp(hit.ip);
  const appleRange = isApple(ipBytes);
  const appleGenericUa = f.appleGenericUa;
  const scannerNet = scannerMatcher(opts.scannerNetworks)(ipBytes);
  if (appleRange) signals.appleRange = true;
  if (appleGenericUa) signals.appleGenericUa = true;
  if (scannerNet) signals.scannerNetwork = true;
  if (hit.sinceDeliveryMs !== undefined) signals.sinceDeliveryMs = Math.round(hit.sinceDeliveryMs);
  if (hit.recentOtherClicks) signals.recentOtherClicks = hit.recentOtherClicks;

  if (hit.method === 'HEAD') return verdict('machine', 'head');
  if (f.bot) return verdict('machine', 'bot');
  if (f.scanner || scannerNet) return verdict('machine', 'scanner');
  if (appleRange || appleGenericUa) {
    // MPP hides the real client: the proxy fetches on the recipient's behalf (whether or not they read it).
    return verdict('machine', 'apple_mpp', { clientName: 'Apple Mail', clientVersion: null, proxied: true });
  }
  if (f.google) return verdict('human', 'google_proxy', { clientName: 'Gmail', clientVersion: null, os: null, osVersion: null, device: null, proxied: true });
  if (f.yahoo) return verdict('human', 'yahoo_proxy', { clientName: 'Yahoo Mail', clientVersion: null, os: null, osVersion: null, device: null, proxied: true });
  if (hit.kind === 'click' && (hit.recentOtherClicks ?? 0) >= (opts.manyClicks ?? 3)) return verdict('machine', 'scanner');
  if (hit.sinceDeliveryMs !== undefined && hit.sinceDeliveryMs >= 0 && hit.sinceDeliveryMs <= opts.prefetchSeconds * 1000) return verdict('machine', 'prefetch');
  return verdict('human', 'client');
}
