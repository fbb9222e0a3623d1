// The Matrix "standard error response" (content/client-server-api/_index.md § "Standard error
// response"): every API error is a JSON object with `errcode` and `error`, and some codes
// carry more keys (`retry_after_ms`, `soft_logout`, `room_version`, …). Handlers throw a
// MatrixError; the one error middleware in ./app.ts turns it into the response.

import type { JsonObject } from '../rooms/json.ts';

export class MatrixError extends Error {
  override name = 'MatrixError';
  /** HTTP status code. */
  readonly status: number;
  /** `M_…` (or a namespaced custom code). */
  readonly errcode: string;
  /** Keys added to the response body beside `errcode` and `error`. */
  readonly extra: JsonObject;
  /** Response headers (e.g. `Retry-After`). */
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    status: number,
    errcode: string,
    message: string,
    extra: JsonObject = {},
    headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.status = status;
    this.errcode = errcode;
    this.extra = extra;
    this.headers = headers;
  }

  /** The response body. `errcode` and `error` win over same-named keys in `extra`. */
  toJson(): JsonObject {
    return { ...this.extra, errcode: this.errcode, error: this.message };
  }
}

export function isMatrixError(error: unknown): error is MatrixError {
  return error instanceof MatrixError;
}

// Helpers for the codes most endpoints use, with the status codes the spec and Synapse use.

export function forbidden(message = 'Forbidden'): MatrixError {
  return new MatrixError(403, 'M_FORBIDDEN', message);
}

/** 401: the access token is not recognised; `softLogout` per § "Soft logout". */
export function unknownToken(message = 'Unrecognised access token', softLogout = false): MatrixError {
  return new MatrixError(401, 'M_UNKNOWN_TOKEN', message, softLogout ? { soft_logout: true } : {});
}

export function missingToken(message = 'Missing access token'): MatrixError {
  return new MatrixError(401, 'M_MISSING_TOKEN', message);
}

/** 401 for requests whose credentials are present but wrong (federation X-Matrix, logins). */
export function unauthorized(message = 'The request was not correctly authorised'): MatrixError {
  return new MatrixError(401, 'M_UNAUTHORIZED', message);
}

/** Valid JSON of the wrong shape: a missing key, a value of the wrong type. */
export function badJson(message: string): MatrixError {
  return new MatrixError(400, 'M_BAD_JSON', message);
}

export function notJson(message = 'Content not JSON'): MatrixError {
  return new MatrixError(400, 'M_NOT_JSON', message);
}

export function notFound(message = 'Not found'): MatrixError {
  return new MatrixError(404, 'M_NOT_FOUND', message);
}

/**
 * 429 with `Retry-After` (seconds, rounded up) and the deprecated `retry_after_ms`
 * (§ "Rate limiting": the header SHOULD be sent; the field MAY be).
 */
export function limitExceeded(retryAfterMs: number, message = 'Too many requests'): MatrixError {
  const ms = Math.max(0, Math.ceil(retryAfterMs));
  return new MatrixError(
    429,
    'M_LIMIT_EXCEEDED',
    message,
    { retry_after_ms: ms },
    { 'Retry-After': String(Math.ceil(ms / 1000)) },
  );
}

/** 404 for a path no endpoint serves; 405 (with `Allow`) for a known path and wrong method. */
export function unrecognized(status: 404 | 405, message: string, allow?: readonly string[]): MatrixError {
  const headers: Record<string, string> = allow === undefined ? {} : { Allow: allow.join(', ') };
  return new MatrixError(status, 'M_UNRECOGNIZED', message, {}, headers);
}

/** 500: the message reaches the client, so it must never hold internals. */
export function unknownError(message = 'Internal server error', status = 500): MatrixError {
  return new MatrixError(status, 'M_UNKNOWN', message);
}

export function tooLarge(message = 'Request body too large'): MatrixError {
  return new MatrixError(413, 'M_TOO_LARGE', message);
}

export function invalidParam(message: string): MatrixError {
  return new MatrixError(400, 'M_INVALID_PARAM', message);
}

export function missingParam(message: string): MatrixError {
  return new MatrixError(400, 'M_MISSING_PARAM', message);
}

export function unsupportedRoomVersion(roomVersion: string): MatrixError {
  return new MatrixError(400, 'M_UNSUPPORTED_ROOM_VERSION', `Room version ${JSON.stringify(roomVersion)} is not supported`);
}

/** The remote room's version is one this server cannot join (`room_version` per the spec). */
export function incompatibleRoomVersion(roomVersion: string): MatrixError {
  return new MatrixError(400, 'M_INCOMPATIBLE_ROOM_VERSION', `Room version ${JSON.stringify(roomVersion)} is not supported`, {
    room_version: roomVersion,
  });
}

export function userInUse(message = 'User ID already taken'): MatrixError {
  return new MatrixError(400, 'M_USER_IN_USE', message);
}

export function invalidUsername(message: string): MatrixError {
  return new MatrixError(400, 'M_INVALID_USERNAME', message);
}

export function roomInUse(message = 'Room alias already taken'): MatrixError {
  return new MatrixError(400, 'M_ROOM_IN_USE', message);
}

export function guestAccessForbidden(message = 'Guest access is not allowed'): MatrixError {
  return new MatrixError(403, 'M_GUEST_ACCESS_FORBIDDEN', message);
}

export function badState(message: string): MatrixError {
  return new MatrixError(400, 'M_BAD_STATE', message);
}

export function userDeactivated(message = 'This account has been deactivated'): MatrixError {
  return new MatrixError(403, 'M_USER_DEACTIVATED', message);
}
