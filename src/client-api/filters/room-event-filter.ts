// The RoomEventFilter (client-server § "Filtering"; OpenAPI definitions/event_filter.yaml and
// room_event_filter.yaml): parsed from untrusted JSON into a typed value, then applied to
// events. Shared by /messages, /context and /sync.

import { getField, isJsonObject, type JsonObject, type JsonValue } from '../../rooms/json.ts';

export interface RoomEventFilter {
  /** Event types to include (`*` matches any sequence of characters); undefined: all. */
  readonly types: readonly string[] | undefined;
  readonly notTypes: readonly string[];
  readonly senders: readonly string[] | undefined;
  readonly notSenders: readonly string[];
  readonly rooms: readonly string[] | undefined;
  readonly notRooms: readonly string[];
  /** true: only events whose content has a `url`; false: only events without; undefined: either. */
  readonly containsUrl: boolean | undefined;
  /** The maximum number of events to return (> 0); undefined: the endpoint's default. */
  readonly limit: number | undefined;
  readonly lazyLoadMembers: boolean;
  readonly includeRedundantMembers: boolean;
  readonly unreadThreadNotifications: boolean;
}

export const NO_ROOM_EVENT_FILTER: RoomEventFilter = {
  types: undefined,
  notTypes: [],
  senders: undefined,
  notSenders: [],
  rooms: undefined,
  notRooms: [],
  containsUrl: undefined,
  limit: undefined,
  lazyLoadMembers: false,
  includeRedundantMembers: false,
  unreadThreadNotifications: false,
};

/** The filter JSON was not a valid RoomEventFilter; the message says which key and why. */
export class RoomEventFilterError extends Error {
  override name = 'RoomEventFilterError';
}

/** Reads a RoomEventFilter object. Unknown keys are ignored, as for every Matrix object. */
export function parseRoomEventFilter(json: JsonValue): RoomEventFilter {
  if (!isJsonObject(json)) throw new RoomEventFilterError('filter must be a JSON object');
  const limit = getField(json, 'limit');
  if (limit !== undefined && (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit <= 0)) {
    throw new RoomEventFilterError('filter.limit must be an integer greater than 0');
  }
  return {
    types: optionalStrings(json, 'types'),
    notTypes: optionalStrings(json, 'not_types') ?? [],
    senders: optionalStrings(json, 'senders'),
    notSenders: optionalStrings(json, 'not_senders') ?? [],
    rooms: optionalStrings(json, 'rooms'),
    notRooms: optionalStrings(json, 'not_rooms') ?? [],
    containsUrl: optionalBoolean(json, 'contains_url'),
    limit: limit === undefined ? undefined : limit,
    lazyLoadMembers: optionalBoolean(json, 'lazy_load_members') ?? false,
    includeRedundantMembers: optionalBoolean(json, 'include_redundant_members') ?? false,
    unreadThreadNotifications: optionalBoolean(json, 'unread_thread_notifications') ?? false,
  };
}

/** Reads the `filter` query parameter of /messages and /context: a JSON RoomEventFilter. */
export function parseRoomEventFilterParam(text: string | null): RoomEventFilter {
  if (text === null || text === '') return NO_ROOM_EVENT_FILTER;
  let json: JsonValue;
  try {
    json = JSON.parse(text) as JsonValue;
  } catch {
    throw new RoomEventFilterError('filter is not valid JSON');
  }
  return parseRoomEventFilter(json);
}

/** What a filter looks at in an event. */
export interface FilterableEvent {
  readonly type: string;
  readonly sender: string;
  readonly roomId?: string | undefined;
  readonly content: JsonValue | undefined;
}

/** Whether `event` passes every condition of `filter` (an excluding list wins over an including one). */
export function matchesRoomEventFilter(filter: RoomEventFilter, event: FilterableEvent): boolean {
  if (filter.notTypes.some((pattern) => typeMatches(pattern, event.type))) return false;
  if (filter.types !== undefined && !filter.types.some((pattern) => typeMatches(pattern, event.type))) return false;
  if (filter.notSenders.includes(event.sender)) return false;
  if (filter.senders !== undefined && !filter.senders.includes(event.sender)) return false;
  if (event.roomId !== undefined) {
    if (filter.notRooms.includes(event.roomId)) return false;
    if (filter.rooms !== undefined && !filter.rooms.includes(event.roomId)) return false;
  }
  if (filter.containsUrl !== undefined && hasUrl(event.content) !== filter.containsUrl) return false;
  return true;
}

/** A client event (`type`, `sender`, `room_id`, `content` keys) as a FilterableEvent. */
export function filterableOf(json: JsonObject): FilterableEvent {
  const type = getField(json, 'type');
  const sender = getField(json, 'sender');
  const roomId = getField(json, 'room_id');
  return {
    type: typeof type === 'string' ? type : '',
    sender: typeof sender === 'string' ? sender : '',
    roomId: typeof roomId === 'string' ? roomId : undefined,
    content: getField(json, 'content'),
  };
}

/** `*` matches any sequence of characters (possibly empty); everything else matches itself. */
export function typeMatches(pattern: string, type: string): boolean {
  if (!pattern.includes('*')) return pattern === type;
  const parts = pattern.split('*');
  const first = parts[0] ?? '';
  const last = parts[parts.length - 1] ?? '';
  if (type.length < first.length + last.length || !type.startsWith(first) || !type.endsWith(last)) return false;
  let at = first.length;
  const end = type.length - last.length;
  for (const middle of parts.slice(1, -1)) {
    const found = type.indexOf(middle, at);
    if (found === -1 || found + middle.length > end) return false;
    at = found + middle.length;
  }
  return true;
}

function hasUrl(content: JsonValue | undefined): boolean {
  return isJsonObject(content) && typeof getField(content, 'url') === 'string';
}

function optionalStrings(json: JsonObject, key: string): string[] | undefined {
  const value = getField(json, key);
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw new RoomEventFilterError(`filter.${key} must be an array of strings`);
  }
  return value as string[];
}

function optionalBoolean(json: JsonObject, key: string): boolean | undefined {
  const value = getField(json, key);
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw new RoomEventFilterError(`filter.${key} must be a boolean`);
  return value;
}
