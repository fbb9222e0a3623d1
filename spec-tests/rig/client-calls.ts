// Requests to one node's client listener, as the black-box tests make them: a user's access
// token (or none), the whole path or one under /_matrix/client/{version}, and the few room
// calls every file needs, checked against the spec's OpenAPI.

import assert from 'node:assert/strict';
import { request, type HttpResponse } from './http.ts';
import { expectSpecResponse } from './openapi.ts';
import type { RegisteredUser } from './users.ts';

type Json = Record<string, unknown>;

/** A response that says which request it answers, for failure messages. */
export interface CallResponse extends HttpResponse {
  /** `PUT /_matrix/client/v3/… via http://127.0.0.1:…`. */
  readonly label: string;
}

export interface ClientCalls {
  /** `path` from the root of the listener: `/_stoa/admin/v1/…`, `/_matrix/client/v3/…`. */
  call(user: RegisteredUser | undefined, method: string, path: string, body?: unknown): Promise<CallResponse>;
  /** `path` under `/_matrix/client/{version}`: `client(alice, 'GET', '/sync')`. */
  client(user: RegisteredUser | undefined, method: string, path: string, body?: unknown, version?: string): Promise<CallResponse>;
  /** POST /createRoom (checked against the spec): the room ID. */
  createRoom(user: RegisteredUser, body: Json): Promise<string>;
  /** PUT /rooms/{roomId}/send/{type}/{txnId} (checked against the spec): the event ID. */
  send(user: RegisteredUser, roomId: string, content: Json, type?: string): Promise<string>;
  /** POST /rooms/{roomId}/join (checked against the spec). */
  join(user: RegisteredUser, roomId: string): Promise<void>;
  /** A transaction ID not used before by these calls: `prefix` and a counter they share. */
  nextTxnId(prefix?: string): string;
}

export interface ClientCallsOptions {
  /** What `send`'s transaction IDs start with (default `t`). */
  readonly txnPrefix?: string;
}

/**
 * Calls bound to a client listener's URL; pass a function when the node starts after this
 * is made (`clientCalls(() => node.clientUrl)` at the top of a file, the node in `before`).
 */
export function clientCalls(baseUrl: string | (() => string), options: ClientCallsOptions = {}): ClientCalls {
  const base = typeof baseUrl === 'string' ? () => baseUrl : baseUrl;
  const txnPrefix = options.txnPrefix ?? 't';
  const enc = encodeURIComponent;
  let txn = 0;

  async function call(user: RegisteredUser | undefined, method: string, path: string, body?: unknown): Promise<CallResponse> {
    const url = base();
    const res = await request(`${url}${path}`, {
      method,
      headers: user === undefined ? {} : { Authorization: `Bearer ${user.accessToken}` },
      ...(body === undefined ? {} : { body }),
    });
    return { ...res, label: `${method} ${path} via ${url}` };
  }
  function client(user: RegisteredUser | undefined, method: string, path: string, body?: unknown, version = 'v3'): Promise<CallResponse> {
    return call(user, method, `/_matrix/client/${version}${path}`, body);
  }
  function nextTxnId(prefix = txnPrefix): string {
    return `${prefix}${++txn}`;
  }
  return {
    call,
    client,
    nextTxnId,
    async createRoom(user, body) {
      const res = await client(user, 'POST', '/createRoom', body);
      expectSpecResponse(res, 'createRoom');
      return (res.body as Json)['room_id'] as string;
    },
    async send(user, roomId, content, type = 'm.room.message') {
      const res = await client(user, 'PUT', `/rooms/${enc(roomId)}/send/${type}/${nextTxnId()}`, content);
      expectSpecResponse(res, 'sendMessage');
      return (res.body as Json)['event_id'] as string;
    },
    async join(user, roomId) {
      expectSpecResponse(await client(user, 'POST', `/rooms/${enc(roomId)}/join`, {}), 'joinRoomById');
    },
  };
}

/** Asserts the status (200 unless told) and returns the JSON body. */
export async function ok(res: Promise<HttpResponse> | HttpResponse, status = 200): Promise<Json> {
  const r: HttpResponse & { label?: string } = await res;
  assert.equal(r.status, status, r.label === undefined ? r.text : `${r.label}: ${r.status} ${r.text}`);
  return r.body as Json;
}
