// The acceptance service both front doors share (SMTP DATA and POST /api/v1/messages): check the message,
// the recipients and the senders, then commit the message, one copy per envelope recipient and the
// `accepted` events durably (group commit) before the caller answers 250 / 202.
import { randomBytes } from 'node:crypto';
import type { AppContext } from '../app-context.ts';
import { AppError, invalid } from '../domain/errors.ts';
import { newId } from '../domain/ids.ts';
import type { AcceptedMessage } from '../store/messages-repo.ts';
import { GroupCommitter } from './group-commit.ts';
import { addressesOf, decodeSubject, domainOf, headerValue, isAddress, parseHeaderFields, prependHeaders } from './message-headers.ts';
import { checkSenders } from './sender-rules.ts';
import { queueSignal } from './queue-signal.ts';

export const MAX_RECIPIENTS = 1000;

export interface Submission {
  accountId: string;
  /** Envelope sender. */
  mailFrom: string;
  /** Envelope recipients (Bcc included). */
  recipients: string[];
  raw: Buffer;
  source: 'smtp' | 'api';
  /** API flags; undefined = the domain's default. */
  track?: { opens?: boolean; clicks?: boolean };
}

export interface Accepted {
  id: string;
  messageId: string;
  recipients: { id: string; email: string }[];
}

export class AcceptanceService {
  private readonly committer: GroupCommitter<AcceptedMessage>;
  private readonly accepted;

  constructor(private readonly ctx: AppContext) {
    this.committer = new GroupCommitter((items) => ctx.store.messages.acceptBatch(items), 200);
    this.accepted = ctx.metrics.counter('mailbeacon_messages_accepted_total', 'Messages accepted (committed) by source', ['source']);
  }

  async accept(sub: Submission): Promise<Accepted> {
    const { ctx } = this;
    if (sub.raw.length > ctx.config.smtpMaxSize) throw new AppError('too_large', 'message_too_large', `message exceeds the maximum size of ${ctx.config.smtpMaxSize} bytes`);
    const recipients = [...new Set(sub.recipients.map((r) => r.trim().toLowerCase()))];
    if (!recipients.length) throw invalid('at least one recipient is needed', { to: 'at least one recipient is needed' });
    if (recipients.length > MAX_RECIPIENTS) throw invalid(`at most ${MAX_RECIPIENTS} recipients per message`, { to: `at most ${MAX_RECIPIENTS} recipients` });
    const bad = recipients.find((r) => !isAddress(r));
    if (bad) throw invalid(`${bad} is not a valid recipient address`, { to: `${bad} is not a valid address` });
    const mailFrom = sub.mailFrom.trim();
    if (!isAddress(mailFrom)) throw invalid('the envelope sender is not a valid address', { from: 'not a valid address' });

    const fields = parseHeaderFields(sub.raw);
    const from = addressesOf(headerValue(fields, 'from'))[0];
    if (!from || !isAddress(from)) throw invalid('the message has no valid From: header', { from: 'the message has no valid From: header' });
    const domain = await checkSenders(ctx, sub.accountId, mailFrom, from);

    const now = ctx.clock.now();
    let raw = sub.raw;
    let messageIdHeader = headerValue(fields, 'message-id');
    const add: string[] = [];
    if (!messageIdHeader) {
      messageIdHeader = `<${newId('', now)}.${randomBytes(4).toString('hex')}@${domainOf(from)}>`;
      add.push(`Message-ID: ${messageIdHeader}`);
    }
    if (!headerValue(fields, 'date')) add.push(`Date: ${new Date(now).toUTCString().replace('GMT', '+0000')}`);
    raw = prependHeaders(raw, add);

    // X-Mailbeacon-Track: no turns tracking off for this message (the rewriter removes the header).
    const optOut = /^\s*(no|off|false|0)\s*$/i.test(headerValue(fields, 'x-mailbeacon-track') ?? '');
    const flag = (v: boolean | undefined) => (optOut ? 0 : v === undefined ? null : v ? 1 : 0);

    const id = newId('msg_', now);
    const domainId = domain?.id ?? null;
    const item: AcceptedMessage = {
      message: {
        id, accountId: sub.accountId, domainId, messageIdHeader, fromAddress: from, mailFrom, subject: decodeSubject(headerValue(fields, 'subject')).slice(0, 998),
        source: sub.source, size: raw.length, trackOpens: flag(sub.track?.opens), trackClicks: flag(sub.track?.clicks), raw, createdAt: now,
      },
      copies: recipients.map((r) => ({
        id: newId('cpy_', now), messageId: id, accountId: sub.accountId, domainId, recipient: r, status: 'queued', attempts: 0, nextAttemptAt: now,
        lockedBy: null, lockedUntil: null, lastError: null, trackingBase: null, deliveredAt: null, createdAt: now,
      })),
    };
    try {
      await this.committer.submit(item);
    } catch (err) {
      ctx.log.error({ event: 'outbound.accept_failed', err }, 'could not commit an accepted message');
      throw new AppError('unavailable', 'store_unavailable', 'the message could not be stored, try again later');
    }
    this.accepted.inc({ source: sub.source });
    ctx.log.debug({ event: 'outbound.accepted', messageId: id, recipients: recipients.length, source: sub.source }, 'message accepted');
    queueSignal(ctx).emit('due');
    return { id, messageId: messageIdHeader, recipients: item.copies.map((c) => ({ id: c.id, email: c.recipient })) };
  }

  idle(): Promise<void> {
    return this.committer.idle();
  }
}

const services = new WeakMap<AppContext, AcceptanceService>();

/** The one acceptance service of an app (its group commit is shared by SMTP and HTTP). */
export function acceptanceFor(ctx: AppContext): AcceptanceService {
  let s = services.get(ctx);
  if (!s) {
    s = new AcceptanceService(ctx);
    services.set(ctx, s);
  }
  return s;
}
