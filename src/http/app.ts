// Builds a koa app for one listener (client or federation) from endpoint descriptors. Every
// request goes through the same middleware:
//   scope (request id, child logger, timing → metrics + one log line)
//   → CORS headers → error responses (the only place errors become HTTP)
//   → OPTIONS preflight → router (auth → rate limit → body → validate → handler)
//   → 404 / 405 M_UNRECOGNIZED for what the router did not take.

import { randomUUID } from 'node:crypto';
import Router, { type RouterMiddleware } from '@koa/router';
import Koa, { type Context, type Middleware, type Next } from 'koa';
import type { Logger } from '../logger.ts';
import { isJsonObject, type JsonObject } from '../rooms/json.ts';
import { BodyValidators, type BodyValidator } from './body-validator.ts';
import {
  HttpResponse,
  type AccessTokenVerifier,
  type Endpoint,
  type EndpointRequest,
  type FederationAuthenticator,
  type FederationOrigin,
  type GuestPolicy,
  type RateLimiter,
  type Requester,
} from './define-endpoint.ts';
import {
  badJson,
  guestAccessForbidden,
  invalidParam,
  isMatrixError,
  limitExceeded,
  MatrixError,
  missingToken,
  unauthorized,
  unknownError,
  unknownToken,
  unrecognized,
} from './matrix-error.ts';
import { UNMATCHED_ROUTE, type HttpMetrics, type ListenerName } from './metrics.ts';
import { parseJsonObjectBody, readRequestBody, RequestAbortedError } from './request-body.ts';
import { DATABASE_RETRY_AFTER_SECONDS, isDatabaseUnavailable, isStorageFull } from './service-unavailable.ts';

/** What every request's `ctx.state` holds once the scope middleware has run. */
export interface StoaState {
  requestId: string;
  log: Logger;
  /** The endpoint's path template, once routed. */
  route?: string;
  /** The body text as received, once read. */
  rawBody?: string;
}

export interface AppOptions {
  readonly listener: ListenerName;
  readonly endpoints: readonly Endpoint[];
  readonly logger: Logger;
  readonly metrics: HttpMetrics;
  /** Largest JSON body accepted, in bytes (config `max_request_body_bytes`). */
  readonly maxBodyBytes: number;
  /** Unset: no token is recognised (every `required` endpoint answers M_UNKNOWN_TOKEN). */
  readonly accessTokens?: AccessTokenVerifier;
  /** Unset: every `federation` endpoint answers 401 M_UNAUTHORIZED. */
  readonly federationAuth?: FederationAuthenticator;
  readonly rateLimiter?: RateLimiter;
  /** Unset: guests may call every endpoint a token opens. */
  readonly guestAccess?: GuestPolicy;
}

/** Client-server § "Web Browser Clients": the recommended headers, on every response. */
export const CORS_HEADERS: Readonly<Record<string, string>> = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'GET, POST, PUT, DELETE, OPTIONS',
  'Access-Control-Allow-Headers': 'X-Requested-With, Content-Type, Authorization',
};

const NO_TOKENS: AccessTokenVerifier = { verify: () => Promise.resolve(undefined) };

