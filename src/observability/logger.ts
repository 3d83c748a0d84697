// Structured JSON logs (pino). Secrets never reach a log line: known secret fields are redacted, and
// callers log ids, not tokens or credentials.
import pino, { type Logger } from 'pino';

export type { Logger };

// Lines logged by libraries (Fastify's "Server listening at ...") carry no event name; give the known ones
// a stable name and everything else `log.unnamed`, so that every line can be filtered by `event`.
const LIBRARY_MESSAGES: [RegExp, string][] = [[/^Server listening at /, 'http.listening']];

function withEvent(args: unknown[]): unknown[] {
  const first = args[0];
  if (first instanceof Error) return [{ event: 'log.unnamed', err: first }, ...args.slice(1)];
  if (typeof first === 'object' && first !== null) {
    return 'event' in first ? args : [{ event: 'log.unnamed', ...first }, ...args.slice(1)];
  }
  const msg = typeof first === 'string' ? first : '';
  const known = LIBRARY_MESSAGES.find(([re]) => re.test(msg));
  return [{ event: known ? known[1] : 'log.unnamed' }, ...args];
}

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'mailbeacon' },
      redact: {
        paths: ['password', '*.password', 'apiKey', '*.apiKey', 'secret', '*.secret', 'req.headers.authorization', 'req.headers.cookie', 'smtpPassword', '*.smtpPassword', 'token', '*.token'],
        censor: '[redacted]',
      },
      timestamp: pino.stdTimeFunctions.isoTime,
      hooks: {
        logMethod(args, method) {
          return method.apply(this, withEvent(args) as Parameters<typeof method>);
        },
      },
    },
    destination ?? pino.destination({ fd: 2, sync: false }),
  );
}
