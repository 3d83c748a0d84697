// Table types as Kysely sees them (camelCase here, snake_case in SQL via CamelCasePlugin).
// Conventions shared by both dialects: ids are text (time-sortable, see domain/ids.ts), times are
// integer milliseconds since the epoch, booleans are integers 0/1, JSON is text.
import type { Generated } from 'kysely';

export interface AccountsTable {
  id: string;
  name: string;
  /** 'verified': send only from domains added here; 'any': any From domain (recorded as manual_dns). */
  sendingMode: string;
  createdAt: number;
}

export interface UsersTable {
  id: string;
  accountId: string;
  email: string;
  passwordHash: string;
  createdAt: number;
}

export interface ApiKeysTable {
  id: string;
  accountId: string;
  name: string;
  /** First characters of the key, shown in lists so people can tell keys apart. */
  prefix: string;
  keyHash: string;
  createdAt: number;
  revokedAt: number | null;
  lastUsedAt: number | null;
}

export interface SmtpCredentialsTable {
  id: string;
  accountId: string;
  username: string;
  passwordHash: string;
  createdAt: number;
  revokedAt: number | null;
}

export interface DomainsTable {
  id: string;
  accountId: string;
  name: string;
  /** dashboard | control_panel | manual_dns */
  source: string;
  /** pending | validated | failed */
  status: string;
  statusReason: string | null;
  verificationToken: string;
  dkimSelector: string;
  dkimPrivateKey: string;
  dkimPublicKey: string;
  openTracking: number;
  clickTracking: number;
  /** bottom | top | auto */
  pixelPlacement: string;
  ipTruncation: number;
  /** Raw events older than this are purged (rollups stay). */
  retentionDays: number;
  createdAt: number;
  verifiedAt: number | null;
  lastCheckedAt: number | null;
}

/** A custom tracking hostname of a sending domain (CNAME to the default tracking host). */
export interface TrackingDomainsTable {
  id: string;
  domainId: string;
  accountId: string;
  hostname: string;
  /** pending | verified | failed | dangling (was verified, CNAME gone or moved: no longer served) */
  status: string;
  statusReason: string | null;
  certPem: string | null;
  keyPem: string | null;
  certExpiresAt: number | null;
  /** none (ACME off) | pending | issuing | valid | failed */
  certStatus: string;
  certError: string | null;
  certAttemptAt: number | null;
  /** 1 when a valid certificate is installed and the HTTPS listener serves it. */
  https: number;
  /** Set when replaced or deleted: no longer used for new mail, still answers old tokens. */
  retiredAt: number | null;
  createdAt: number;
  verifiedAt: number | null;
  lastCheckedAt: number | null;
}

export interface MessagesTable {
  id: string;
  accountId: string;
  domainId: string | null;
  messageIdHeader: string;
  fromAddress: string;
  subject: string;
  /** smtp | api */
  source: string;
  size: number;
  /** Per-message tracking flags: 1/0 from the API or the X-Mailbeacon-Track header, null = domain default. */
  trackOpens: number | null;
  trackClicks: number | null;
  raw: Buffer;
  createdAt: number;
  /** Envelope sender (MAIL FROM or the API's envelope.from); migration 0500. */
  mailFrom: string | null;
}

/** One copy of a message per envelope recipient: its own tokens, its own delivery status. */
export interface MessageCopiesTable {
  id: string;
  messageId: string;
  accountId: string;
  domainId: string | null;
  recipient: string;
  /** queued | delivering | delivered | deferred | bounced */
  status: string;
  attempts: number;
  nextAttemptAt: number;
  lockedBy: string | null;
  lockedUntil: number | null;
  lastError: string | null;
  /** The tracking base URL the copy's tokens were made for (set at rewrite). */
  trackingBase: string | null;
  deliveredAt: number | null;
  createdAt: number;
}

export interface EventsTable {
  id: Generated<number>;
  accountId: string;
  domainId: string | null;
  messageId: string | null;
  copyId: string | null;
  /** accepted | delivered | deferred | bounced | open | click | open_signal */
  type: string;
  createdAt: number;
  recipient: string | null;
  linkIndex: number | null;
  url: string | null;
  ip: string | null;
  userAgent: string | null;
  clientName: string | null;
  clientVersion: string | null;
  os: string | null;
  device: string | null;
  /** human | machine (opens and clicks) */
  classification: string | null;
  reason: string | null;
  /** 1 when this is the first open (or click) of the copy. */
  isFirst: number;
  /** JSON with anything else worth keeping (SMTP reply, proxy flags, ...). */
  data: string | null;
}

