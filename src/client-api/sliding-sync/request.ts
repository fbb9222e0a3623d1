// The request body of simplified sliding sync (MSC4186, as Synapse's SlidingSyncBody
// accepts it): `conn_id`, `lists`, `room_subscriptions` and `extensions`. Parsed by hand
// into plain values so a client's mistake is a 400 naming the field, never a 500.
// Parameters are not sticky: every request carries the full configuration. `txn_id` is not
// echoed, as Synapse does not: matrix-rust-sdk then resends its "sticky" parameters
// (extensions, room subscriptions, list settings) with every request.

import { badJson } from '../../http/matrix-error.ts';
import { isJsonObject, type JsonObject, type JsonValue } from '../../rooms/json.ts';
import { parseRequiredState, type RequiredState } from './required-state.ts';

export const MAX_TIMELINE_LIMIT = 1000;
const MAX_NAME_LENGTH = 64;
const MAX_LISTS = 100;
const MAX_RANGES = 100;
const MAX_SUBSCRIPTIONS = 1000;
const MAX_CONN_ID_LENGTH = 200;
const DEFAULT_TO_DEVICE_LIMIT = 100;

export interface RoomParams {
  readonly requiredState: RequiredState;
  readonly timelineLimit: number;
}

export interface ListFilters {
  readonly isDm?: boolean;
  readonly isEncrypted?: boolean;
  readonly isInvite?: boolean;
  /** `null` in the list matches rooms without a type. */
  readonly roomTypes?: ReadonlyArray<string | null>;
  readonly notRoomTypes?: ReadonlyArray<string | null>;
  readonly spaces?: readonly string[];
  readonly roomNameLike?: string;
  readonly tags?: readonly string[];
  readonly notTags?: readonly string[];
}

export interface ListConfig extends RoomParams {
  /** Inclusive [start, end] index ranges; none: the list reports only its count. */
  readonly ranges: ReadonlyArray<readonly [number, number]>;
  readonly filters: ListFilters;
}

/** Which rooms an extension covers: list names and subscribed room IDs, `*` for all. */
export interface ExtensionScope {
  readonly lists: readonly string[];
  readonly rooms: readonly string[];
}

export interface Extensions {
  readonly toDevice?: { readonly limit: number; readonly since: string | undefined };
  readonly e2ee?: true;
  readonly accountData?: ExtensionScope;
  readonly receipts?: ExtensionScope;
  readonly typing?: ExtensionScope;
}

export interface SlidingSyncBody {
  readonly connId: string | undefined;
  readonly lists: ReadonlyMap<string, ListConfig>;
  readonly roomSubscriptions: ReadonlyMap<string, RoomParams>;
  readonly extensions: Extensions;
}

export function parseSlidingSyncBody(body: JsonObject, userId: string): SlidingSyncBody {
  const connId = optionalString(body['conn_id'], 'conn_id');
  if (connId !== undefined && connId.length > MAX_CONN_ID_LENGTH) throw badJson('conn_id is too long');
  const lists = new Map<string, ListConfig>();
  const rawLists = optionalObject(body['lists'], 'lists') ?? {};
  if (Object.keys(rawLists).length > MAX_LISTS) throw badJson(`at most ${MAX_LISTS} lists`);
  for (const [name, raw] of Object.entries(rawLists)) {
    if (name.length > MAX_NAME_LENGTH) throw badJson(`list name ${JSON.stringify(name.slice(0, 20))}… is too long`);
    lists.set(name, parseList(raw, `lists.${name}`, userId));
  }
  const roomSubscriptions = new Map<string, RoomParams>();
  const rawSubs = optionalObject(body['room_subscriptions'], 'room_subscriptions') ?? {};
  if (Object.keys(rawSubs).length > MAX_SUBSCRIPTIONS) throw badJson(`at most ${MAX_SUBSCRIPTIONS} room subscriptions`);
  for (const [roomId, raw] of Object.entries(rawSubs)) {
    if (!roomId.startsWith('!')) throw badJson(`room_subscriptions: ${JSON.stringify(roomId)} is not a room ID`);
    roomSubscriptions.set(roomId, parseRoomParams(requireObject(raw, `room_subscriptions.${roomId}`), `room_subscriptions.${roomId}`, userId));
  }
  return { connId, lists, roomSubscriptions, extensions: parseExtensions(optionalObject(body['extensions'], 'extensions') ?? {}) };
}

function parseList(raw: JsonValue | undefined, field: string, userId: string): ListConfig {
  const list = requireObject(raw, field);
  const ranges: Array<readonly [number, number]> = [];
  const rawRanges = list['ranges'];
  if (rawRanges !== undefined && rawRanges !== null) {
    if (!Array.isArray(rawRanges) || rawRanges.length > MAX_RANGES) throw badJson(`${field}.ranges must be an array of [start, end] pairs`);
    for (const range of rawRanges) {
      if (!Array.isArray(range) || range.length !== 2) throw badJson(`${field}.ranges must be an array of [start, end] pairs`);
      const [start, end] = range;
      if (!isIndex(start) || !isIndex(end) || start > end) throw badJson(`${field}.ranges: each range must be [start, end] with 0 ≤ start ≤ end`);
      ranges.push([start, end]);
    }
  }
  return { ...parseRoomParams(list, field, userId), ranges, filters: parseFilters(optionalObject(list['filters'], `${field}.filters`) ?? {}, `${field}.filters`) };
}