export function buildApp(options: AppOptions): Koa<StoaState> {
  const app = new Koa<StoaState>();
  // The error middleware answers every error; what reaches koa's handler is a failure while
  // writing a response (a client that went away), worth a debug line only.
  app.silent = true;
  app.on('error', (error: unknown) => options.logger.debug({ err: error }, 'response stream error'));

  const router = new Router<StoaState>();
  const validators = new BodyValidators();
  const seen = new Set<string>();
  for (const endpoint of options.endpoints) {
    const key = `${endpoint.method} ${endpoint.path}`;
    if (seen.has(key)) throw new Error(`two endpoints for ${key} on the ${options.listener} listener`);
    seen.add(key);
    router.register(endpoint.path, [endpoint.method], routeMiddleware(endpoint, options, validators));
  }

  const routeTemplate = (ctx: Context): string => {
    const layers = router.match(ctx.path, ctx.method).path;
    const first = layers[0];
    return first === undefined ? UNMATCHED_ROUTE : String(first.path);
  };

  app.use(scopeMiddleware(options));
  app.use(corsMiddleware);
  app.use(errorMiddleware);
  app.use(async (ctx, next) => {
    // "The server MUST NOT perform any logic defined for the endpoints when approached with
    // an OPTIONS request": answer the preflight for any path, known or not.
    if (ctx.method === 'OPTIONS') {
      ctx.state.route = routeTemplate(ctx);
      ctx.status = 204;
      return;
    }
    await next();
  });
  app.use(router.routes());
  app.use((ctx) => {
    // Reached only when no route took the request.
    const allowed = new Set<string>();
    for (const layer of router.match(ctx.path, ctx.method).path) {
      for (const method of layer.methods) allowed.add(method);
    }
    if (allowed.size === 0) throw unrecognized(404, 'Unrecognized request');
    ctx.state.route = routeTemplate(ctx);
    allowed.add('OPTIONS');
    throw unrecognized(405, `Method ${ctx.method} is not allowed for this endpoint`, [...allowed]);
  });
  return app;
}

function scopeMiddleware(options: AppOptions): Middleware<StoaState> {
  return async (ctx, next) => {
    const started = process.hrtime.bigint();
    // Read while the socket is attached: once a client disconnects, koa's ctx.ip throws.
    const ip = peerAddress(ctx);
    ctx.state.requestId = randomUUID();
    ctx.state.log = options.logger.child({ listener: options.listener, request_id: ctx.state.requestId });
    try {
      await next();
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const route = ctx.state.route ?? UNMATCHED_ROUTE;
      options.metrics.observe(options.listener, ctx.method, route, ctx.status, seconds);
      // The path only: the query may hold an access token.
      ctx.state.log.info(
        { method: ctx.method, path: ctx.path, route, status: ctx.status, duration_ms: Math.round(seconds * 1e4) / 10, ip },
        'request',
      );
    }
  };
}

const corsMiddleware: Middleware<StoaState> = async (ctx, next) => {
  ctx.set(CORS_HEADERS);
  await next();
};

async function errorMiddleware(ctx: Context & { state: StoaState }, next: Next): Promise<void> {
  try {
    await next();
  } catch (error) {
    const matrixError = toMatrixError(error, ctx.state.log);
    ctx.status = matrixError.status;
    ctx.set(matrixError.headers);
    if (matrixError.errcode === 'M_TOO_LARGE' || matrixError.status === 507 || error instanceof RequestAbortedError) {
      // The rest of the body is being discarded; do not reuse the connection for another request.
      ctx.set('Connection', 'close');
    }
    sendJson(ctx, matrixError.toJson());
  }
}

function toMatrixError(error: unknown, log: Logger): MatrixError {
  if (isMatrixError(error)) {
    if (error.status >= 500) log.error({ err: error }, 'request failed');
    return error;
  }
  if (error instanceof RequestAbortedError) {
    log.debug({ err: error }, 'client went away mid-request');
    return new MatrixError(400, 'M_UNKNOWN', 'Request body incomplete');
  }
  if (isExposedClientError(error)) {
    // koa's own `ctx.throw`/http-errors for a client mistake (e.g. a malformed header).
    return new MatrixError(error.status, 'M_UNKNOWN', error.message);
  }
  if (isStorageFull(error)) {
    log.error({ err: error }, 'storage full');
    return new MatrixError(507, 'M_UNKNOWN', 'The server has no storage space left for this request');
  }
  if (isDatabaseUnavailable(error)) {
    log.warn({ err: error }, 'database unavailable');
    return new MatrixError(503, 'M_UNKNOWN', 'The server cannot reach its database; try again shortly', {}, {
      'Retry-After': String(DATABASE_RETRY_AFTER_SECONDS),
    });
  }
  // Anything else is a bug: logged with its stack, answered without one.
  log.error({ err: error }, 'unhandled error');
  return unknownError();
}

