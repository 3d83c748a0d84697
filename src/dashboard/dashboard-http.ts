// The dashboard: the web app at / (static files, no build step), session login at /auth/*, the session
// cookie as a second way into /api/v1 (with CSRF), and the few API routes only the dashboard needs
// (password change, live events).
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { HttpFeature } from '../http/http-feature.ts';
import type { AppContext } from '../app-context.ts';
import { AppError, notFound } from '../domain/errors.ts';
import { accountOf } from '../http/auth.ts';
import { sendError } from '../http/errors.ts';
import { SessionService, sessionCookie } from './sessions.ts';
import { LiveHub } from './live.ts';
import { loadAssets, SECURITY_HEADERS, type Asset } from './static.ts';
import type { SessionsTable } from '../store/schema.ts';

// One SessionService / LiveHub per app context (a test process may run several servers).
const services = new WeakMap<AppContext, { sessions: SessionService; live: LiveHub }>();
function servicesOf(ctx: AppContext) {
  let s = services.get(ctx);
  if (!s) services.set(ctx, (s = { sessions: new SessionService(ctx), live: new LiveHub(ctx) }));
  return s;
}

const TIMELINE_LIMIT = 1000;

function parseJson(v: string | null): unknown {
  if (v == null) return null;
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}

let assets: Map<string, Asset> | undefined;

function sendAsset(req: FastifyRequest, reply: FastifyReply, a: Asset | undefined) {
  if (!a) return sendError(reply, 404, 'not_found', 'no such file');
  reply.headers(SECURITY_HEADERS).header('etag', a.etag).header('cache-control', 'no-cache');
  if (req.headers['if-none-match'] === a.etag) return reply.code(304).send();
  return reply.type(a.type).send(a.body);
}

async function whoami(ctx: AppContext, s: SessionsTable) {
  const [user, account] = await Promise.all([ctx.store.accounts.userById(s.userId), ctx.store.accounts.get(s.accountId)]);
  return {
    user: { id: s.userId, email: user?.email ?? '' },
    account: { id: s.accountId, name: account?.name ?? '', sendingMode: account?.sendingMode ?? 'verified' },
    csrfToken: s.csrfToken,
    expiresAt: new Date(s.expiresAt).toISOString(),
  };
}

const whoamiSchema = {
  type: 'object',
  properties: {
    authenticated: { type: 'boolean' },
    user: { type: 'object', properties: { id: { type: 'string' }, email: { type: 'string' } } },
    account: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' }, sendingMode: { type: 'string' } } },
    csrfToken: { type: 'string' },
    expiresAt: { type: 'string' },
  },
};

