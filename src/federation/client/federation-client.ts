// Outbound federation requests: discovery, one undici Pool per destination, every request
// signed with X-Matrix (server-server § "Request Authentication"), JSON responses parsed
// strictly and size-limited, failures as typed errors (./errors.ts).

import { Pool } from 'undici';
import type { Dispatcher } from 'undici';
import { isIP } from 'node:net';
import { signRequest } from '../../crypto/x-matrix.ts';
import type { SigningKey } from '../../crypto/signing-key.ts';
import { canonicalJson, JsonParseError, parseJsonStrict } from '../../rooms/canonical-json.ts';
import { getField, isJsonObject } from '../../rooms/json.ts';
import type { JsonObject, JsonValue } from '../../rooms/json.ts';
import { assertAllowedAddress } from '../../net/address-guard.ts';
import { FederationConnectionError, FederationRequestError, FederationResponseError, RemoteMatrixError } from './errors.ts';
import { DiscoveryError, originUrl } from './server-discovery.ts';
import type { ResolvedServer } from './server-discovery.ts';
import { classifyConnectionError, connectOptions } from './transport.ts';
import type { TransportOptions } from './transport.ts';

export type QueryValue = string | number | boolean | readonly (string | number | boolean)[];

export interface FederationRequest {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Starts with `/_matrix/`; path segments already percent-encoded by the caller. */
  readonly path: string;
  readonly query?: Readonly<Record<string, QueryValue | undefined>>;
  /** The JSON body; POST and PUT send `{}` when it is absent, as the spec requires a body. */
  readonly body?: JsonObject;
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

/** Resolves server names; `ServerDiscovery` is the real one. */
export interface ServerResolver {
  resolve(serverName: string): Promise<ResolvedServer>;
  invalidate?(serverName: string): void;
}

export interface FederationClientOptions extends TransportOptions {
  /** Our server name: the `origin` of every request. */
  readonly serverName: string;
  readonly signingKey: SigningKey;
  readonly resolver: ServerResolver;
  /** Whole request, headers and body (default 60 s). */
  readonly requestTimeoutMs?: number;
  /** Response bodies larger than this are refused (default 16 MiB). */
  readonly maxResponseBytes?: number;
  /** Sockets per destination (default 8). */
  readonly connectionsPerDestination?: number;
  readonly userAgent?: string;
}

interface DestinationPool {
  readonly pool: Pool;
  readonly target: string;
}

export function buildUri(path: string, query: FederationRequest['query']): string {
  if (query === undefined) return path;
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) params.append(name, String(item));
  }
  const text = params.toString();
  return text === '' ? path : `${path}?${text}`;
}

export class FederationClient {
  readonly #options: FederationClientOptions;
  readonly #pools = new Map<string, DestinationPool>();
  readonly #timeoutMs: number;
  readonly #maxResponseBytes: number;
  #closed = false;

  constructor(options: FederationClientOptions) {
    this.#options = options;
    this.#timeoutMs = options.requestTimeoutMs ?? 60_000;
    this.#maxResponseBytes = options.maxResponseBytes ?? 16 * 1024 * 1024;
  }

  get serverName(): string {
    return this.#options.serverName;
  }

  get(destination: string, path: string, query?: FederationRequest['query']): Promise<JsonObject> {
    return this.request(destination, query === undefined ? { method: 'GET', path } : { method: 'GET', path, query });
  }

  post(destination: string, path: string, body: JsonObject): Promise<JsonObject> {
    return this.request(destination, { method: 'POST', path, body });
  }

  put(destination: string, path: string, body: JsonObject): Promise<JsonObject> {
    return this.request(destination, { method: 'PUT', path, body });
  }

