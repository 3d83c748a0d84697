// Domain errors carry a stable code; the HTTP and SMTP adapters map them to statuses and replies at the
// edge, so domain code never throws transport errors.
export type ErrorKind = 'invalid' | 'unauthorized' | 'forbidden' | 'not_found' | 'conflict' | 'too_large' | 'rate_limited' | 'unavailable';

export class AppError extends Error {
  constructor(
    readonly kind: ErrorKind,
    readonly code: string,
    message: string,
    /** Per-field problems for 'invalid' (422): field path → message. */
    readonly fields?: Record<string, string>,
  ) {
    super(message);
    this.name = 'AppError';
  }
}

export const notFound = (what: string) => new AppError('not_found', 'not_found', `${what} not found`);
export const invalid = (message: string, fields?: Record<string, string>) => new AppError('invalid', 'invalid_request', message, fields);
export const conflict = (code: string, message: string) => new AppError('conflict', code, message);

export const httpStatusOf: Record<ErrorKind, number> = {
  invalid: 422,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  too_large: 413,
  rate_limited: 429,
  unavailable: 503,
};
