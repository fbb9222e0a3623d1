// One page of the published room directory (client-server § "Published room directory",
// GET/POST /publicRooms; server-server § "Public Room Directory"): filtered by a search
// term and room types, largest rooms first (ties by room ID), paged by opaque tokens.
//
// A token is the sort key of the room the page ended (next_batch) or began (prev_batch)
// at, with the direction: pages are keyset slices, so rooms joining the directory or
// changing size between requests never make a page repeat or skip a room that kept its place.

import type { JsonObject } from '../../rooms/json.ts';
import { publicRoomsChunk, type RoomSummary } from './summary.ts';

export interface PageToken {
  readonly direction: 'forward' | 'backward';
  readonly members: number;
  readonly roomId: string;
}

export interface PublicRoomsQuery {
  /** undefined: every room (up to MAX_PAGE). */
  readonly limit: number | undefined;
  readonly since: PageToken | undefined;
  readonly searchTerm: string | undefined;
  /** undefined: any type; `null` in the list stands for rooms without a type. */
  readonly roomTypes: ReadonlyArray<string | null> | undefined;
}

/** A page is never longer than this, whatever the client asks. */
export const MAX_PAGE = 500;

export function encodePageToken(token: PageToken): string {
  const text = JSON.stringify([token.direction === 'forward' ? 'f' : 'b', token.members, token.roomId]);
  return Buffer.from(text, 'utf8').toString('base64url');
}

/** undefined for anything this server did not hand out. */
export function decodePageToken(text: string): PageToken | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (!Array.isArray(value) || value.length !== 3) return undefined;
    const [dir, members, roomId] = value as unknown[];
    if ((dir !== 'f' && dir !== 'b') || typeof members !== 'number' || !Number.isSafeInteger(members) || typeof roomId !== 'string') return undefined;
    return { direction: dir === 'f' ? 'forward' : 'backward', members, roomId };
  } catch {
    return undefined;
  }
}

/** Whether the room sorts before the token's position (more members, or as many and a smaller ID). */
function before(summary: RoomSummary, key: { members: number; roomId: string }): boolean {
  if (summary.numJoinedMembers !== key.members) return summary.numJoinedMembers > key.members;
  return summary.roomId < key.roomId;
}

function matchesSearch(summary: RoomSummary, term: string): boolean {
  const needle = term.toLowerCase();
  return [summary.name, summary.topic, summary.canonicalAlias].some((text) => text !== undefined && text.toLowerCase().includes(needle));
}

/** The public_rooms_response.yaml answer for `rooms` (the directory's candidates). */
export function publicRoomsPage(rooms: readonly RoomSummary[], query: PublicRoomsQuery): JsonObject {
  const term = query.searchTerm?.trim();
  const types = query.roomTypes;
  const matching = rooms
    .filter((room) => term === undefined || term === '' || matchesSearch(room, term))
    .filter((room) => types === undefined || types.includes(room.roomType ?? null))
    .sort((a, b) => (a.numJoinedMembers !== b.numJoinedMembers ? b.numJoinedMembers - a.numJoinedMembers : a.roomId < b.roomId ? -1 : a.roomId > b.roomId ? 1 : 0));
  const limit = Math.min(query.limit ?? MAX_PAGE, MAX_PAGE);

  let start: number;
  let end: number;
  const since = query.since;
  if (since === undefined) {
    start = 0;
    end = Math.min(limit, matching.length);
  } else if (since.direction === 'forward') {
    start = matching.findIndex((room) => !before(room, since) && !(room.roomId === since.roomId));
    if (start === -1) start = matching.length;
    end = Math.min(start + limit, matching.length);
  } else {
    end = matching.findIndex((room) => !before(room, since));
    if (end === -1) end = matching.length;
    start = Math.max(0, end - limit);
  }

  const page = matching.slice(start, end);
  const response: JsonObject = { chunk: page.map(publicRoomsChunk), total_room_count_estimate: matching.length };
  const first = page[0];
  const last = page[page.length - 1];
  if (last !== undefined && end < matching.length) {
    response['next_batch'] = encodePageToken({ direction: 'forward', members: last.numJoinedMembers, roomId: last.roomId });
  }
  if (first !== undefined && start > 0) {
    response['prev_batch'] = encodePageToken({ direction: 'backward', members: first.numJoinedMembers, roomId: first.roomId });
  }
  return response;
}

/** A /publicRooms request as received: query strings (GET) or JSON values (POST). */
export interface PublicRoomsRequest {
  readonly limit: unknown;
  readonly since: unknown;
  readonly filter: unknown;
  readonly includeAllNetworks: unknown;
  readonly thirdPartyInstanceId: unknown;
}

export type ParsedPublicRoomsRequest =
  | {
      readonly ok: true;
      readonly query: PublicRoomsQuery;
      /**
       * A third-party network was asked for. Stoa bridges none (no application service
       * networks), so the answer is empty.
       */
      readonly thirdPartyNetwork: boolean;
    }
  | { readonly ok: false; readonly error: string };

export function parsePublicRoomsRequest(request: PublicRoomsRequest): ParsedPublicRoomsRequest {
  let limit: number | undefined;
  if (typeof request.limit === 'string' && /^[0-9]{1,9}$/.test(request.limit)) limit = Number(request.limit);
  else if (typeof request.limit === 'number' && Number.isSafeInteger(request.limit) && request.limit >= 0) limit = request.limit;
  else if (request.limit !== undefined && request.limit !== null) return { ok: false, error: 'limit must be a non-negative integer' };

  let since: PageToken | undefined;
  if (typeof request.since === 'string' && request.since !== '') {
    since = decodePageToken(request.since);
    if (since === undefined) return { ok: false, error: 'Unknown pagination token' };
  } else if (request.since !== undefined && request.since !== null && request.since !== '') {
    return { ok: false, error: 'since must be a string' };
  }

  let searchTerm: string | undefined;
  let roomTypes: Array<string | null> | undefined;
  const filter = request.filter;
  if (filter !== undefined && filter !== null) {
    if (typeof filter !== 'object' || Array.isArray(filter)) return { ok: false, error: 'filter must be an object' };
    const term = (filter as Record<string, unknown>)['generic_search_term'];
    if (typeof term === 'string') searchTerm = term;
    else if (term !== undefined && term !== null) return { ok: false, error: 'filter.generic_search_term must be a string' };
    const types = (filter as Record<string, unknown>)['room_types'];
    if (Array.isArray(types)) {
      if (!types.every((t) => t === null || typeof t === 'string')) return { ok: false, error: 'filter.room_types must hold strings or null' };
      roomTypes = types as Array<string | null>;
    } else if (types !== undefined && types !== null) {
      return { ok: false, error: 'filter.room_types must be an array' };
    }
  }

  const all = request.includeAllNetworks;
  if (all !== undefined && typeof all !== 'boolean' && all !== 'true' && all !== 'false') {
    return { ok: false, error: 'include_all_networks must be a boolean' };
  }
  const instance = request.thirdPartyInstanceId;
  if (instance !== undefined && instance !== null && typeof instance !== 'string') return { ok: false, error: 'third_party_instance_id must be a string' };
  const hasInstance = typeof instance === 'string';
  if (hasInstance && (all === true || all === 'true')) {
    return { ok: false, error: 'third_party_instance_id can only be used when include_all_networks is false' };
  }
  return { ok: true, query: { limit, since, searchTerm, roomTypes }, thirdPartyNetwork: hasInstance };
}