/** Hourly counters per account and domain, updated in the same transaction as the events. */
export interface RollupsHourlyTable {
  accountId: string;
  /** '' for mail without a domain row. */
  domainId: string;
  hour: number;
  delivered: number;
  opens: number;
  uniqueOpens: number;
  humanOpens: number;
  machineOpens: number;
  clicks: number;
  uniqueClicks: number;
}

/**
 * Hourly open/click counters per account, domain and one dimension value (migration 0400): dimension is
 * 'client' | 'os' | 'device' | 'reason', value the client name / OS name / device type / reason code
 * ('' when unknown). Updated in the same transaction as the events.
 */
export interface RollupsBreakdownTable {
  accountId: string;
  /** '' for mail without a domain row. */
  domainId: string;
  hour: number;
  dimension: string;
  value: string;
  opens: number;
  humanOpens: number;
  machineOpens: number;
  clicks: number;
}

/** First open / first click of a recipient copy (migration 0401): the row that wins the insert is first. */
export interface TrackingFirstsTable {
  copyId: string;
  /** open | click */
  kind: string;
  at: number;
}

/** Every delivery attempt of a copy (migration 0500). */
export interface DeliveryAttemptsTable {
  id: Generated<number>;
  copyId: string;
  messageId: string;
  accountId: string;
  attempt: number;
  startedAt: number;
  durationMs: number;
  /** delivered | deferred | bounced */
  result: string;
  smtpCode: number | null;
  response: string | null;
  /** 'outbox' or the smarthost's host:port */
  relay: string;
  nodeId: string;
}

/** The exact bytes delivered to the "outbox" relay (migration 0500). */
export interface OutboxTable {
  id: string;
  accountId: string;
  messageId: string;
  copyId: string;
  mailFrom: string;
  recipient: string;
  subject: string;
  size: number;
  raw: Buffer;
  createdAt: number;
}

export interface KvTable {
  key: string;
  value: string;
}

/** A dashboard login: id = SHA-256 of the cookie token. */
export interface SessionsTable {
  id: string;
  userId: string;
  accountId: string;
  /** Sent back in X-CSRF-Token on every state-changing request made with this session. */
  csrfToken: string;
  createdAt: number;
  expiresAt: number;
}

/** A webhook endpoint of an account (secret stored AES-256-GCM encrypted with a key derived from the master secret). */
export interface WebhooksTable {
  id: string;
  accountId: string;
  url: string;
  /** JSON array of event types. */
  events: string;
  domainId: string | null;
  secretEnc: string;
  enabled: number;
  disabledReason: string | null;
  /** Only events with a larger id are delivered (the events table's max id when the webhook was made). */
  fromEventId: number;
  createdAt: number;
  updatedAt: number;
}

/** One event to deliver to one webhook: pending → succeeded | dead | gone, with its lease and schedule. */
export interface WebhookDeliveriesTable {
  id: string;
  webhookId: string;
  accountId: string;
  /** The payload id (`evt_<n>`, or `evt_test_…` for test events): receivers dedupe on it. */
  eventId: string;
  type: string;
  /** The exact JSON body sent (the same bytes on every attempt and replay). */
  payload: string;
  /** pending | succeeded | dead | gone */
  status: string;
  attempts: number;
  nextAttemptAt: number;
  lockedBy: string | null;
  lockedUntil: number | null;
  lastStatusCode: number | null;
  lastError: string | null;
  replayOf: string | null;
  createdAt: number;
  completedAt: number | null;
}

export interface WebhookAttemptsTable {
  id: Generated<number>;
  deliveryId: string;
  attempt: number;
  nodeId: string;
  startedAt: number;
  durationMs: number;
  statusCode: number | null;
  error: string | null;
  /** success | retry | dead | gone */
  outcome: string;
}

export interface WebhookCursorTable {
  name: string;
  lastEventId: number;
}

export interface Database {
  accounts: AccountsTable;
  users: UsersTable;
  apiKeys: ApiKeysTable;
  smtpCredentials: SmtpCredentialsTable;
  domains: DomainsTable;
  trackingDomains: TrackingDomainsTable;
  messages: MessagesTable;
  messageCopies: MessageCopiesTable;
  events: EventsTable;
  rollupsHourly: RollupsHourlyTable;
  rollupsBreakdown: RollupsBreakdownTable;
  trackingFirsts: TrackingFirstsTable;
  kv: KvTable;
  sessions: SessionsTable;
  webhooks: WebhooksTable;
  webhookDeliveries: WebhookDeliveriesTable;
  webhookAttempts: WebhookAttemptsTable;
  webhookCursor: WebhookCursorTable;
  deliveryAttempts: DeliveryAttemptsTable;
  outbox: OutboxTable;
}
