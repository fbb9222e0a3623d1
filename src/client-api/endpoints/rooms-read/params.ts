// Query and path parameters of the room-read endpoints, read strictly: a malformed value is
// a 400 with the spec's errcode, never a default silently taken instead.

import { invalidParam } from '../../../http/matrix-error.ts';
import { parseRoomEventFilterParam, RoomEventFilterError, type RoomEventFilter } from '../../filters/room-event-filter.ts';
import { decodePaginationToken } from '../../pagination/token.ts';

/** Path room IDs: `!opaque` or `!opaque:server` (v12 room IDs have no server part). */
export function roomIdParam(params: Readonly<Record<string, string>>): string {
  const roomId = params['roomId'] ?? '';
  if (!roomId.startsWith('!') || roomId.length < 2 || roomId.length > 255) {
    throw invalidParam(`${JSON.stringify(roomId)} is not a room ID`);
  }
  return roomId;
}

export function eventIdParam(params: Readonly<Record<string, string>>): string {
  const eventId = params['eventId'] ?? '';
  if (!eventId.startsWith('$') || eventId.length < 2 || eventId.length > 255) {
    throw invalidParam(`${JSON.stringify(eventId)} is not an event ID`);
  }
  return eventId;
}

/** A non-negative integer parameter, clamped to `max`; `fallback` when absent. */
export function limitParam(query: URLSearchParams, fallback: number, max: number): number {
  const text = query.get('limit');
  if (text === null || text === '') return fallback;
  if (!/^[0-9]{1,9}$/.test(text)) throw invalidParam('limit must be a non-negative integer');
  return Math.min(Number(text), max);
}

export function tokenParam(query: URLSearchParams, name: string): number | undefined {
  const text = query.get(name);
  if (text === null || text === '') return undefined;
  const position = decodePaginationToken(text);
  if (position === undefined) throw invalidParam(`${name} is not a valid pagination token`);
  return position;
}

export function filterParam(query: URLSearchParams): RoomEventFilter {
  try {
    return parseRoomEventFilterParam(query.get('filter'));
  } catch (error) {
    if (error instanceof RoomEventFilterError) throw invalidParam(error.message);
    throw error;
  }
}

/** An optional parameter restricted to `allowed` values. */
export function enumParam<T extends string>(query: URLSearchParams, name: string, allowed: readonly T[]): T | undefined {
  const text = query.get(name);
  if (text === null) return undefined;
  if (!(allowed as readonly string[]).includes(text)) {
    throw invalidParam(`${name} must be one of ${allowed.join(', ')}`);
  }
  return text as T;
}
