// Whether an error means "the store cannot be used right now" (PostgreSQL unreachable or restarting, the
// SQLite file full or read-only) rather than a bug: the HTTP edge answers 503 and SMTP a 4xx for these,
// so clients retry instead of treating the request as broken.
const PG_CODES = /^(08|57P0|53)/; // connection exceptions, admin/crash shutdown and cannot-connect-now, insufficient resources
const NET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
const SQLITE_CODES = /^SQLITE_(FULL|READONLY|IOERR|CANTOPEN|BUSY|LOCKED|NOMEM|PROTOCOL)/;

export function isStoreUnavailable(err: unknown): boolean {
  for (let e = err as any, depth = 0; e && depth < 5; e = e.cause, depth++) {
    if (e.storeUnavailable) return true;
    const code = typeof e.code === 'string' ? e.code : '';
    if (NET_CODES.has(code) || SQLITE_CODES.test(code) || (/^[0-9A-Z]{5}$/.test(code) && PG_CODES.test(code))) return true;
    const msg = typeof e.message === 'string' ? e.message : '';
    if (/Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|database is locked|disk is full|readonly database|disk I\/O error/i.test(msg)) return true;
    if (Array.isArray(e.errors) && e.errors.some((x: unknown) => isStoreUnavailable(x))) return true;
  }
  return false;
}
