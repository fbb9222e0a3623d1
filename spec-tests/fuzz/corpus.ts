// The regression corpus: exact requests that once made Stoa answer 5xx (or crash, or break
// the error format), replayed first by every fuzz pass. Targets hold placeholders filled
// from the run's world ({roomId}, {userId}, {eventId}, {roomAlias}, {serverName},
// {deviceId}, {remote}), percent-encoded; latin-1 characters in `target` and `body` are
// sent as single raw bytes.

import type { Listener } from './catalogue.ts';
import type { FuzzIdentities } from './identities.ts';
import type { FuzzRequest, RequestWorld } from './requests.ts';

export interface CorpusCase {
  /** What failed, and the fix. */
  readonly name: string;
  readonly listener: Listener;
  readonly method: string;
  readonly target: string;
  /** `user`: the fuzzing user's token; `x-matrix`: signed by the fake remote over the body parsed as JSON. */
  readonly auth: 'user' | 'none' | 'x-matrix';
  readonly contentType?: string;
  readonly body?: string | (() => string);
}

export const CORPUS: readonly CorpusCase[] = [
  {
    name: 'NUL in a path parameter reached PostgreSQL (500 "invalid byte sequence"); src/http/app.ts now refuses U+0000 in params with M_INVALID_PARAM',
    listener: 'client',
    method: 'POST',
    target: '/_matrix/client/v3/rooms/%00/ban',
    auth: 'user',
    body: '{"user_id":"@x:y"}',
  },
  {
    name: 'NUL inside a room ID in the path (500)',
    listener: 'client',
    method: 'POST',
    target: '/_matrix/client/v3/rooms/%40%00%3Ax/invite',
    auth: 'user',
    body: '{"user_id":"@x:y"}',
  },
  {
    name: 'NUL in a query parameter (same fix, for the query)',
    listener: 'client',
    method: 'GET',
    target: '/_matrix/client/v3/rooms/{roomId}/messages?from=%00&dir=b',
    auth: 'user',
  },
  {
    name: "raw byte 0xFF in the request line: Node's bare 400 with no body; src/http/client-error.ts answers M_UNKNOWN JSON",
    listener: 'client',
    method: 'PUT',
    target: '/_matrix/client/v3/room_keys/keys/!a\u00ff\u00fe?version=1',
    auth: 'user',
    body: '{}',
  },
  {
    name: 'raw bytes in the request line on the federation listener',
    listener: 'federation',
    method: 'GET',
    target: '/_matrix/federation/v1/state/!a\u00c0\u00af',
    auth: 'none',
  },
  {
    name: 'alias on an unreachable server: the federation client error escaped as 500; src/federation/directory-query.ts now answers 502 M_UNKNOWN',
    listener: 'client',
    method: 'GET',
    target: '/_matrix/client/v3/directory/room/%23alias%3A127.0.0.1%3A1',
    auth: 'none',
  },
  {
    name: 'join through an alias on an unreachable server (same resolver)',
    listener: 'client',
    method: 'POST',
    target: '/_matrix/client/v3/join/%23alias%3A127.0.0.1%3A1',
    auth: 'user',
    body: '{}',
  },
  {
    name: 'U+0000 in a client body string reached a PostgreSQL text column (500); src/http/app.ts now refuses \\u0000 in client bodies with M_BAD_JSON',
    listener: 'client',
    method: 'POST',
    target: '/_matrix/client/v3/room_keys/version',
    auth: 'user',
    body: '{"algorithm":"\\u0000","auth_data":{}}',
  },
  {
    name: 'U+0000 in a device display name (same fix)',
    listener: 'client',
    method: 'PUT',
    target: '/_matrix/client/v3/devices/{deviceId}',
    auth: 'user',
    body: '{"display_name":"a\\u0000b"}',
  },
  {
    name: 'prototype pollution: keys/signatures/upload wrote failures["__proto__"][key] into Object.prototype, after which every request answered a plain-text 500 and the node died; src/http/request-body.ts now refuses keys Object.prototype has',
    listener: 'client',
    method: 'POST',
    target: '/_matrix/client/v3/keys/signatures/upload',
    auth: 'user',
    body: '{"__proto__":{"admin":true},"constructor":{"prototype":{"x":1}}}',
  },
  {
    name: 'a "constructor" user key made failures["constructor"] the Object constructor (TypeError, 500)',
    listener: 'client',
    method: 'POST',
    target: '/_matrix/client/v3/keys/signatures/upload',
    auth: 'user',
    body: '{"constructor":{"keys":{}}}',
  },
  {
    name: 'the same poison keys in a federation body',
    listener: 'federation',
    method: 'POST',
    target: '/_matrix/federation/v1/user/keys/query',
    auth: 'x-matrix',
    body: '{"device_keys":{"__proto__":[],"toString":[]}}',
  },
];

function fill(template: string, ids: FuzzIdentities): string {
  const values: Record<string, string> = {
    roomId: ids.roomId,
    userId: ids.userId,
    eventId: ids.eventId,
    roomAlias: ids.roomAlias,
    serverName: ids.serverName,
    deviceId: ids.deviceId,
    remote: ids.remoteServerName,
  };
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (values[name] === undefined ? whole : encodeURIComponent(values[name])));
}

function bytesOf(text: string): Uint8Array {
  return /^[\u0000-\u00ff]*$/.test(text) ? Buffer.from(text, 'latin1') : Buffer.from(text, 'utf8');
}

/** The case as a request in the current world. */
export function corpusRequest(entry: CorpusCase, world: RequestWorld): FuzzRequest {
  const ids = world.ids;
  const target = fill(entry.target, ids);
  const text = typeof entry.body === 'function' ? entry.body() : entry.body;
  const body = text === undefined ? undefined : bytesOf(fill(text, ids));
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = entry.contentType ?? 'application/json';
  if (entry.auth === 'user') headers['authorization'] = `Bearer ${ids.accessToken}`;
  if (entry.auth === 'x-matrix') {
    let content: unknown;
    try {
      content = body === undefined || body.length === 0 ? undefined : JSON.parse(Buffer.from(body).toString('utf8'));
    } catch {
      content = undefined;
    }
    headers['authorization'] = world.signAsRemote(entry.method, target, content);
  }
  return { operation: `corpus:${entry.name}`, listener: entry.listener, method: entry.method, target, headers, body, mutation: 'regression corpus' };
}
