// The SMTP submission listener (role smtp): smtp-server adapted to the acceptance service. Protocol rules
// live in protocol.ts; this file only wires them to smtp-server's hooks.
import os from 'node:os';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import type { AppContext } from '../app-context.ts';
import type { Service } from '../server/service.ts';
import { authenticateSmtp } from '../accounts/account-service.ts';
import { acceptanceFor } from '../outbound/acceptance.ts';
import { domainOf, isAddress } from '../outbound/message-headers.ts';
import { resolveDomainForSending } from '../outbound/sender-rules.ts';
import { AppError } from '../domain/errors.ts';
import { authAllowed, BareLineEndingDetector, inNetworks, replyForError, smtpError } from './protocol.ts';
import { loadOrCreateTlsCert } from './tls-cert.ts';
import { greetWithoutDelay } from './greeting.ts';

export interface SmtpService extends Service {
  /** The bound port, after start() (tests listen on port 0). */
  port?: number;
}

export function createSmtpService(ctx: AppContext): SmtpService {
  const { config, log } = ctx;
  const acceptance = acceptanceFor(ctx);
  const replies = ctx.metrics.counter('mailbeacon_smtp_replies_total', 'Final replies to SMTP DATA by code class', ['code']);
  let server: SMTPServer | undefined;
  let trustedAccountId: string | undefined;
  const maxSize = config.smtpMaxSize;

  /** The account this session sends as: its AUTH identity, or the trusted account for trusted networks. */
  const accountOfSession = (session: SMTPServerSession): string | undefined => {
    if (session.user) return String(session.user);
    if (trustedAccountId && inNetworks(session.remoteAddress, config.smtpTrustedNetworks ?? [])) return trustedAccountId;
    return undefined;
  };

  const onData = (stream: SMTPServerDataStream, session: SMTPServerSession, callback: (err?: Error | null, message?: string) => void) => {
    // Anything the client sent together with DATA, before it could have seen our 354, is processed in this
    // same turn of the event loop: that is pipelining before 354, refused like Postfix does.
    let beforeGo = true;
    let pipelined = false;
    setImmediate(() => { beforeGo = false; });
    const bare = new BareLineEndingDetector();
    const chunks: Buffer[] = [];
    let kept = 0;
    let overflow = false;
    // Always read the stream to its end (smtp-server only sends the reply after 'end'); never keep more
    // than the size limit in memory: past it, only count.
    stream.on('data', (chunk: Buffer) => {
      if (beforeGo) pipelined = true;
      bare.feed(chunk);
      if (overflow || stream.sizeExceeded || kept + chunk.length > maxSize) {
        overflow = true;
        chunks.length = 0;
        return;
      }
      chunks.push(chunk);
      kept += chunk.length;
    });
    stream.on('error', (err) => callback(err));
    stream.on('end', () => {
      bare.end();
      const reject = (code: number, message: string, reason: string) => {
        replies.inc({ code: String(code)[0] + 'xx' });
        log.info({ event: 'smtp.rejected', reason, remote: session.remoteAddress, code }, message);
        callback(smtpError({ code, message }));
      };
      // sizeExceeded is only a flag smtp-server sets; refusing is our job.
      if (overflow || stream.sizeExceeded) return reject(552, `5.3.4 Error: message exceeds fixed maximum message size ${maxSize}`, 'too_large');
      if (pipelined) return reject(554, '5.5.0 Error: improper command pipelining before the 354 reply', 'pipelining');
      if (bare.found) return reject(550, `5.5.2 Error: bare <${bare.found}> received; lines must end with <CR><LF>`, 'bare_line_ending');
      const accountId = accountOfSession(session);
      if (!accountId) return reject(530, '5.7.0 Authentication required', 'no_auth');
      acceptance
        .accept({
          accountId,
          mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          recipients: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks, kept),
          source: 'smtp',
        })
        .then(
          (r) => {
            replies.inc({ code: '2xx' });
            log.info({ event: 'smtp.accepted', messageId: r.id, recipients: r.recipients.length }, 'message accepted');
            callback(null, `2.0.0 OK: queued as ${r.id}`);
          },
          (err) => {
            const reply = replyForError(err);
            if (!(err instanceof AppError)) log.error({ event: 'smtp.accept_error', err }, 'accepting a message failed');
            reject(reply.code, reply.message, err instanceof AppError ? err.code : 'error');
          },
        );
    });
  };

  const service: SmtpService = {
    name: 'smtp',
    async start() {
      const tls = await loadOrCreateTlsCert(config);
      if (config.smtpTrustedNetworks?.length) {
        const t = config.smtpTrustedAccount;
        if (!t) throw new Error('MAILBEACON_SMTP_TRUSTED_NETWORKS needs MAILBEACON_SMTP_TRUSTED_ACCOUNT (the account such mail is sent as)');
        trustedAccountId = (await ctx.store.accounts.get(t))?.id ?? (await ctx.store.accounts.userByEmail(t))?.accountId;
        if (!trustedAccountId) throw new Error(`MAILBEACON_SMTP_TRUSTED_ACCOUNT: no account or user ${t}`);
      }
      server = new SMTPServer({
        name: os.hostname(),
        banner: 'Mailbeacon ESMTP',
        size: maxSize,
        authMethods: ['PLAIN', 'LOGIN'],
        // AUTH is checked in onAuth (loopback may AUTH in clear text) and required in onMailFrom (trusted
        // networks need none).
        authOptional: true,
        allowInsecureAuth: true,
        key: tls.key,
        cert: tls.cert,
        logger: false,
        disableReverseLookup: true,
        maxRecipients: 1000,
        closeTimeout: 10_000,
        socketTimeout: 120_000,
        onAuth(auth, session, cb) {
          if (!authAllowed({ secure: session.secure, remoteAddress: session.remoteAddress, allowInsecure: config.smtpAllowInsecureAuth })) {
            return cb(smtpError({ code: 538, message: '5.7.11 Encryption required: issue STARTTLS first' }));
          }
          if (auth.method !== 'PLAIN' && auth.method !== 'LOGIN') return cb(smtpError({ code: 504, message: '5.5.4 Unrecognized authentication type' }));
          authenticateSmtp(ctx.store, auth.username ?? '', auth.password ?? '').then(
            (accountId) => {
              if (!accountId) {
                log.info({ event: 'smtp.auth_failed', remote: session.remoteAddress }, 'SMTP authentication failed');
                return cb(smtpError({ code: 535, message: '5.7.8 Authentication credentials invalid' }));
              }
              cb(null, { user: accountId });
            },
            (err) => {
              log.error({ event: 'smtp.auth_error', err }, 'SMTP authentication failed with an error');
              cb(smtpError({ code: 454, message: '4.7.0 Temporary authentication failure' }));
            },
          );
        },
        onMailFrom(address, session, cb) {
          const accountId = accountOfSession(session);
          if (!accountId) return cb(smtpError({ code: 530, message: '5.7.0 Authentication required' }));
          if (!isAddress(address.address)) return cb(smtpError({ code: 550, message: '5.1.7 The envelope sender must be an address in a domain of your account' }));
          const domain = domainOf(address.address);
          resolveDomainForSending(ctx, accountId, domain).then(
            () => cb(),
            (err) => {
              if (err instanceof AppError && err.kind === 'forbidden') {
                return cb(smtpError({ code: 550, message: `5.7.1 Envelope sender domain ${domain} does not belong to your account: ${err.message}` }));
              }
              const r = replyForError(err);
              cb(smtpError(r));
            },
          );
        },
        onRcptTo(address, _session, cb) {
          if (!isAddress(address.address)) return cb(smtpError({ code: 553, message: '5.1.3 Bad recipient address syntax' }));
          cb();
        },
        onData,
      });
      server.on('error', (err) => log.warn({ event: 'smtp.error', err }, 'SMTP server error'));
      if (!greetWithoutDelay(server)) log.warn({ event: 'smtp.greeting_delay' }, 'smtp-server changed shape: every greeting waits its built-in 100 ms');
      await new Promise<void>((resolve, reject) => {
        server!.server.once('error', reject);
        server!.listen(config.smtpPort, config.host, () => {
          server!.server.off('error', reject);
          resolve();
        });
      });
      const addr = server.server.address();
      service.port = typeof addr === 'object' && addr ? addr.port : config.smtpPort;
      log.info({ event: 'smtp.listening', port: service.port, selfSignedCert: tls.selfSigned }, 'SMTP submission listening');
    },
    async stop() {
      const s = server;
      if (!s) return;
      server = undefined;
      await new Promise<void>((resolve) => s.close(() => resolve()));
      // Messages whose DATA ended just before close are committed before we say we are stopped.
      await acceptance.idle();
    },
  };
  return service;
}
