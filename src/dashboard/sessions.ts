// Dashboard sessions: log in with email + password (scrypt), a random token in an HttpOnly cookie, its
// SHA-256 as the row id, a CSRF token per session that state-changing requests must echo in X-CSRF-Token.
import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../app-context.ts';
import type { AuthInfo, Authenticator } from '../http/auth.ts';
import { sendError } from '../http/errors.ts';
import { AppError } from '../domain/errors.ts';
import { hashPassword, randomToken, sha256Hex, verifyPassword } from '../domain/secrets.ts';
import type { SessionsTable } from '../store/schema.ts';
import { SlidingWindowLimiter } from './rate-limit.ts';

export const CSRF_HEADER = 'x-csrf-token';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

declare module 'fastify' {
  interface FastifyRequest {
    /** The dashboard session when the request was authenticated by cookie. */
    session?: SessionsTable;
  }
}

/** Under https the cookie is Secure and gets the __Host- prefix (no Domain, Path=/, Secure enforced by browsers). */
export function cookieName(ctx: AppContext): string {
  return isSecure(ctx) ? '__Host-mb_session' : 'mb_session';
}

function isSecure(ctx: AppContext): boolean {
  return ctx.config.publicUrl.startsWith('https:');
}

export function sessionCookie(ctx: AppContext, token: string, maxAgeSeconds: number): string {
  const parts = [`${cookieName(ctx)}=${token}`, 'Path=/', 'HttpOnly', 'SameSite=Lax', `Max-Age=${maxAgeSeconds}`];
  if (isSecure(ctx)) parts.push('Secure');
  return parts.join('; ');
}

export function readCookie(req: FastifyRequest, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

// Verifying against this keeps an unknown email as slow as a wrong password (no user enumeration by timing).
let dummyHash: Promise<string> | undefined;

export class SessionService {
  private readonly byIp: SlidingWindowLimiter;
  private readonly byEmail: SlidingWindowLimiter;
  private readonly attempts;

  constructor(private readonly ctx: AppContext) {
    const windowMs = ctx.config.loginWindowSeconds * 1000;
    this.byIp = new SlidingWindowLimiter(ctx.config.loginMaxAttempts, windowMs);
    this.byEmail = new SlidingWindowLimiter(ctx.config.loginMaxAttempts, windowMs);
    this.attempts = ctx.metrics.counter('mailbeacon_dashboard_logins_total', 'Dashboard login attempts by result', ['result']);
  }

  get ttlMs(): number {
    return this.ctx.config.sessionTtlHours * 3600_000;
  }

  /** Checks the password and opens a session; throws 429 when rate-limited and 401 when wrong. */
  async login(emailIn: string, password: string, ip: string): Promise<{ token: string; session: SessionsTable }> {
    const { store, clock } = this.ctx;
    const email = emailIn.trim().toLowerCase();
    const now = clock.now();
    const wait = Math.max(this.byIp.retryAfter(ip, now), this.byEmail.retryAfter(email, now));
    if (wait > 0) {
      this.attempts.inc({ result: 'rate_limited' });
      this.ctx.log.warn({ event: 'dashboard.login_rate_limited', ip }, 'login rate-limited');
      throw Object.assign(new AppError('rate_limited', 'rate_limited', `too many login attempts; try again in ${Math.ceil(wait / 1000)} s`), { retryAfterSeconds: Math.ceil(wait / 1000) });
    }
    const user = await store.accounts.userByEmail(email);
    const ok = user ? await verifyPassword(password, user.passwordHash) : (await verifyPassword(password, await (dummyHash ??= hashPassword(randomToken())))) && false;
    if (!user || !ok) {
      this.byIp.hit(ip, now);
      this.byEmail.hit(email, now);
      this.attempts.inc({ result: 'failed' });
      this.ctx.log.info({ event: 'dashboard.login_failed', ip }, 'login failed');
      throw new AppError('unauthorized', 'invalid_credentials', 'wrong email or password');
    }
    this.byEmail.reset(email);
    await store.sessions.deleteExpired(now);
    const token = randomToken(32);
    const session: SessionsTable = { id: sha256Hex(token), userId: user.id, accountId: user.accountId, csrfToken: randomToken(24), createdAt: now, expiresAt: now + this.ttlMs };
    await store.sessions.insert(session);
    this.attempts.inc({ result: 'ok' });
    this.ctx.log.info({ event: 'dashboard.login', userId: user.id, accountId: user.accountId }, 'logged in');
    return { token, session };
  }

  /** The live session of this request's cookie, if any. */
  async fromRequest(req: FastifyRequest): Promise<SessionsTable | undefined> {
    const token = readCookie(req, cookieName(this.ctx));
    if (!token || token.length > 200) return undefined;
    return this.ctx.store.sessions.get(sha256Hex(token), this.ctx.clock.now());
  }

  /** True when a state-changing request carries the session's CSRF token. */
  csrfOk(req: FastifyRequest, session: SessionsTable): boolean {
    if (SAFE_METHODS.has(req.method)) return true;
    const sent = req.headers[CSRF_HEADER];
    return typeof sent === 'string' && sameSecret(sent, session.csrfToken);
  }

  async changePassword(session: SessionsTable, current: string, next: string): Promise<void> {
    const user = await this.ctx.store.accounts.userById(session.userId);
    if (!user || !(await verifyPassword(current, user.passwordHash))) throw new AppError('invalid', 'invalid_request', 'the current password is wrong', { currentPassword: 'wrong password' });
    if (next.length < 8) throw new AppError('invalid', 'invalid_request', 'the new password must be at least 8 characters', { newPassword: 'at least 8 characters' });
    await this.ctx.store.accounts.setUserPassword(user.id, await hashPassword(next));
    // Other browsers logged in as this user are logged out; this one stays.
    await this.ctx.store.sessions.deleteForUser(user.id, session.id);
    this.ctx.log.info({ event: 'dashboard.password_changed', userId: user.id }, 'password changed');
  }

  /** The /api/v1 authenticator: a session cookie, plus the CSRF header on anything but GET/HEAD/OPTIONS. */
  authenticator(): Authenticator {
    return async (req: FastifyRequest, reply: FastifyReply): Promise<AuthInfo | undefined> => {
      const session = await this.fromRequest(req);
      if (!session) return undefined;
      if (!this.csrfOk(req, session)) {
        sendError(reply, 403, 'csrf_failed', `state-changing requests made with the dashboard session must send the session's CSRF token in X-CSRF-Token`);
        return undefined;
      }
      req.session = session;
      return { accountId: session.accountId, via: 'session', userId: session.userId };
    };
  }
}
