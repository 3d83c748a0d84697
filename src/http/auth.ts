// Authentication for /api/v1: `Authorization: Bearer <apiKey>`. The dashboard's session cookie is a second
// way in (added by the dashboard module through `extraAuthenticators`).
import type { FastifyReply, FastifyRequest } from 'fastify';
import { authenticateApiKey } from '../accounts/account-service.ts';
import type { AppContext } from '../app-context.ts';
import { sendError } from './errors.ts';

export interface AuthInfo {
  accountId: string;
  /** 'api_key' or 'session' */
  via: string;
  userId?: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    auth?: AuthInfo;
  }
}

/** Another way to authenticate (session cookie); returns undefined to let the next one try. */
export type Authenticator = (req: FastifyRequest, reply: FastifyReply) => Promise<AuthInfo | undefined>;

export function apiAuthHook(ctx: AppContext, extra: Authenticator[]) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const header = req.headers.authorization;
    if (header) {
      const m = /^Bearer\s+(\S+)$/i.exec(header);
      const accountId = m ? await authenticateApiKey(ctx.store, m[1]) : undefined;
      if (!accountId) return sendError(reply, 401, 'unauthorized', 'invalid or revoked API key');
      req.auth = { accountId, via: 'api_key' };
      return;
    }
    for (const a of extra) {
      const info = await a(req, reply);
      if (reply.sent) return;
      if (info) {
        req.auth = info;
        return;
      }
    }
    return sendError(reply, 401, 'unauthorized', 'send Authorization: Bearer <apiKey>');
  };
}

/** The authenticated account of a /api/v1 request (the hook guarantees it). */
export function accountOf(req: FastifyRequest): string {
  if (!req.auth) throw new Error('route is not behind the API auth hook');
  return req.auth.accountId;
}