export const dashboardFeature: HttpFeature = {
  name: 'dashboard',

  authenticators(ctx) {
    return [servicesOf(ctx).sessions.authenticator()];
  },

  api(api, ctx) {
    const { sessions, live } = servicesOf(ctx);

    api.post<{ Body: { currentPassword: string; newPassword: string } }>(
      '/account/password',
      {
        schema: {
          tags: ['account'],
          summary: 'Change the dashboard password of the logged-in user (session only); logs out the other sessions',
          body: { type: 'object', required: ['currentPassword', 'newPassword'], additionalProperties: false, properties: { currentPassword: { type: 'string', maxLength: 1024 }, newPassword: { type: 'string', maxLength: 1024 } } },
        },
      },
      async (req, reply) => {
        if (!req.session) throw new AppError('forbidden', 'session_required', 'the password is changed from a dashboard session, not with an API key');
        await sessions.changePassword(req.session, req.body.currentPassword, req.body.newPassword);
        return reply.code(204).send();
      },
    );

    api.get<{ Params: { id: string } }>(
      '/messages/:id/timeline',
      { schema: { tags: ['messages'], summary: 'Every event of a message, oldest first: accepted, delivered, opens (client, place, human or machine), clicks (which link)', params: { type: 'object', properties: { id: { type: 'string', maxLength: 64 } } } } },
      async (req) => {
        const accountId = accountOf(req);
        const db = ctx.store.db.kysely;
        const m = await db.selectFrom('messages').select(['id']).where('id', '=', req.params.id).where('accountId', '=', accountId).executeTakeFirst();
        if (!m) throw notFound('message');
        // Through the message's copies: events are indexed by (copy_id, type), not by message.
        const copies = (await db.selectFrom('messageCopies').select('id').where('messageId', '=', m.id).where('accountId', '=', accountId).execute()).map((c) => c.id);
        const rows = copies.length
          ? await db.selectFrom('events').selectAll().where('accountId', '=', accountId).where('copyId', 'in', copies).orderBy('id').limit(TIMELINE_LIMIT).execute()
          : [];
        return {
          data: rows.map((e) => ({
            id: Number(e.id), type: e.type, at: new Date(Number(e.createdAt)).toISOString(), copyId: e.copyId, recipient: e.recipient,
            linkIndex: e.linkIndex, url: e.url, ip: e.ip, userAgent: e.userAgent, clientName: e.clientName, clientVersion: e.clientVersion,
            os: e.os, device: e.device, classification: e.classification, reason: e.reason, isFirst: !!e.isFirst, data: parseJson(e.data),
          })),
          truncated: rows.length === TIMELINE_LIMIT,
        };
      },
    );

    api.get<{ Querystring: { ids: string } }>(
      '/copies/activity',
      {
        schema: {
          tags: ['messages'],
          summary: 'Opens and clicks per recipient copy (comma list of copy ids, at most 500): the messages list shows them beside each recipient',
          querystring: { type: 'object', required: ['ids'], properties: { ids: { type: 'string', maxLength: 500 * 40 } } },
        },
      },
      async (req) => {
        const accountId = accountOf(req);
        const ids = [...new Set(req.query.ids.split(',').map((x) => x.trim()).filter(Boolean))];
        if (ids.length > 500) throw new AppError('invalid', 'invalid_request', 'at most 500 ids', { ids: 'at most 500' });
        const data: Record<string, { opens: number; humanOpens: number; clicks: number }> = {};
        for (const id of ids) data[id] = { opens: 0, humanOpens: 0, clicks: 0 };
        if (!ids.length) return { data };
        const rows = await ctx.store.db.kysely
          .selectFrom('events')
          .select(['copyId', 'type', 'classification', (eb) => eb.fn.countAll<number>().as('n')])
          .where('accountId', '=', accountId)
          .where('copyId', 'in', ids)
          .where('type', 'in', ['open', 'click'])
          .groupBy(['copyId', 'type', 'classification'])
          .execute();
        for (const r of rows) {
          const a = data[r.copyId!];
          if (!a) continue;
          const n = Number(r.n);
          if (r.type === 'click') a.clicks += n;
          else {
            a.opens += n;
            if (r.classification === 'human') a.humanOpens += n;
          }
        }
        return { data };
      },
    );

    api.get('/live', { config: { quiet: true }, schema: { tags: ['events'], summary: 'New events of the account as Server-Sent Events (open, click, delivered, ...)' } }, async (req, reply) => {
      await live.subscribe(accountOf(req), reply);
    });
  },

  root(app, ctx, opts) {
    // Tracking-only nodes do not serve the dashboard.
    if (!opts.apiEnabled) return;
    const { sessions, live } = servicesOf(ctx);
    assets ??= loadAssets();
    const files = assets;
    app.addHook('preClose', async () => live.close());

    app.get('/', { schema: { hide: true } }, async (req, reply) => sendAsset(req, reply, files.get('index.html')));
    app.get<{ Params: { '*': string } }>('/assets/*', { schema: { hide: true }, config: { quiet: true } }, async (req, reply) => sendAsset(req, reply, files.get(req.params['*'])));

    app.post<{ Body: { email: string; password: string } }>(
      '/auth/login',
      {
        schema: {
          tags: ['dashboard'],
          summary: 'Log in to the dashboard: sets the session cookie and returns the CSRF token',
          body: { type: 'object', required: ['email', 'password'], additionalProperties: false, properties: { email: { type: 'string', minLength: 1, maxLength: 320 }, password: { type: 'string', minLength: 1, maxLength: 1024 } } },
          response: { 200: whoamiSchema },
        },
      },
      async (req, reply) => {
        try {
          const { token, session } = await sessions.login(req.body.email, req.body.password, req.ip);
          reply.header('set-cookie', sessionCookie(ctx, token, Math.floor(sessions.ttlMs / 1000)));
          reply.header('cache-control', 'no-store');
          return await whoami(ctx, session);
        } catch (e: any) {
          if (e?.retryAfterSeconds) reply.header('retry-after', String(e.retryAfterSeconds));
          throw e;
        }
      },
    );

    // 200 either way (a 401 here would be a console error on every visit of the login page).
    app.get('/auth/session', { schema: { tags: ['dashboard'], summary: 'The logged-in user, account and CSRF token, or {authenticated:false}', response: { 200: whoamiSchema } } }, async (req, reply) => {
      const s = await sessions.fromRequest(req);
      reply.header('cache-control', 'no-store');
      if (!s) return { authenticated: false };
      return { authenticated: true, ...(await whoami(ctx, s)) };
    });

    app.post('/auth/logout', { schema: { tags: ['dashboard'], summary: 'Log out (needs X-CSRF-Token)' } }, async (req, reply) => {
      const s = await sessions.fromRequest(req);
      if (s) {
        if (!sessions.csrfOk(req, s)) return sendError(reply, 403, 'csrf_failed', 'send the session\'s CSRF token in X-CSRF-Token');
        await ctx.store.sessions.delete(s.id);
      }
      reply.header('set-cookie', sessionCookie(ctx, '', 0));
      return reply.code(204).send();
    });
  },
};