function isExposedClientError(error: unknown): error is Error & { status: number } {
  if (!(error instanceof Error)) return false;
  const { status, expose } = error as Error & { status?: unknown; expose?: unknown };
  return expose === true && typeof status === 'number' && status >= 400 && status < 500;
}

function sendJson(ctx: Context, body: JsonObject): void {
  ctx.body = JSON.stringify(body);
  ctx.type = 'application/json';
}

function routeMiddleware(endpoint: Endpoint, options: AppOptions, validators: BodyValidators): RouterMiddleware<StoaState> {
  const validate: BodyValidator | undefined = endpoint.body === undefined ? undefined : validators.compile(endpoint.body.schema);
  const accessTokens = options.accessTokens ?? NO_TOKENS;

  return async (ctx) => {
    ctx.state.route = endpoint.path;
    let content: JsonObject | undefined;
    let auth: Requester | FederationOrigin | undefined;
    if (endpoint.auth === 'federation') {
      // X-Matrix signs the body, so it is read before authentication.
      content = await readJsonBody(ctx, options.maxBodyBytes, true);
      auth = await authenticateFederation(ctx, options.federationAuth, content);
    } else {
      auth = await authenticateClient(ctx, endpoint.auth, accessTokens);
      if (auth?.isGuest === true && options.guestAccess !== undefined && !options.guestAccess(endpoint.operationId, ctx.params)) {
        throw guestAccessForbidden();
      }
    }
    // Before reading a client body: a limited client should not cost us its upload.
    enforceRateLimit(ctx, endpoint, options.rateLimiter, auth);
    let body: JsonObject | undefined;
    if (validate !== undefined) {
      if (endpoint.auth === 'federation') {
        body = content ?? {};
      } else {
        body = await readJsonBody(ctx, options.maxBodyBytes, false);
        rejectNulEscapes(ctx.state.rawBody);
      }
      validate(body);
    }

    const query = new URLSearchParams(ctx.querystring);
    rejectNulCharacters(ctx.params, query);
    const request: EndpointRequest<unknown, unknown> = {
      params: ctx.params,
      query,
      body,
      rawBody: ctx.state.rawBody,
      auth,
      log: ctx.state.log,
      ctx,
    };
    const result = await endpoint.handler(request);
    writeResult(ctx, result);
  };
}

/**
 * No identifier, event type, state key or query value in Matrix may hold U+0000, and the
 * database cannot store one in a text column: refuse it here, once, for every endpoint,
 * rather than as a storage error deep in a handler.
 */
function rejectNulCharacters(params: Readonly<Record<string, string>>, query: URLSearchParams): void {
  for (const [name, value] of Object.entries(params)) {
    if (value.includes('\u0000')) throw invalidParam(`Path parameter ${name} contains a NUL character`);
  }
  for (const [name, value] of query) {
    if (name.includes('\u0000') || value.includes('\u0000')) throw invalidParam('Query parameter contains a NUL character');
  }
}

// A `\u0000` escape preceded by an even number of backslashes (an odd number would make it
// the text "\u0000" after an escaped backslash).
const NUL_ESCAPE = /(?<!\\)(?:\\\\)*\\u0000/i;

/**
 * Client bodies: U+0000 in any string is refused (M_BAD_JSON). Handlers store fields such
 * as algorithms, display names and device names in text columns, which cannot hold it;
 * checking the raw text once here is simpler and cheaper than every handler checking its
 * fields. (Raw NUL bytes are already invalid JSON.)
 */
function rejectNulEscapes(rawBody: string | undefined): void {
  if (rawBody !== undefined && rawBody.includes('0000') && NUL_ESCAPE.test(rawBody)) {
    throw badJson('Strings in the request body may not contain U+0000');
  }
}

/**
 * Reads and parses the body. With `onlyIfPresent`, a request without a body (a federation
 * GET) gives undefined rather than `{}`.
 */