function parseRoomParams(raw: JsonObject, field: string, userId: string): RoomParams {
  const pairs: Array<readonly [string, string]> = [];
  const rawState = raw['required_state'];
  if (rawState !== undefined && rawState !== null) {
    if (!Array.isArray(rawState)) throw badJson(`${field}.required_state must be an array of [type, state_key] pairs`);
    for (const pair of rawState) {
      if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== 'string' || typeof pair[1] !== 'string') {
        throw badJson(`${field}.required_state must be an array of [type, state_key] pairs`);
      }
      pairs.push([pair[0], pair[1]]);
    }
  }
  const limit = raw['timeline_limit'];
  if (limit !== undefined && limit !== null && !isIndex(limit)) throw badJson(`${field}.timeline_limit must be a non-negative integer`);
  return { requiredState: parseRequiredState(pairs, userId), timelineLimit: Math.min(typeof limit === 'number' ? limit : 0, MAX_TIMELINE_LIMIT) };
}

function parseFilters(raw: JsonObject, field: string): ListFilters {
  const filters: {
    isDm?: boolean; isEncrypted?: boolean; isInvite?: boolean; roomTypes?: Array<string | null>; notRoomTypes?: Array<string | null>;
    spaces?: string[]; roomNameLike?: string; tags?: string[]; notTags?: string[];
  } = {};
  const isDm = optionalBoolean(raw['is_dm'], `${field}.is_dm`);
  if (isDm !== undefined) filters.isDm = isDm;
  const isEncrypted = optionalBoolean(raw['is_encrypted'], `${field}.is_encrypted`);
  if (isEncrypted !== undefined) filters.isEncrypted = isEncrypted;
  const isInvite = optionalBoolean(raw['is_invite'], `${field}.is_invite`);
  if (isInvite !== undefined) filters.isInvite = isInvite;
  const roomTypes = optionalTypeList(raw['room_types'], `${field}.room_types`);
  if (roomTypes !== undefined) filters.roomTypes = roomTypes;
  const notRoomTypes = optionalTypeList(raw['not_room_types'], `${field}.not_room_types`);
  if (notRoomTypes !== undefined) filters.notRoomTypes = notRoomTypes;
  const spaces = optionalStrings(raw['spaces'], `${field}.spaces`);
  if (spaces !== undefined) filters.spaces = spaces;
  const like = optionalString(raw['room_name_like'], `${field}.room_name_like`);
  if (like !== undefined) filters.roomNameLike = like;
  const tags = optionalStrings(raw['tags'], `${field}.tags`);
  if (tags !== undefined) filters.tags = tags;
  const notTags = optionalStrings(raw['not_tags'], `${field}.not_tags`);
  if (notTags !== undefined) filters.notTags = notTags;
  return filters;
}

function parseExtensions(raw: JsonObject): Extensions {
  const out: { toDevice?: NonNullable<Extensions['toDevice']>; e2ee?: true; accountData?: ExtensionScope; receipts?: ExtensionScope; typing?: ExtensionScope } = {};
  const toDevice = optionalObject(raw['to_device'], 'extensions.to_device');
  if (toDevice !== undefined && enabled(toDevice, 'extensions.to_device')) {
    const limit = toDevice['limit'];
    if (limit !== undefined && limit !== null && !isIndex(limit)) throw badJson('extensions.to_device.limit must be a non-negative integer');
    out.toDevice = {
      limit: typeof limit === 'number' ? limit : DEFAULT_TO_DEVICE_LIMIT,
      since: optionalString(toDevice['since'], 'extensions.to_device.since'),
    };
  }
  const e2ee = optionalObject(raw['e2ee'], 'extensions.e2ee');
  if (e2ee !== undefined && enabled(e2ee, 'extensions.e2ee')) out.e2ee = true;
  for (const [key, name] of [['accountData', 'account_data'], ['receipts', 'receipts'], ['typing', 'typing']] as const) {
    const ext = optionalObject(raw[name], `extensions.${name}`);
    if (ext === undefined || !enabled(ext, `extensions.${name}`)) continue;
    out[key] = {
      lists: optionalStrings(ext['lists'], `extensions.${name}.lists`) ?? ['*'],
      rooms: optionalStrings(ext['rooms'], `extensions.${name}.rooms`) ?? ['*'],
    };
  }
  return out;
}

function enabled(ext: JsonObject, field: string): boolean {
  return optionalBoolean(ext['enabled'], `${field}.enabled`) === true;
}

function isIndex(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function requireObject(value: JsonValue | undefined, field: string): JsonObject {
  if (!isJsonObject(value)) throw badJson(`${field} must be an object`);
  return value;
}

function optionalObject(value: JsonValue | undefined, field: string): JsonObject | undefined {
  if (value === undefined || value === null) return undefined;
  return requireObject(value, field);
}

function optionalString(value: JsonValue | undefined, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw badJson(`${field} must be a string`);
  return value;
}

function optionalBoolean(value: JsonValue | undefined, field: string): boolean | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw badJson(`${field} must be a boolean`);
  return value;
}

function optionalStrings(value: JsonValue | undefined, field: string): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw badJson(`${field} must be an array of strings`);
  return value as string[];
}

function optionalTypeList(value: JsonValue | undefined, field: string): Array<string | null> | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' || v === null)) throw badJson(`${field} must be an array of strings or null`);
  return value as Array<string | null>;
}
