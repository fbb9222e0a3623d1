// Filters (client-server § "Filtering"; OpenAPI definitions/sync_filter.yaml,
// room_event_filter.yaml, event_filter.yaml): parsed once from client JSON into a typed
// value with the defaults filled in, so /sync never re-reads raw JSON. Bad filters are
// M_BAD_JSON (the spec's code for valid JSON of the wrong shape), never a crash.

import { badJson } from '../../http/matrix-error.ts';
import { isJsonObject, type JsonObject, type JsonValue } from '../../rooms/json.ts';

/** Synapse's default `timeline.limit`; the spec leaves the default to the server. */
export const DEFAULT_TIMELINE_LIMIT = 10;
/** The most events one filter may ask for ("impose a maximum value to avoid resource exhaustion"). */
export const MAX_FILTER_LIMIT = 1000;

export interface EventFilter {
  readonly limit: number | undefined;
  /** undefined: every type is included. */
  readonly types: readonly string[] | undefined;
  readonly notTypes: readonly string[];
  readonly senders: readonly string[] | undefined;
  readonly notSenders: readonly string[];
}

export interface RoomEventFilter extends EventFilter {
  readonly rooms: readonly string[] | undefined;
  readonly notRooms: readonly string[];
  /** undefined: `url` is not considered. */
  readonly containsUrl: boolean | undefined;
  readonly lazyLoadMembers: boolean;
  readonly includeRedundantMembers: boolean;
  readonly unreadThreadNotifications: boolean;
}

export interface RoomFilter {
  readonly rooms: readonly string[] | undefined;
  readonly notRooms: readonly string[];
  readonly includeLeave: boolean;
  readonly ephemeral: RoomEventFilter;
  readonly state: RoomEventFilter;
  readonly timeline: RoomEventFilter;
  readonly accountData: RoomEventFilter;
}

export interface SyncFilter {
  /** undefined: all fields. */
  readonly eventFields: readonly string[] | undefined;
  readonly eventFormat: 'client' | 'federation';
  readonly presence: EventFilter;
  readonly accountData: EventFilter;
  readonly room: RoomFilter;
}

/** Parses a Filter object (the body of POST /user/{userId}/filter, or an inline /sync filter). */
export function parseSyncFilter(value: JsonValue): SyncFilter {
  const obj = objectAt(value, 'filter');
  const format = obj['event_format'];
  if (format !== undefined && format !== 'client' && format !== 'federation') {
    throw badJson('event_format must be "client" or "federation"');
  }
  const room = obj['room'] === undefined ? {} : objectAt(obj['room'], 'room');
  return {
    eventFields: stringList(obj['event_fields'], 'event_fields'),
    eventFormat: format ?? 'client',
    presence: parseEventFilter(obj['presence'], 'presence'),
    accountData: parseEventFilter(obj['account_data'], 'account_data'),
    room: {
      rooms: stringList(room['rooms'], 'room.rooms'),
      notRooms: stringList(room['not_rooms'], 'room.not_rooms') ?? [],
      includeLeave: bool(room['include_leave'], 'room.include_leave') ?? false,
      ephemeral: parseRoomEventFilter(room['ephemeral'], 'room.ephemeral'),
      state: parseRoomEventFilter(room['state'], 'room.state'),
      timeline: parseRoomEventFilter(room['timeline'], 'room.timeline'),
      accountData: parseRoomEventFilter(room['account_data'], 'room.account_data'),
    },
  };
}

/** The filter used when a request names none. */
export const DEFAULT_SYNC_FILTER: SyncFilter = parseSyncFilter({});

export function parseEventFilter(value: JsonValue | undefined, where: string): EventFilter {
  const obj = value === undefined ? {} : objectAt(value, where);
  const limit = obj['limit'];
  if (limit !== undefined && (typeof limit !== 'number' || !Number.isInteger(limit) || limit <= 0)) {
    throw badJson(`${where}.limit must be an integer greater than 0`);
  }
  return {
    limit: limit === undefined ? undefined : Math.min(limit, MAX_FILTER_LIMIT),
    types: stringList(obj['types'], `${where}.types`),
    notTypes: stringList(obj['not_types'], `${where}.not_types`) ?? [],
    senders: stringList(obj['senders'], `${where}.senders`),
    notSenders: stringList(obj['not_senders'], `${where}.not_senders`) ?? [],
  };
}