async function readJsonBody(ctx: Context & { state: StoaState }, limit: number, onlyIfPresent: boolean): Promise<JsonObject | undefined> {
  const bytes = await readRequestBody(ctx.req, limit);
  if (onlyIfPresent && bytes.length === 0) return undefined;
  const parsed = parseJsonObjectBody(bytes);
  ctx.state.rawBody = parsed.text;
  return parsed.value;
}

/** Client-server § "Using access tokens": the `Authorization: Bearer` header, else `?access_token=`. */
function accessTokenOf(ctx: Context): string | undefined {
  const header = ctx.get('Authorization');
  if (header !== '') {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    return match?.[1];
  }
  const fromQuery = ctx.query['access_token'];
  return typeof fromQuery === 'string' && fromQuery !== '' ? fromQuery : undefined;
}

async function authenticateClient(
  ctx: Context,
  mode: 'none' | 'optional' | 'required',
  verifier: AccessTokenVerifier,
): Promise<Requester | undefined> {
  if (mode === 'none') return undefined;
  const token = accessTokenOf(ctx);
  if (token === undefined) {
    if (mode === 'optional') return undefined;
    throw missingToken();
  }
  const requester = await verifier.verify(token, new URLSearchParams(ctx.querystring));
  if (requester === undefined) throw unknownToken();
  return requester;
}

async function authenticateFederation(
  ctx: Context,
  authenticator: FederationAuthenticator | undefined,
  content: JsonObject | undefined,
): Promise<FederationOrigin> {
  if (authenticator === undefined) throw unauthorized('Federation request authentication is not available');
  const header = ctx.req.headersDistinct['authorization'] ?? [];
  return authenticator.authenticate({
    method: ctx.method,
    uri: ctx.originalUrl,
    authorization: header,
    content,
    rawBody: (ctx.state as StoaState).rawBody,
  });
}

/** The rate-limit bucket of signed federation requests (config `rate_limits.federation`). */
export const FEDERATION_BUCKET = 'federation';

function enforceRateLimit(
  ctx: Context,
  endpoint: Endpoint,
  limiter: RateLimiter | undefined,
  auth: Requester | FederationOrigin | undefined,
): void {
  if (limiter === undefined) return;
  // Every request a server signs counts against its origin's `federation` bucket unless the
  // endpoint names one, so one peer cannot monopolise the federation listener.
  const bucket = endpoint.rateLimit ?? (auth !== undefined && !('userId' in auth) ? FEDERATION_BUCKET : undefined);
  if (bucket === undefined) return;
  const key = auth === undefined ? `ip:${peerAddress(ctx)}` : 'userId' in auth ? `user:${auth.userId}` : `server:${auth.serverName}`;
  const waitMs = limiter.consume(bucket, key, auth === undefined ? accessTokenOf(ctx) : undefined);
  if (waitMs > 0) throw limitExceeded(waitMs);
}

function writeResult(ctx: Context, result: unknown): void {
  if (!(result instanceof HttpResponse)) {
    if (!isJsonObject(result)) throw new Error('endpoint handler returned neither a JSON object nor an HttpResponse');
    ctx.status = 200;
    sendJson(ctx, result);
    return;
  }
  ctx.status = result.status;
  ctx.set(result.headers);
  const body = result.body;
  if (body === undefined) return;
  if (typeof body === 'string' || body instanceof Uint8Array || isStream(body)) {
    ctx.body = typeof body === 'string' || isStream(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    if (result.contentType !== undefined) ctx.type = result.contentType;
    return;
  }
  sendJson(ctx, body);
}

function isStream(value: unknown): value is NodeJS.ReadableStream {
  return typeof value === 'object' && value !== null && typeof (value as { pipe?: unknown }).pipe === 'function';
}

/** The peer's address, or '' when the socket is already gone (koa's ctx.ip would throw). */
function peerAddress(ctx: Context): string {
  return ctx.req.socket?.remoteAddress ?? '';
}
