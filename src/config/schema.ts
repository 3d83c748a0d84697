// The one configuration schema. Every setting is an environment variable MAILBEACON_*, with a default,
// a description (the README's configuration table is generated from this list) and a parser that rejects
// bad values at boot with a message naming the variable.
import { z } from 'zod';
import { parseCidr } from '../domain/ip-address.ts';

const port = z.coerce.number().int().min(0).max(65535);
const bool = z.enum(['true', 'false', '1', '0', 'yes', 'no']).transform((v) => v === 'true' || v === '1' || v === 'yes');
const list = z.string().transform((s) => s.split(',').map((x) => x.trim()).filter(Boolean));
/** A comma list of whole numbers in [min, max]. */
const intList = (min: number, max: number, message: string) =>
  z.string().transform((s, c) => {
    const out = s.split(',').map((x) => Number(x.trim()));
    if (!out.length || out.some((n) => !Number.isInteger(n) || n < min || n > max)) c.addIssue({ code: 'custom', message });
    return out;
  });
const hostPort = z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[0-9.]+|[A-Za-z0-9.-]+)(:\d{1,5})?$/, 'expected ip[:port]');
const cidr = z.string().regex(/^[0-9a-fA-F:.]+(\/\d{1,3})?$/, 'expected an address or CIDR such as 10.0.0.0/8').refine((s) => parseCidr(s) !== undefined, 'expected an address or CIDR such as 10.0.0.0/8');
const url = (protocols: string[]) =>
  z.string().refine((s) => {
    try { return protocols.includes(new URL(s).protocol); } catch { return false; }
  }, `expected a URL (${protocols.join(' or ')})`);

/** One setting: `key` is the field on the parsed Config, `env` the variable that sets it. */
export interface Setting<T extends z.ZodTypeAny = z.ZodTypeAny> {
  env: string;
  description: string;
  /** The default as a user would write it in the environment; undefined = unset (feature off / derived). */
  default?: string;
  schema: T;
  /** Never printed (config docs show only the variable; logs never show the value). */
  secret?: boolean;
}

function setting<T extends z.ZodTypeAny>(s: Setting<T>): Setting<T> {
  return s;
}

