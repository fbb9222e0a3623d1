// The few Client-Server API calls the benchmark makes, over keep-alive connections
// (undici Pool), the same way for Stoa and Synapse. Every call checks the status and
// throws a BenchHttpError naming the request, status and errcode, so a run against a
// half-built server says what is missing instead of producing numbers from errors.

import { createHmac } from 'node:crypto';
import { Pool } from 'undici';

export class BenchHttpError extends Error {
  override readonly name = 'BenchHttpError';
  readonly status: number;
  readonly errcode: string | undefined;
  constructor(what: string, status: number, body: unknown) {
    const record = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
    const errcode = typeof record['errcode'] === 'string' ? record['errcode'] : undefined;
    const error = typeof record['error'] === 'string' ? record['error'] : '';
    super(`${what} -> ${status} ${errcode ?? ''} ${error}`.trim());
    this.status = status;
    this.errcode = errcode;
  }
}

export interface Session {
  readonly userId: string;
  readonly accessToken: string;
}

export interface SyncResponse {
  readonly next_batch: string;
  readonly rooms?: {
    readonly join?: Record<string, { readonly timeline?: { readonly events?: ReadonlyArray<{ event_id?: string; content?: Record<string, unknown> }>; readonly limited?: boolean } }>;
  };
}

export class MatrixHttp {
  readonly baseUrl: string;
  readonly #pool: Pool;
  #txn = 0;
  readonly #txnPrefix = `bench${process.pid}_${Date.now().toString(36)}_`;

  /** `timeoutMs`: how long a response (headers, then body) may take; a join over federation into a large room can take minutes. */
  constructor(baseUrl: string, connections: number, timeoutMs = 120_000) {
    this.baseUrl = baseUrl;
    // Long-polls hold a connection each; sends must not queue behind them.
    this.#pool = new Pool(baseUrl, { connections, pipelining: 1, keepAliveTimeout: 60_000, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  }

  async close(): Promise<void> {
    await this.#pool.close();
  }

  async call<T>(method: string, path: string, options: { token?: string; body?: unknown; signal?: AbortSignal } = {}): Promise<T> {
    const headers: Record<string, string> = {};
    if (options.token !== undefined) headers['authorization'] = `Bearer ${options.token}`;
    let body: string | undefined;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] = 'application/json';
    }
    const response = await this.#pool.request({
      method: method as 'GET',
      path,
      headers,
      ...(body === undefined ? {} : { body }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    const text = await response.body.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (response.statusCode < 200 || response.statusCode >= 300) throw new BenchHttpError(`${method} ${path.split('?')[0]}`, response.statusCode, parsed);
    return parsed as T;
  }

  /**
   * Registers through the shared-secret admin API both servers implement
   * (`/_synapse/admin/v1/register`: HMAC-SHA1 over nonce, user, password, admin flag).
   */
  async registerWithSharedSecret(secret: string, username: string, password: string): Promise<Session> {
    const { nonce } = await this.call<{ nonce: string }>('GET', '/_synapse/admin/v1/register');
    const mac = createHmac('sha1', secret).update(`${nonce}\0${username}\0${password}\0notadmin`).digest('hex');
    const res = await this.call<{ user_id: string; access_token: string }>('POST', '/_synapse/admin/v1/register', {
      body: { nonce, username, password, admin: false, mac },
    });
    return { userId: res.user_id, accessToken: res.access_token };
  }

  async createRoom(session: Session, body: Record<string, unknown>): Promise<string> {
    const res = await this.call<{ room_id: string }>('POST', '/_matrix/client/v3/createRoom', { token: session.accessToken, body });
    return res.room_id;
  }

  async join(session: Session, roomId: string): Promise<void> {
    await this.call('POST', `/_matrix/client/v3/join/${encodeURIComponent(roomId)}`, { token: session.accessToken, body: {} });
  }

  /** PUT /rooms/{roomId}/send/m.room.message/{txnId}; returns the event ID. */
  async send(session: Session, roomId: string, content: Record<string, unknown>): Promise<string> {
    const txnId = `${this.#txnPrefix}${++this.#txn}`;
    const res = await this.call<{ event_id: string }>(
      'PUT',
      `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/${txnId}`,
      { token: session.accessToken, body: content },
    );
    return res.event_id;
  }

  async uploadFilter(session: Session, filter: Record<string, unknown>): Promise<string> {
    const res = await this.call<{ filter_id: string }>('POST', `/_matrix/client/v3/user/${encodeURIComponent(session.userId)}/filter`, {
      token: session.accessToken,
      body: filter,
    });
    return res.filter_id;
  }

  async sync(session: Session, params: { filter: string; since?: string; timeoutMs: number }, signal?: AbortSignal): Promise<SyncResponse> {
    const query = new URLSearchParams({ filter: params.filter, timeout: String(params.timeoutMs) });
    if (params.since !== undefined) query.set('since', params.since);
    return this.call<SyncResponse>('GET', `/_matrix/client/v3/sync?${query}`, { token: session.accessToken, ...(signal === undefined ? {} : { signal }) });
  }
}