  /** Sends a signed request and returns the JSON object it answered with. */
  async request(destination: string, request: FederationRequest): Promise<JsonObject> {
    if (this.#closed) throw new Error('the federation client is closed');
    if (!request.path.startsWith('/')) throw new Error(`federation path must start with "/": ${request.path}`);
    const resolved = await this.#resolve(destination);
    const uri = buildUri(request.path, request.query);
    const content: JsonObject | undefined =
      request.body ?? (request.method === 'POST' || request.method === 'PUT' ? {} : undefined);
    const authorization = signRequest(
      { method: request.method, uri, origin: this.#options.serverName, destination, content },
      this.#options.signingKey,
    );
    const headers: Record<string, string> = {
      host: resolved.hostHeader,
      authorization,
      accept: 'application/json',
      'user-agent': this.#options.userAgent ?? 'Stoa',
    };
    // Canonical JSON is also plain JSON; encoding with it catches a non-integer we would
    // otherwise sign one way and send another.
    const bodyText = content === undefined ? undefined : canonicalJson(content);
    if (bodyText !== undefined) headers['content-type'] = 'application/json';

    const timeout = AbortSignal.timeout(request.timeoutMs ?? this.#timeoutMs);
    const signal = request.signal === undefined ? timeout : AbortSignal.any([timeout, request.signal]);
    const pool = this.#poolFor(resolved);
    let response: Dispatcher.ResponseData;
    try {
      response = await pool.request({
        method: request.method,
        path: uri,
        headers,
        ...(bodyText === undefined ? {} : { body: bodyText }),
        signal,
      });
    } catch (error) {
      throw this.#connectionError(destination, error);
    }
    const text = await this.#readBody(destination, response, signal);
    return parseResponse(destination, response.statusCode, text);
  }

  /**
   * Sends a signed GET and hands back a 2xx response's body as a stream, unread, for
   * responses that are not JSON or too large to buffer (media). A non-2xx answer throws
   * RemoteMatrixError as `request` does. The caller must consume or destroy the body.
   */
  async openStream(
    destination: string,
    request: Pick<FederationRequest, 'path' | 'query' | 'timeoutMs' | 'signal'>,
  ): Promise<{ status: number; headers: Readonly<Record<string, string | string[] | undefined>>; body: Dispatcher.ResponseData['body'] }> {
    if (this.#closed) throw new Error('the federation client is closed');
    const resolved = await this.#resolve(destination);
    const uri = buildUri(request.path, request.query);
    const authorization = signRequest({ method: 'GET', uri, origin: this.#options.serverName, destination, content: undefined }, this.#options.signingKey);
    const timeout = AbortSignal.timeout(request.timeoutMs ?? this.#timeoutMs);
    const signal = request.signal === undefined ? timeout : AbortSignal.any([timeout, request.signal]);
    let response: Dispatcher.ResponseData;
    try {
      response = await this.#poolFor(resolved).request({
        method: 'GET',
        path: uri,
        headers: { host: resolved.hostHeader, authorization, 'user-agent': this.#options.userAgent ?? 'Stoa' },
        signal,
      });
    } catch (error) {
      throw this.#connectionError(destination, error);
    }
    if (response.statusCode < 200 || response.statusCode >= 300) {
      const text = await this.#readBody(destination, response, signal);
      parseResponse(destination, response.statusCode, text);
    }
    return { status: response.statusCode, headers: response.headers, body: response.body };
  }

  /** Closes every pool; in-flight requests finish first. */
  async close(): Promise<void> {
    this.#closed = true;
    const pools = [...this.#pools.values()];
    this.#pools.clear();
    await Promise.all(pools.map((entry) => entry.pool.close()));
  }

  async #resolve(destination: string): Promise<ResolvedServer> {
    let resolved: ResolvedServer;
    try {
      resolved = await this.#options.resolver.resolve(destination);
    } catch (error) {
      if (error instanceof DiscoveryError) throw new FederationConnectionError(destination, 'dns', error.message, { cause: error });
      throw new FederationConnectionError(destination, classifyConnectionError(error), 'server discovery failed', { cause: error });
    }
    // A hostname is checked when the socket looks it up; an IP literal is never looked up.
    if (isIP(resolved.connectHost) !== 0) {
      try {
        assertAllowedAddress(resolved.connectHost, this.#options.allowPrivateAddresses);
      } catch (error) {
        throw new FederationConnectionError(destination, 'forbidden-address', (error as Error).message, { cause: error });
      }
    }
    return resolved;
  }

  #poolFor(resolved: ResolvedServer): Pool {
    const target = `${originUrl(resolved)} ${resolved.tlsServerName ?? ''}`;
    const existing = this.#pools.get(resolved.serverName);
    if (existing !== undefined && existing.target === target) return existing.pool;
    if (existing !== undefined) void existing.pool.close();
    const pool = new Pool(originUrl(resolved), {
      connect: connectOptions(this.#options, resolved.tlsServerName),
      connections: this.#options.connectionsPerDestination ?? 8,
      allowH2: false,
      headersTimeout: this.#timeoutMs,
      bodyTimeout: this.#timeoutMs,
    });
    this.#pools.set(resolved.serverName, { pool, target });
    return pool;
  }

  #connectionError(destination: string, error: unknown): FederationRequestError {
    const failure = classifyConnectionError(error);
    if (failure !== 'forbidden-address' && failure !== 'tls') this.#options.resolver.invalidate?.(destination);
    const message = error instanceof Error ? error.message : String(error);
    return new FederationConnectionError(destination, failure, message, { cause: error });
  }

  async #readBody(destination: string, response: Dispatcher.ResponseData, signal: AbortSignal): Promise<string> {
    const declared = Number(response.headers['content-length']);
    if (Number.isFinite(declared) && declared > this.#maxResponseBytes) {
      response.body.destroy();
      throw new FederationResponseError(destination, 'too-large', `response of ${declared} bytes exceeds ${this.#maxResponseBytes}`);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of response.body) {
        const buffer = chunk as Buffer;
        size += buffer.length;
        if (size > this.#maxResponseBytes) {
          response.body.destroy();
          throw new FederationResponseError(destination, 'too-large', `response exceeds ${this.#maxResponseBytes} bytes`);
        }
        chunks.push(buffer);
      }
    } catch (error) {
      if (error instanceof FederationResponseError) throw error;
      if (signal.aborted) throw this.#connectionError(destination, signal.reason);
      throw this.#connectionError(destination, error);
    }
    const bytes = Buffer.concat(chunks, size);
    const text = new TextDecoder('utf-8', { fatal: true });
    try {
      return text.decode(bytes);
    } catch {
      throw new FederationResponseError(destination, 'not-json', 'response is not UTF-8');
    }
  }
}

function parseResponse(destination: string, status: number, text: string): JsonObject {
  let value: JsonValue | undefined;
  try {
    value = parseJsonStrict(text);
  } catch (error) {
    if (!(error instanceof JsonParseError)) throw error;
    value = undefined;
  }
  if (status < 200 || status >= 300) {
    const body = value !== undefined && isJsonObject(value) ? value : undefined;
    const errcode = body === undefined ? undefined : getField(body, 'errcode');
    const message = body === undefined ? undefined : getField(body, 'error');
    throw new RemoteMatrixError(
      destination,
      status,
      typeof errcode === 'string' ? errcode : undefined,
      body,
      typeof message === 'string' ? message : text.slice(0, 200),
    );
  }
  if (value === undefined) throw new FederationResponseError(destination, 'not-json', 'response is not JSON');
  if (!isJsonObject(value)) throw new FederationResponseError(destination, 'not-an-object', 'response is not a JSON object');
  return value;
}
