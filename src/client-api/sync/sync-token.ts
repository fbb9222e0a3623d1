// The /sync token (client-server § "Syncing": `next_batch` / `since`): one position per
// stream, opaque to clients and versioned, so the layout can change without misreading old
// tokens (STYLE.md: Synapse's positional tokens with dead slots are what we avoid).
//
// Layout of version 1: `v1_` + base64url("e=<events>.<key>=<pos>..."). `e` is the room-event
// stream (the roomserver's safe stream position); every other key is a StreamSource's
// `streamKey`. A position P means "everything at or below P has been delivered".

import { invalidParam, type MatrixError } from '../../http/matrix-error.ts';

export const SYNC_TOKEN_VERSION = 'v1';
/** The key of the room-event stream inside the token. */
export const EVENTS_STREAM_KEY = 'e';

export interface SyncPosition {
  /** The room-event stream position (stream ordering). */
  readonly events: number;
  /** Positions of the other streams, by StreamSource.streamKey. */
  readonly streams: Readonly<Record<string, number>>;
}

const KEY_PATTERN = /^[a-z][a-z0-9]{0,7}$/;
const MAX_TOKEN_LENGTH = 512;

export function encodeSyncToken(position: SyncPosition): string {
  const parts = [`${EVENTS_STREAM_KEY}=${position.events}`];
  for (const key of Object.keys(position.streams).sort()) {
    if (key === EVENTS_STREAM_KEY || !KEY_PATTERN.test(key)) throw new Error(`invalid stream key ${JSON.stringify(key)}`);
    parts.push(`${key}=${position.streams[key]}`);
  }
  return `${SYNC_TOKEN_VERSION}_${Buffer.from(parts.join('.'), 'utf8').toString('base64url')}`;
}

export type DecodeResult = { readonly ok: true; readonly position: SyncPosition } | { readonly ok: false; readonly reason: string };

export function decodeSyncToken(token: string): DecodeResult {
  if (token.length === 0 || token.length > MAX_TOKEN_LENGTH) return { ok: false, reason: 'bad length' };
  const underscore = token.indexOf('_');
  if (underscore < 0) return { ok: false, reason: 'no version prefix' };
  const version = token.slice(0, underscore);
  if (version !== SYNC_TOKEN_VERSION) return { ok: false, reason: `unknown token version ${version}` };
  const body = token.slice(underscore + 1);
  if (!/^[A-Za-z0-9_-]+$/.test(body)) return { ok: false, reason: 'not base64url' };
  const text = Buffer.from(body, 'base64url').toString('utf8');
  let events: number | undefined;
  const streams: Record<string, number> = {};
  for (const part of text.split('.')) {
    const match = /^([a-z][a-z0-9]{0,7})=(0|[1-9][0-9]{0,15})$/.exec(part);
    if (match === null) return { ok: false, reason: 'malformed position' };
    const key = match[1] as string;
    const value = Number(match[2]);
    if (!Number.isSafeInteger(value)) return { ok: false, reason: 'position out of range' };
    if (key === EVENTS_STREAM_KEY) {
      if (events !== undefined) return { ok: false, reason: 'duplicate events position' };
      events = value;
    } else {
      if (Object.hasOwn(streams, key)) return { ok: false, reason: `duplicate position ${key}` };
      streams[key] = value;
    }
  }
  if (events === undefined) return { ok: false, reason: 'no events position' };
  return { ok: true, position: { events, streams } };
}

/** Decodes a client-supplied token or throws 400 M_INVALID_PARAM naming the parameter. */
export function parseSyncToken(token: string, parameter: string): SyncPosition {
  const decoded = decodeSyncToken(token);
  if (!decoded.ok) throw invalidSyncToken(parameter, decoded.reason);
  return decoded.position;
}

function invalidSyncToken(parameter: string, reason: string): MatrixError {
  return invalidParam(`Invalid ${parameter} token: ${reason}`);
}

/** The position of stream `key` in `position`; 0 (the stream's start) when the token predates the stream. */
export function streamPosition(position: SyncPosition, key: string): number {
  return position.streams[key] ?? 0;
}