export const settings = {
  databaseUrl: setting({
    env: 'MAILBEACON_DATABASE_URL',
    description: 'Where the store lives: `sqlite:PATH` (embedded, the default) or `postgres://user@host:port/db` (several nodes share one).',
    default: 'sqlite:./data/mailbeacon.db',
    schema: z.string().regex(/^(sqlite:.+|postgres(ql)?:\/\/.+)$/, 'expected sqlite:PATH or postgres://…'),
  }),
  dataDir: setting({
    env: 'MAILBEACON_DATA_DIR',
    description: 'Directory for files Mailbeacon keeps itself: the generated secret, the self-signed TLS certificate, ACME account and certificates.',
    default: './data',
    schema: z.string().min(1),
  }),
  host: setting({
    env: 'MAILBEACON_HOST',
    description: 'Address every listener binds to.',
    default: '127.0.0.1',
    schema: z.string().min(1),
  }),
  httpPort: setting({
    env: 'MAILBEACON_HTTP_PORT',
    description: 'HTTP port: API, dashboard, tracking endpoints, ACME HTTP-01 challenges, /metrics.',
    default: '8080',
    schema: port,
  }),
  httpsPort: setting({
    env: 'MAILBEACON_HTTPS_PORT',
    description: 'HTTPS port for custom tracking domains (certificate chosen by SNI). Unset: no HTTPS listener.',
    schema: port.optional(),
  }),
  smtpPort: setting({
    env: 'MAILBEACON_SMTP_PORT',
    description: 'SMTP submission port (AUTH PLAIN/LOGIN, STARTTLS).',
    default: '2525',
    schema: port,
  }),
  publicUrl: setting({
    env: 'MAILBEACON_PUBLIC_URL',
    description: 'Base URL of the dashboard and of the default tracking host, as recipients and browsers reach it.',
    default: 'http://localhost:8080',
    schema: url(['http:', 'https:']).transform((s) => s.replace(/\/+$/, '')),
  }),
  relay: setting({
    env: 'MAILBEACON_RELAY',
    description: 'Where mail goes: `outbox` (kept in the store and shown in the dashboard) or `smtp://[user:pass@]host:port[?tls=required]` (a smarthost).',
    default: 'outbox',
    schema: z.string().refine((s) => s === 'outbox' || /^smtps?:\/\/.+/.test(s), 'expected outbox or smtp://host:port'),
  }),
  deliveryLease: setting({
    env: 'MAILBEACON_DELIVERY_LEASE',
    description: 'Seconds a worker holds a claimed copy; if its node dies, another node (or the same one after a restart) retries the copy after this. Must exceed the longest delivery attempt.',
    default: '600',
    schema: z.coerce.number().int().min(10),
  }),
  relayConcurrency: setting({
    env: 'MAILBEACON_RELAY_CONCURRENCY',
    description: 'How many deliveries run at once per node (and the size of the smarthost connection pool).',
    default: '20',
    schema: z.coerce.number().int().min(1).max(1000),
  }),
  deliveryThread: setting({
    env: 'MAILBEACON_DELIVERY_THREAD',
    description: 'Run the delivery worker (rewrite, DKIM signing, delivery, result commits) in its own thread beside the SMTP and HTTP front doors, so a node uses two CPU cores. It opens its own store connection. false: one thread does everything.',
    default: 'true',
    schema: bool,
  }),
  retrySchedule: setting({
    env: 'MAILBEACON_RETRY_SCHEDULE',
    description: 'Seconds to wait before each retry of a deferred (4xx) delivery; the last value repeats until the give-up age.',
    default: '60,300,900,1800,3600,7200,14400',
    schema: intList(0, Number.MAX_SAFE_INTEGER, 'expected a comma list of whole seconds'),
  }),
  giveUpAfter: setting({
    env: 'MAILBEACON_GIVE_UP_AFTER',
    description: 'Seconds after acceptance when a deferred message is bounced (RFC 5321 §4.5.4.1 suggests 4-5 days).',
    default: '432000',
    schema: z.coerce.number().int().min(1),
  }),
  dnsServers: setting({
    env: 'MAILBEACON_DNS_SERVERS',
    description: 'Comma list of `ip:port` resolvers for domain verification. Unset: the system resolvers.',
    schema: list.pipe(z.array(hostPort)).optional(),
  }),
  dnsTimeout: setting({
    env: 'MAILBEACON_DNS_TIMEOUT',
    description: 'Milliseconds to wait for a DNS answer when verifying domains and tracking CNAMEs; no answer in time is reported as a timeout.',
    default: '3000',
    schema: z.coerce.number().int().min(100).max(60000),
  }),
  domainRecheckInterval: setting({
    env: 'MAILBEACON_DOMAIN_RECHECK_INTERVAL',
    description: 'Seconds between DNS re-checks of each domain (validation records) and custom tracking domain (CNAME); a domain that loses its records stops being tracked, a dangling CNAME stops being served. Also how often certificates due for renewal are looked for.',
    default: '3600',
    schema: z.coerce.number().int().min(1),
  }),
  secret: setting({
    env: 'MAILBEACON_SECRET',
    description: 'Signing key for tracking tokens and sessions (at least 32 characters). Unset: generated once and kept in the data directory. Nodes sharing a store must share it.',
    schema: z.string().min(32, 'must be at least 32 characters').optional(),
    secret: true,
  }),
  tokenKeyIds: setting({
    env: 'MAILBEACON_TOKEN_KEY_IDS',
    description: 'Tracking-token key ids (1-255), newest first: the first signs new tokens, all of them verify. Rotate by putting a new id in front; drop an id to retire its tokens.',
    default: '1',
    schema: intList(1, 255, 'expected a comma list of ids from 1 to 255'),
  }),
  eventFlushMs: setting({
    env: 'MAILBEACON_EVENT_FLUSH_MS',
    description: 'Tracking group commit: how long (ms) pixel and click events are buffered before they are written together (one event-journal write, or one transaction without the journal); every request of the batch is answered after that write. 0: whatever arrived in the same turn of the event loop (under load batches grow by themselves: a batch forms while the previous one is written).',
    default: '0',
    schema: z.coerce.number().int().min(0).max(1000),
  }),
  httpFastPath: setting({
    env: 'MAILBEACON_HTTP_FAST_PATH',
    description: 'Answer simple pixel loads (GET/HEAD /o/…, no body, strict HTTP/1.1 syntax) on the HTTP listener straight at the socket, before Node\'s HTTP server; a connection is handed to the full HTTP server at its first request that is anything else. About 1.4× the pixel throughput (bench/README.md). false: every request goes through Node\'s HTTP server.',
    default: 'true',
    schema: bool,
  }),
  eventJournal: setting({
    env: 'MAILBEACON_EVENT_JOURNAL',
    description: 'Tracking event journal: `on` answers a pixel or click once the hit is written (one write per group-commit batch) to an append-only journal beside the SQLite file (`<store>.events-journal/`), and a background thread moves it into the store (events, classification, rollups); `off` writes the store before answering; `auto`: on for SQLite, off for PostgreSQL.',
    default: 'auto',
    schema: z.enum(['auto', 'on', 'off']),
  }),
  prefetchSeconds: setting({
    env: 'MAILBEACON_PREFETCH_SECONDS',
    description: 'An open or click this many seconds after delivery or sooner is classified as machine (reason `prefetch`): scanners and prefetchers fetch right away, people rarely do.',
    default: '10',
    schema: z.coerce.number().int().min(0),
  }),
  scannerNetworks: setting({
    env: 'MAILBEACON_SCANNER_NETWORKS',
    description: 'Comma list of CIDRs of known link scanners / datacenters: opens and clicks from them are classified machine (reason `scanner`).',
    default: '',
    schema: list.pipe(z.array(cidr)),
  }),
  logLevel: setting({
    env: 'MAILBEACON_LOG_LEVEL',
    description: 'Log level: fatal, error, warn, info, debug, trace or silent.',
    default: 'info',
    schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
  }),
  tlsCert: setting({
    env: 'MAILBEACON_TLS_CERT',
    description: 'PEM certificate file for SMTP STARTTLS. Unset: a self-signed certificate made at first start.',
    schema: z.string().optional(),
  }),
  tlsKey: setting({
    env: 'MAILBEACON_TLS_KEY',
    description: 'PEM private key file matching MAILBEACON_TLS_CERT.',
    schema: z.string().optional(),
  }),
  smtpMaxSize: setting({
    env: 'MAILBEACON_SMTP_MAX_SIZE',
    description: 'Largest message accepted, in bytes (advertised with SIZE; larger gets 552).',
    default: '26214400',
    schema: z.coerce.number().int().min(1024),
  }),
  smtpAllowInsecureAuth: setting({
    env: 'MAILBEACON_SMTP_ALLOW_INSECURE_AUTH',
    description: 'Allow AUTH without TLS from non-loopback clients (loopback is always allowed).',
    default: 'false',
    schema: bool,
  }),
  smtpTrustedNetworks: setting({
    env: 'MAILBEACON_SMTP_TRUSTED_NETWORKS',
    description: 'Comma list of CIDRs whose clients may send without AUTH, as the account in MAILBEACON_SMTP_TRUSTED_ACCOUNT (like Postfix mynetworks). Unset: off.',
    schema: list.pipe(z.array(cidr)).optional(),
  }),
  smtpTrustedAccount: setting({
    env: 'MAILBEACON_SMTP_TRUSTED_ACCOUNT',
    description: 'Account id (or a user email of it) that mail from MAILBEACON_SMTP_TRUSTED_NETWORKS is sent as.',
    schema: z.string().optional(),
  }),
  acmeDirectory: setting({
    env: 'MAILBEACON_ACME_DIRECTORY',
    description: 'ACME directory URL for tracking-domain certificates (e.g. Let\'s Encrypt). Unset: ACME off.',
    schema: url(['http:', 'https:']).optional(),
  }),
  acmeEmail: setting({
    env: 'MAILBEACON_ACME_EMAIL',
    description: 'Contact email for the ACME account.',
    schema: z.string().email().optional(),
  }),
  acmeCaFile: setting({
    env: 'MAILBEACON_ACME_CA_FILE',
    description: 'PEM file of an extra CA to trust when talking to the ACME directory (test servers such as pebble).',
    schema: z.string().optional(),
  }),
  webhookAllowPrivate: setting({
    env: 'MAILBEACON_WEBHOOK_ALLOW_PRIVATE',
    description: 'Allow webhook URLs that resolve to private, loopback or link-local addresses (tests, private networks).',
    default: 'false',
    schema: bool,
  }),
  webhookTimeout: setting({
    env: 'MAILBEACON_WEBHOOK_TIMEOUT',
    description: 'Seconds a webhook receiver has to answer one delivery attempt (connect + response); longer counts as a failure and is retried.',
    default: '10',
    schema: z.coerce.number().min(0.1).max(300),
  }),
  webhookConcurrency: setting({
    env: 'MAILBEACON_WEBHOOK_CONCURRENCY',
    description: 'Webhook delivery attempts in flight at once per worker node.',
    default: '10',
    schema: z.coerce.number().int().min(1).max(500),
  }),
  webhookPollInterval: setting({
    env: 'MAILBEACON_WEBHOOK_POLL_INTERVAL',
    description: 'Milliseconds between the webhook dispatcher\'s looks at new events and due retries.',
    default: '1000',
    schema: z.coerce.number().int().min(10).max(60000),
  }),
  trustedProxies: setting({
    env: 'MAILBEACON_TRUSTED_PROXIES',
    description: 'Comma list of CIDRs of reverse proxies whose Forwarded / X-Forwarded-For / X-Forwarded-Proto headers are believed (the client is the right-most address that is not a trusted proxy). Empty: the socket address is the client.',
    default: '',
    schema: list.pipe(z.array(cidr)),
  }),
  trustedProxyHeader: setting({
    env: 'MAILBEACON_TRUSTED_PROXY_HEADER',
    description: 'Which header trusted proxies write: `auto` (Forwarded when present, else X-Forwarded-For), `forwarded` or `x-forwarded-for`. Pin it when your proxy passes the other header through from clients unchanged.',
    default: 'auto',
    schema: z.enum(['auto', 'forwarded', 'x-forwarded-for']),
  }),
  controlPanelKey: setting({
    env: 'MAILBEACON_CONTROL_PANEL_KEY',
    description: 'Integration key a hosting control panel uses to add domains (POST /api/v1/integrations/control-panel/domains). Unset: the integration is off.',
    schema: z.string().min(16, 'must be at least 16 characters').optional(),
    secret: true,
  }),
  sessionTtlHours: setting({
    env: 'MAILBEACON_SESSION_TTL_HOURS',
    description: 'How long a dashboard login lasts, in hours, before the user must log in again.',
    default: '168',
    schema: z.coerce.number().int().min(1).max(24 * 366),
  }),
  loginMaxAttempts: setting({
    env: 'MAILBEACON_LOGIN_MAX_ATTEMPTS',
    description: 'Failed dashboard logins allowed per client address and per email within MAILBEACON_LOGIN_WINDOW_SECONDS; further attempts get 429 until the window slides. Counted in memory per node.',
    default: '10',
    schema: z.coerce.number().int().min(1),
  }),
  loginWindowSeconds: setting({
    env: 'MAILBEACON_LOGIN_WINDOW_SECONDS',
    description: 'The sliding window of the dashboard login rate limit, in seconds.',
    default: '900',
    schema: z.coerce.number().int().min(1),
  }),
  apiRateLimit: setting({
    env: 'MAILBEACON_API_RATE_LIMIT',
    description: 'Requests per minute allowed on /api/v1 per API key (or per client address without one), with bursts up to the same number; more get 429 with Retry-After. Counted in memory per node. 0: no limit.',
    default: '600',
    schema: z.coerce.number().int().min(0),
  }),
  roles: setting({
    env: 'MAILBEACON_ROLES',
    description: 'Which roles this process runs (comma list of http, smtp, worker, tracking); `serve --roles` overrides.',
    default: 'http,smtp,worker,tracking',
    schema: list.pipe(z.array(z.enum(['http', 'smtp', 'worker', 'tracking'])).min(1)),
  }),
} as const;

export type Settings = typeof settings;
export type Config = { [K in keyof Settings]: z.output<Settings[K]['schema']> };