export function parseRoomEventFilter(value: JsonValue | undefined, where: string): RoomEventFilter {
  const obj = value === undefined ? {} : objectAt(value, where);
  return {
    ...parseEventFilter(obj, where),
    rooms: stringList(obj['rooms'], `${where}.rooms`),
    notRooms: stringList(obj['not_rooms'], `${where}.not_rooms`) ?? [],
    containsUrl: bool(obj['contains_url'], `${where}.contains_url`),
    lazyLoadMembers: bool(obj['lazy_load_members'], `${where}.lazy_load_members`) ?? false,
    includeRedundantMembers: bool(obj['include_redundant_members'], `${where}.include_redundant_members`) ?? false,
    unreadThreadNotifications: bool(obj['unread_thread_notifications'], `${where}.unread_thread_notifications`) ?? false,
  };
}

/** What an EventFilter looks at; `content` only for `contains_url`. */
export interface FilterableEvent {
  readonly type: string;
  readonly sender?: string | undefined;
  readonly roomId?: string | undefined;
  readonly content?: JsonObject | undefined;
}

/** event_filter.yaml: a `not_` list wins over its positive list; `*` in types matches any run of characters. */
export function eventFilterAllows(filter: EventFilter, event: FilterableEvent): boolean {
  if (filter.notTypes.some((pattern) => typeMatches(pattern, event.type))) return false;
  if (filter.types !== undefined && !filter.types.some((pattern) => typeMatches(pattern, event.type))) return false;
  if (event.sender !== undefined) {
    if (filter.notSenders.includes(event.sender)) return false;
    if (filter.senders !== undefined && !filter.senders.includes(event.sender)) return false;
  }
  return true;
}

/** room_event_filter.yaml: the EventFilter rules plus rooms and `contains_url`. */
export function roomEventFilterAllows(filter: RoomEventFilter, event: FilterableEvent): boolean {
  if (!eventFilterAllows(filter, event)) return false;
  if (event.roomId !== undefined && !roomAllowed(filter, event.roomId)) return false;
  if (filter.containsUrl !== undefined) {
    const hasUrl = typeof event.content?.['url'] === 'string';
    if (hasUrl !== filter.containsUrl) return false;
  }
  return true;
}

/** `rooms` / `not_rooms` of a RoomFilter or RoomEventFilter. */
export function roomAllowed(filter: { readonly rooms: readonly string[] | undefined; readonly notRooms: readonly string[] }, roomId: string): boolean {
  if (filter.notRooms.includes(roomId)) return false;
  return filter.rooms === undefined || filter.rooms.includes(roomId);
}

/** Whether a filter can never match anything (`limit` aside): `types: []` or `senders: []`. */
export function excludesEverything(filter: EventFilter): boolean {
  return (filter.types !== undefined && filter.types.length === 0) || (filter.senders !== undefined && filter.senders.length === 0);
}

function typeMatches(pattern: string, type: string): boolean {
  if (!pattern.includes('*')) return pattern === type;
  const regex = new RegExp(`^${pattern.split('*').map(escapeRegExp).join('.*')}$`, 's');
  return regex.test(type);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * `event_fields` (appendices § "Dot-separated property paths"): keeps only the named
 * paths. `\.` escapes a dot inside a key and `\\` a backslash.
 */
export function projectEventFields(event: JsonObject, fields: readonly string[]): JsonObject {
  const out: JsonObject = {};
  for (const field of fields) {
    const path = splitDotPath(field);
    let source: JsonValue | undefined = event;
    for (const key of path) source = isJsonObject(source) ? source[key] : undefined;
    if (source === undefined || path.length === 0) continue;
    let target = out;
    for (const key of path.slice(0, -1)) {
      const next = target[key];
      if (isJsonObject(next)) target = next;
      else {
        const created: JsonObject = {};
        target[key] = created;
        target = created;
      }
    }
    target[path[path.length - 1] as string] = source;
  }
  return out;
}

function splitDotPath(path: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < path.length; i++) {
    const ch = path[i] as string;
    if (ch === '\\' && i + 1 < path.length) {
      current += path[++i] as string;
    } else if (ch === '.') {
      parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts;
}

function objectAt(value: JsonValue | undefined, where: string): JsonObject {
  if (!isJsonObject(value)) throw badJson(`${where} must be an object`);
  return value;
}

function stringList(value: JsonValue | undefined, where: string): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw badJson(`${where} must be an array of strings`);
  }
  return value as string[];
}

function bool(value: JsonValue | undefined, where: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw badJson(`${where} must be a boolean`);
  return value;
}
