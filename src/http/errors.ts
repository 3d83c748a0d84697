// Maps errors to the one JSON error shape {"error":{"code","message"[,"fields"]}} at the HTTP edge.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, httpStatusOf } from '../domain/errors.ts';
import { isStoreUnavailable } from '../store/store-errors.ts';

export function sendError(reply: FastifyReply, status: number, code: string, message: string, fields?: Record<string, string>) {
  return reply.code(status).type('application/json').send({ error: { code, message, ...(fields ? { fields } : {}) } });
}

export function errorHandler(err: FastifyError | AppError | Error, req: FastifyRequest, reply: FastifyReply) {
  if (err instanceof AppError) return sendError(reply, httpStatusOf[err.kind], err.code, err.message, err.fields);
  const fe = err as FastifyError;
  if (fe.validation) {
    const fields: Record<string, string> = {};
    for (const v of fe.validation) {
      const p = (v.instancePath || '').replace(/^\//, '').replace(/\//g, '.');
      const missing = (v.params as any)?.missingProperty;
      const key = [p, missing].filter(Boolean).join('.') || fe.validationContext || 'body';
      fields[key] = v.message ?? 'invalid';
    }
    return sendError(reply, 422, 'invalid_request', 'the request is not valid', fields);
  }
  if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return sendError(reply, 413, 'too_large', 'the request body is too large');
  if (fe.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return sendError(reply, 415, 'unsupported_media_type', 'send application/json');
  if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) return sendError(reply, fe.statusCode, 'bad_request', fe.message);
  if (isStoreUnavailable(err)) {
    req.log.warn({ event: 'http.store_unavailable', err }, 'store unavailable');
    reply.header('retry-after', '5');
    return sendError(reply, 503, 'unavailable', 'the store is unavailable, try again');
  }
  req.log.error({ err, event: 'http.unhandled_error' }, 'unhandled error');
  return sendError(reply, 500, 'internal', 'internal error');
}
