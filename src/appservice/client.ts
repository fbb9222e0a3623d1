// Requests from the homeserver to application services (application-service API
// § "Homeserver -> Application Service API"): transactions, user and alias queries, ping,
// each with `Authorization: Bearer <hs_token>` (§ "Authorisation", v1.4).
//
// Application services usually listen on loopback or private addresses: the admin put the
// URL in the registration, so there is no private-address guard here (unlike push gateways
// or federation).

import { Agent, errors, request } from 'undici';
import type { JsonObject } from '../rooms/json.ts';
import type { AppServiceRegistration } from './registration.ts';

export interface AppServiceClientOptions {
  /** Per request. Default 30 s for transactions, 10 s for queries and ping. */
  readonly transactionTimeoutMs?: number;
  readonly queryTimeoutMs?: number;
}

export type PingOutcome =
  | { readonly ok: true; readonly durationMs: number }
  | { readonly ok: false; readonly reason: 'timeout' }
  | { readonly ok: false; readonly reason: 'connection' }
  | { readonly ok: false; readonly reason: 'status'; readonly status: number; readonly body: string };

export class AppServiceClient {
  readonly #agent: Agent;
  readonly #transactionTimeoutMs: number;
  readonly #queryTimeoutMs: number;

  constructor(options: AppServiceClientOptions = {}) {
    this.#agent = new Agent({ connections: 8, keepAliveTimeout: 10_000 });
    this.#transactionTimeoutMs = options.transactionTimeoutMs ?? 30_000;
    this.#queryTimeoutMs = options.queryTimeoutMs ?? 10_000;
  }

  /** PUT /_matrix/app/v1/transactions/{txnId}; resolves true when the service took it (2xx). */
  async sendTransaction(registration: AppServiceRegistration, txnId: string, body: JsonObject): Promise<boolean> {
    const status = await this.#call(registration, 'PUT', `/_matrix/app/v1/transactions/${encodeURIComponent(txnId)}`, body, this.#transactionTimeoutMs);
    return status.status >= 200 && status.status < 300;
  }

  /** GET /_matrix/app/v1/users/{userId}: true when the service says the user exists now. */
  async queryUser(registration: AppServiceRegistration, userId: string): Promise<boolean> {
    const status = await this.#call(registration, 'GET', `/_matrix/app/v1/users/${encodeURIComponent(userId)}`, undefined, this.#queryTimeoutMs);
    return status.status >= 200 && status.status < 300;
  }

  /** GET /_matrix/app/v1/rooms/{roomAlias}: true when the service says it created the alias. */
  async queryAlias(registration: AppServiceRegistration, alias: string): Promise<boolean> {
    const status = await this.#call(registration, 'GET', `/_matrix/app/v1/rooms/${encodeURIComponent(alias)}`, undefined, this.#queryTimeoutMs);
    return status.status >= 200 && status.status < 300;
  }

  /** POST /_matrix/app/v1/ping, timed. */
  async ping(registration: AppServiceRegistration, transactionId: string | undefined, clock: () => number): Promise<PingOutcome> {
    const started = clock();
    try {
      const body: JsonObject = transactionId === undefined ? {} : { transaction_id: transactionId };
      const answer = await this.#call(registration, 'POST', '/_matrix/app/v1/ping', body, this.#queryTimeoutMs, true);
      if (answer.status >= 200 && answer.status < 300) return { ok: true, durationMs: Math.max(0, clock() - started) };
      return { ok: false, reason: 'status', status: answer.status, body: answer.text };
    } catch (error) {
      return isTimeout(error) ? { ok: false, reason: 'timeout' } : { ok: false, reason: 'connection' };
    }
  }

  /** Ends every connection, aborting requests in flight. */
  async destroy(): Promise<void> {
    await this.#agent.destroy();
  }

  async #call(
    registration: AppServiceRegistration,
    method: 'GET' | 'PUT' | 'POST',
    path: string,
    body: JsonObject | undefined,
    timeoutMs: number,
    keepText = false,
  ): Promise<{ status: number; text: string }> {
    if (registration.url === null) throw new Error(`application service ${registration.id} has no url`);
    const response = await request(`${registration.url}${path}`, {
      method,
      dispatcher: this.#agent,
      headers: {
        authorization: `Bearer ${registration.hsToken}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: AbortSignal.timeout(timeoutMs),
    });
    // At most 64 KiB of an answer is kept (ping reports it); the rest is drained unread.
    let text = '';
    if (keepText) {
      for await (const chunk of response.body) {
        if (text.length < 65_536) text += (chunk as Buffer).toString('utf8');
      }
      text = text.slice(0, 65_536);
    } else {
      await response.body.dump();
    }
    return { status: response.statusCode, text };
  }
}

function isTimeout(error: unknown): boolean {
  return (
    error instanceof errors.HeadersTimeoutError ||
    error instanceof errors.BodyTimeoutError ||
    error instanceof errors.ConnectTimeoutError ||
    (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError'))
  );
}
