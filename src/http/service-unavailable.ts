// Whether an error means "the database is unreachable right now" rather than a bug: the
// server restarted, the network dropped, the pool could not connect in time. Such a request
// may well succeed if repeated, so the client gets 503 with Retry-After, not a 500. Duck
// typed on what pg and node:net raise, since http may not depend on storage's driver.

/** SQLSTATEs of a lost or refused connection (PostgreSQL Appendix A: class 08, 57P0x, 53300). */
const UNAVAILABLE_SQLSTATES = /^(08[0-9A-Z]{3}|57P0[1-3]|53300)$/;
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
const RAW_NAMES = new Set(['Error', 'error', 'DatabaseError', 'AggregateError']);
/** pg and pg-pool raise these as plain Errors without a code. */
const DRIVER_MESSAGES = [
  'Connection terminated unexpectedly',
  'Connection terminated due to connection timeout',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error and is not queryable',
  'Client was closed and is not queryable',
];

export function isDatabaseUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  // A typed error from elsewhere (a federation request, say) carries its own meaning even
  // when its cause is a reset socket; only raw driver and socket errors qualify.
  // (pg's DatabaseError is named after the protocol message: 'error'.)
  if (!RAW_NAMES.has(error.name)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (UNAVAILABLE_SQLSTATES.test(code) || SOCKET_CODES.has(code))) return true;
  if (error instanceof AggregateError) return error.errors.length > 0 && error.errors.every(isDatabaseUnavailable);
  return DRIVER_MESSAGES.some((message) => error.message.startsWith(message));
}

/** Seconds a client should wait before retrying a request that met an unreachable database. */
export const DATABASE_RETRY_AFTER_SECONDS = 2;

/**
 * Whether a write failed because the disk (or the user's filesystem quota) is full: the
 * request was fine, the server cannot take it now. Answered 507 rather than 500.
 */
export function isStorageFull(error: unknown): boolean {
  for (let cause = error, depth = 0; cause instanceof Error && depth < 8; cause = cause.cause, depth++) {
    const code = (cause as { code?: unknown }).code;
    if (code === 'ENOSPC' || code === 'EDQUOT') return true;
  }
  return false;
}
