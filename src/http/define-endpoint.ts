// Endpoint descriptors. Each endpoint file exports one `defineEndpoint(...)`: the method and
// path, who may call it, the shape of its body, its rate-limit bucket and the handler. The
// app (./app.ts) runs the same pipeline for every descriptor — auth, rate limit, body read +
// parse + validate, handler — so handlers see only typed, validated input.

import type { AnySchema } from 'ajv';
import type { Context } from 'koa';
import type { Logger } from '../logger.ts';
import type { JsonObject, JsonValue } from '../rooms/json.ts';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/**
 * - `none`: anyone; no token is looked at.
 * - `optional`: a token is used when sent, and a bad one is still an error.
 * - `required`: an access token (client-server § "Using access tokens").
 * - `federation`: an X-Matrix signed request (server-server § "Request Authentication").
 */
export type AuthMode = 'none' | 'optional' | 'required' | 'federation';

/** The user and device an access token belongs to. */
export interface Requester {
  readonly userId: string;
  readonly deviceId: string | undefined;
  readonly isGuest: boolean;
  /** Set when the request used an application service's `as_token` (identity assertion). */
  readonly appServiceId?: string;
}

/**
 * Looks access tokens up. The token store is a later piece of work; until it is wired in,
 * the app uses a verifier that recognises no token.
 */
export interface AccessTokenVerifier {
  /**
   * The requester `token` belongs to, or undefined when it is not recognised. May throw a
   * MatrixError for a recognised but unusable token (soft logout, locked account). `query`
   * carries an application service's identity assertion (`user_id`, `device_id`).
   */
  verify(token: string, query?: URLSearchParams): Promise<Requester | undefined>;
}

/**
 * Which endpoints a guest account may call (client-server § "Guest access"), by operationId
 * and path parameters; the others answer 403 M_GUEST_ACCESS_FORBIDDEN to a guest.
 */
export type GuestPolicy = (operationId: string | undefined, params: Readonly<Record<string, string>>) => boolean;

/** What an X-Matrix check needs from a request (server-server § "Request Authentication"). */
export interface FederationRequest {
  readonly method: string;
  /** Path and query exactly as received, starting with `/_matrix/`. */
  readonly uri: string;
  /** `Authorization` header values; a request may carry several X-Matrix signatures. */
  readonly authorization: readonly string[];
  /** The parsed body, or undefined when the request had none. */
  readonly content: JsonValue | undefined;
  readonly rawBody: string | undefined;
}

/** The server a federation request was authenticated as coming from. */
export interface FederationOrigin {
  readonly serverName: string;
}

/** Extension point for X-Matrix verification; throws a MatrixError (401/403) on failure. */
export interface FederationAuthenticator {
  authenticate(request: FederationRequest): Promise<FederationOrigin>;
}

/** What the handler receives as `auth` for each mode. */
export type AuthOf<A extends AuthMode> = A extends 'none'
  ? undefined
  : A extends 'optional'
    ? Requester | undefined
    : A extends 'required'
      ? Requester
      : FederationOrigin;

/**
 * A JSON request body checked against a JSON Schema (ajv, draft 2020-12, defaults filled
 * in). `B` is the type the schema guarantees; it exists only for the compiler.
 */
export interface JsonBodySpec<B> {
  readonly schema: AnySchema;
  /** Phantom: carries `B` from `jsonBody<B>()` to the handler's `body`. Never set. */
  readonly bodyType?: B;
}

export function jsonBody<B extends JsonObject>(schema: AnySchema): JsonBodySpec<B> {
  return { schema };
}

/** Any JSON object, unchecked beyond being an object (the spec's default for POST/PUT). */
export const ANY_JSON_OBJECT: JsonBodySpec<JsonObject> = jsonBody<JsonObject>({ type: 'object' });

export interface EndpointRequest<Auth, Body> {
  /** Path parameters, URL-decoded. */
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  /** The validated body; undefined when the endpoint declares no body (it is then not read). */
  readonly body: Body;
  /** The body text as received, for endpoints that must check or re-sign exactly what was sent. */
  readonly rawBody: string | undefined;
  readonly auth: Auth;
  /** A child logger carrying the request id. */
  readonly log: Logger;
  /** Escape hatch for what the descriptor cannot express (streamed uploads and downloads). */
  readonly ctx: Context;
}

export type ResponseBody = JsonObject | Uint8Array | string | NodeJS.ReadableStream;

/** A response other than "200 with this JSON object". */
export class HttpResponse {
  readonly status: number;
  readonly body: ResponseBody | undefined;
  readonly contentType: string | undefined;
  readonly headers: Readonly<Record<string, string>>;

  constructor(status: number, body: ResponseBody | undefined, contentType?: string, headers: Readonly<Record<string, string>> = {}) {
    this.status = status;
    this.body = body;
    this.contentType = contentType;
    this.headers = headers;
  }

  static json(body: JsonObject, status = 200, headers: Readonly<Record<string, string>> = {}): HttpResponse {
    return new HttpResponse(status, body, 'application/json', headers);
  }
}

/** A JSON object (sent as 200) or a full response. */
export type EndpointResult = JsonObject | HttpResponse;

export interface EndpointDefinition<A extends AuthMode, B> {
  readonly method: HttpMethod;
  /** A @koa/router path: `/_matrix/client/v3/rooms/:roomId/send/:eventType/:txnId`. */
  readonly path: string;
  readonly auth: A;
  /** When set, the body is read (up to the configured limit), parsed and validated. */
  readonly body?: JsonBodySpec<B>;
  /** A rate-limit bucket name (see RateLimiter); unset = not limited. */
  readonly rateLimit?: string;
  /** The spec's operationId, for logs and the spec-conformance tests. */
  readonly operationId?: string;
  readonly handler: (request: EndpointRequest<AuthOf<A>, B>) => EndpointResult | Promise<EndpointResult>;
}

/** A descriptor with its types erased, as the app stores it. */
export interface Endpoint {
  readonly method: HttpMethod;
  readonly path: string;
  readonly auth: AuthMode;
  readonly body: JsonBodySpec<unknown> | undefined;
  readonly rateLimit: string | undefined;
  readonly operationId: string | undefined;
  readonly handler: (request: EndpointRequest<unknown, unknown>) => EndpointResult | Promise<EndpointResult>;
}

// `B` defaults to `undefined`: with no `body`, the handler's body is undefined.
export function defineEndpoint<A extends AuthMode, B = undefined>(definition: EndpointDefinition<A, B>): Endpoint {
  if (!definition.path.startsWith('/')) {
    throw new Error(`endpoint path must start with "/": ${definition.path}`);
  }
  return {
    method: definition.method,
    path: definition.path,
    auth: definition.auth,
    body: definition.body,
    rateLimit: definition.rateLimit,
    operationId: definition.operationId,
    // The app builds the request from `auth` and `body` above, so the types line up.
    handler: definition.handler as Endpoint['handler'],
  };
}

/**
 * Rate limiting by bucket and key (the user ID, else the origin server, else the client IP).
 * Returns 0 when the request may go ahead, else how long to wait in milliseconds.
 */
export interface RateLimiter {
  /**
   * Takes one token from `key`'s bucket; the milliseconds to wait when it is empty, else 0.
   * `bearerToken`: the access token an unauthenticated endpoint was sent anyway (an
   * application service registering its users), for exemptions; never a bucket key.
   */
  consume(bucket: string, key: string, bearerToken?: string): number;
}
