// POST /search, category `room_events` (client-server § "Server Side Search"): full-text
// matches from the search index, then the same history-visibility decision /messages makes
// (ClientReadQueries.visibility over the window of ../endpoints/rooms-read/access.ts), then
// the RoomEventFilter, until a page is full. Rooms searched: every room the user is or was in
// ("including those that they have left"), but not end-to-end encrypted ones (§ "room_events").
//
// Pages end at the last index match looked at, visible or not, so the next page starts after
// it: no result repeats and none is skipped. A page stops early after MAX_SCANNED matches
// (a long run of hidden events costs a bounded amount); `next_batch` then continues.

import { badJson, invalidParam, isMatrixError } from '../../http/matrix-error.ts';
import { stateKeyOf } from '../../rooms/event-view.ts';
import { getField, isJsonObject, type JsonObject, type JsonValue } from '../../rooms/json.ts';
import type { RoomEvent } from '../../roomserver/index.ts';
import type { ClientReadQueries, EventVisibility } from '../../roomserver/queries-client.ts';
import type { SearchCursor, SearchHit, SearchKey, SearchQuery, SearchRoom } from '../../storage/search-repository.ts';
import { stateAccess, timelineAccess, type TimelineAccess } from '../endpoints/rooms-read/access.ts';
import { readableState } from '../endpoints/rooms-read/readable-state.ts';
import {
  matchesRoomEventFilter,
  NO_ROOM_EVENT_FILTER,
  parseRoomEventFilter,
  RoomEventFilterError,
  type RoomEventFilter,
} from '../filters/room-event-filter.ts';
import type { BundledAggregator } from '../formatting/bundled-aggregations.ts';
import { formatRoomEvents, type EventRequester } from '../formatting/format-events.ts';
import { paginate } from '../pagination/paginate.ts';
import { encodePaginationToken } from '../pagination/token.ts';
import type { SearchIndexer } from './search-indexer.ts';
import { decodeSearchToken, encodeSearchToken, type GroupKey, type SearchToken } from './search-token.ts';

const ALL_KEYS: readonly SearchKey[] = ['content.body', 'content.name', 'content.topic'];
/** Synapse's page size when the filter sets no `limit`. */
const DEFAULT_LIMIT = 10;
const MAX_LIMIT = 100;
/** § event_context: "By default, this is `5`." */
const DEFAULT_CONTEXT = 5;
const MAX_CONTEXT = 100;
/** Index matches examined per request at most. */
const MAX_SCANNED = 1000;
/** Rooms the user is or was in: current membership of these kinds. */
const MEMBERSHIPS = ['join', 'invite', 'leave', 'ban'] as const;

/** The request's `room_events` criteria, as the body schema guarantees them. */
export interface RoomEventsCriteria {
  readonly search_term: string;
  readonly keys?: SearchKey[];
  readonly filter?: JsonObject;
  readonly order_by?: 'rank' | 'recent';
  readonly event_context?: { before_limit?: number; after_limit?: number; include_profile?: boolean };
  readonly include_state?: boolean;
  readonly groupings?: { group_by?: Array<{ key?: GroupKey }> };
}

export interface SearchServiceOptions {
  readonly indexer: SearchIndexer;
  readonly queries: ClientReadQueries;
  readonly clock: () => number;
  readonly aggregations?: BundledAggregator;
}

interface Found {
  readonly hit: SearchHit;
  readonly event: RoomEvent;
  readonly visibility: EventVisibility;
}

export class SearchService {
  readonly #indexer: SearchIndexer;
  readonly #queries: ClientReadQueries;
  readonly #clock: () => number;
  readonly #aggregations: BundledAggregator | undefined;

  constructor(options: SearchServiceOptions) {
    this.#indexer = options.indexer;
    this.#queries = options.queries;
    this.#clock = options.clock;
    this.#aggregations = options.aggregations;
  }

  async searchRoomEvents(requester: EventRequester, criteria: RoomEventsCriteria, nextBatch: string | undefined): Promise<JsonObject> {
    const orderBy = criteria.order_by ?? 'rank';
    const token = nextBatch === undefined ? undefined : decodeSearchToken(nextBatch);
    if (token !== undefined && token.orderBy !== orderBy) throw invalidParam('next_batch was issued for another order_by');
    const filter = parseFilter(criteria.filter);
    const limit = Math.min(filter.limit ?? DEFAULT_LIMIT, MAX_LIMIT);
    const keys = criteria.keys === undefined || criteria.keys.length === 0 ? ALL_KEYS : [...new Set(criteria.keys)];
    const groupKeys = [...new Set((criteria.groupings?.group_by ?? []).flatMap((g) => (g.key === undefined ? [] : [g.key])))];
    const userId = requester.userId;

    await this.#indexer.catchUp();
    const access = new AccessCache(this.#queries, userId);
    const rooms = await this.#rooms(userId, filter, token, access);
    const senderScope = token?.group?.key === 'sender' ? [token.group.value] : undefined;
    const query: SearchQuery = {
      term: criteria.search_term,
      keys,
      rooms,
      senders: intersect(filter.senders, senderScope),
      notSenders: [...filter.notSenders],
      orderBy,
      after: token?.cursor,
      limit,
    };

    const { found, next } = await this.#collect(query, filter, access, userId, limit);
    const repo = this.#indexer.repository;
    const now = this.#clock();

    const byRoom = groupBy(found, (f) => f.hit.roomId);
    const formatted = new Map<string, JsonObject>();
    for (const [roomId, items] of byRoom) {
      const roomAccess = await access.timeline(roomId);
      const json = await formatRoomEvents(this.#queries, roomId, items.map((f) => f.event), {
        format: 'client',
        now,
        requester,
        visibility: new Map(items.map((f) => [f.event.eventId, f.visibility])),
        history: roomAccess?.history ?? [],
        ...(this.#aggregations === undefined ? {} : { aggregations: this.#aggregations }),
      });
      items.forEach((f, i) => formatted.set(f.event.eventId, json[i] ?? {}));
    }

    const results: JsonObject[] = [];
    for (const f of found) {
      const result: JsonObject = { rank: f.hit.rank, result: formatted.get(f.event.eventId) ?? {} };
      if (criteria.event_context !== undefined) {
        result['context'] = await this.#context(requester, f, criteria.event_context, access, now);
      }
      results.push(result);
    }

    // A first page that saw every match counts exactly; otherwise the index's count of
    // matches in the readable windows is the spec's "approximation" (it may include events
    // history visibility hides).
    const count = token === undefined && next === undefined ? found.length : await repo.count({ ...query, after: undefined });
    const body: JsonObject = {
      count,
      highlights: criteria.search_term.trim() === '' ? [] : await repo.highlights(found.map((f) => f.event.eventId), criteria.search_term),
      results,
    };
    const nextToken = (group?: SearchToken['group']) =>
      next === undefined ? undefined : encodeSearchToken({ orderBy, cursor: next, ...(group === undefined ? {} : { group }) });
    const nextBatchOut = nextToken(token?.group);
    if (nextBatchOut !== undefined) body['next_batch'] = nextBatchOut;

    if (groupKeys.length > 0) {
      const groups: JsonObject = {};
      for (const key of groupKeys) {
        const byValue: JsonObject = {};
        for (const f of found) {
          const value = key === 'room_id' ? f.hit.roomId : f.hit.sender;
          let group = byValue[value] as JsonObject | undefined;
          if (group === undefined) {
            group = { results: [], order: Object.keys(byValue).length };
            const scoped = nextToken({ key, value });
            if (scoped !== undefined) group['next_batch'] = scoped;
            byValue[value] = group;
          }
          (group['results'] as JsonValue[]).push(f.event.eventId);
        }
        groups[key] = byValue;
      }
      body['groups'] = groups;
    }

    if (criteria.include_state === true) {
      const state: JsonObject = {};
      for (const roomId of byRoom.keys()) state[roomId] = await this.#state(requester, roomId, now);
      body['state'] = state;
    }
    return { search_categories: { room_events: body } };
  }

  /** The rooms to search, each up to where the user may read it. */
  async #rooms(userId: string, filter: RoomEventFilter, token: SearchToken | undefined, access: AccessCache): Promise<SearchRoom[]> {
    // Joined and invited: readable up to now (access.ts), no need to walk membership history
    // here; it is loaded later, only for rooms with matches.
    const current = new Set<string>();
    const ids = new Set<string>();
    for (const membership of MEMBERSHIPS) {
      for (const roomId of await this.#queries.roomserver.roomsForUser(userId, membership)) {
        ids.add(roomId);
        if (membership === 'join' || membership === 'invite') current.add(roomId);
      }
    }
    const scope = token?.group?.key === 'room_id' ? token.group.value : undefined;
    const candidates = [...ids].filter(
      (roomId) =>
        (filter.rooms === undefined || filter.rooms.includes(roomId)) &&
        !filter.notRooms.includes(roomId) &&
        (scope === undefined || scope === roomId),
    );
    const encrypted = await this.#indexer.repository.encryptedRooms(candidates);
    const rooms: SearchRoom[] = [];
    for (const roomId of candidates) {
      if (encrypted.has(roomId)) continue;
      if (current.has(roomId)) {
        rooms.push({ roomId, upTo: undefined });
        continue;
      }
      const window = await access.timeline(roomId);
      if (window !== undefined) rooms.push({ roomId, upTo: window.upTo });
    }
    return rooms;
  }

  async #collect(
    query: SearchQuery,
    filter: RoomEventFilter,
    access: AccessCache,
    userId: string,
    limit: number,
  ): Promise<{ found: Found[]; next: SearchCursor | undefined }> {
    const repo = this.#indexer.repository;
    const found: Found[] = [];
    let cursor = query.after;
    let scanned = 0;
    let exhausted = false;
    while (found.length < limit && scanned < MAX_SCANNED) {
      const batchSize = Math.max(20, (limit - found.length) * 2);
      const hits = await repo.search({ ...query, after: cursor, limit: batchSize });
      scanned += hits.length;
      const events = await this.#queries.events(hits.map((h) => h.eventId));
      const facts = new Map<string, EventVisibility>();
      for (const [roomId, roomHits] of groupBy(hits, (h) => h.roomId)) {
        const window = await access.timeline(roomId);
        if (window === undefined) continue;
        const roomEvents = roomHits.flatMap((h) => {
          const event = events.get(h.eventId);
          return event === undefined ? [] : [event];
        });
        for (const [id, fact] of await this.#queries.visibility(roomId, userId, roomEvents, window.history)) facts.set(id, fact);
      }
      let consumed = 0;
      for (const hit of hits) {
        if (found.length >= limit) break;
        consumed++;
        cursor = query.orderBy === 'rank' ? { rank: hit.rank, streamOrdering: hit.streamOrdering } : { streamOrdering: hit.streamOrdering };
        const event = events.get(hit.eventId);
        const visibility = facts.get(hit.eventId);
        if (event === undefined || visibility?.visible !== true || event.redactedBy !== null) continue;
        const content = getField(event.json, 'content');
        if (!matchesRoomEventFilter(filter, { type: event.type, sender: event.sender, roomId: event.roomId, content })) continue;
        found.push({ hit, event, visibility });
      }
      if (hits.length < batchSize && consumed === hits.length) {
        exhausted = true;
        break;
      }
    }
    return { found, next: exhausted || cursor === undefined ? undefined : cursor };
  }

  async #context(
    requester: EventRequester,
    found: Found,
    options: NonNullable<RoomEventsCriteria['event_context']>,
    access: AccessCache,
    now: number,
  ): Promise<JsonObject> {
    const roomId = found.event.roomId;
    const window = await access.timeline(roomId);
    const history = window?.history ?? [];
    const position = found.event.streamOrdering ?? 0;
    const common = { roomId, userId: requester.userId, history, filter: NO_ROOM_EVENT_FILTER };
    const before = await paginate(this.#queries, {
      ...common,
      direction: 'backward',
      from: position - 1,
      to: undefined,
      limit: Math.min(options.before_limit ?? DEFAULT_CONTEXT, MAX_CONTEXT),
    });
    const ceiling = window?.upTo ?? (await this.#queries.roomserver.latestStreamPosition());
    const after = await paginate(this.#queries, {
      ...common,
      direction: 'forward',
      from: position,
      to: Math.max(position, ceiling),
      limit: Math.min(options.after_limit ?? DEFAULT_CONTEXT, MAX_CONTEXT),
    });
    // events_before newest first, as /context and Synapse give them.
    const format = (events: RoomEvent[], visibility: Map<string, EventVisibility>) =>
      formatRoomEvents(this.#queries, roomId, events, { format: 'client', now, requester, visibility, history });
    const context: JsonObject = {
      start: encodePaginationToken(before.next),
      end: encodePaginationToken(after.next),
      events_before: await format(before.events, before.visibility),
      events_after: await format(after.events, after.visibility),
    };
    if (options.include_profile === true) {
      const last = after.events.at(-1) ?? found.event;
      context['profile_info'] = await this.#profiles([...before.events, found.event, ...after.events], last);
    }
    return context;
  }

  /** The senders' display names and avatars in the room state after `last` (historic profiles). */
  async #profiles(events: readonly RoomEvent[], last: RoomEvent): Promise<JsonObject> {
    const state = await this.#queries.roomserver.stateAt(last.eventId, 'after');
    const senders = [...new Set(events.map((e) => e.sender))];
    const memberIds = new Map<string, string>();
    for (const sender of senders) {
      const id = state?.get(stateKeyOf('m.room.member', sender));
      if (id !== undefined) memberIds.set(sender, id);
    }
    const members = await this.#queries.events([...memberIds.values()]);
    const out: JsonObject = {};
    for (const sender of senders) {
      const member = members.get(memberIds.get(sender) ?? '');
      const content = member === undefined ? undefined : getField(member.json, 'content');
      const profile: JsonObject = {};
      if (isJsonObject(content)) {
        const displayname = getField(content, 'displayname');
        const avatarUrl = getField(content, 'avatar_url');
        if (typeof displayname === 'string') profile['displayname'] = displayname;
        if (typeof avatarUrl === 'string' && avatarUrl !== '') profile['avatar_url'] = avatarUrl;
      }
      out[sender] = profile;
    }
    return out;
  }

  /** The state of a result's room the user may read: current, or as it was when they left. */
  async #state(requester: EventRequester, roomId: string, now: number): Promise<JsonValue[]> {
    let readable;
    try {
      readable = await stateAccess(this.#queries, roomId, requester.userId);
    } catch (error) {
      if (isMatrixError(error)) return [];
      throw error;
    }
    const state = await readableState(this.#queries, roomId, readable);
    const loaded = await this.#queries.events([...state.values()]);
    const events = [...state.values()].flatMap((id) => {
      const event = loaded.get(id);
      return event === undefined ? [] : [event];
    });
    return formatRoomEvents(this.#queries, roomId, events, { format: 'client', now, requester, history: readable.history });
  }
}

/** timelineAccess per room, once per request; undefined for rooms the user may not read. */
class AccessCache {
  readonly #queries: ClientReadQueries;
  readonly #userId: string;
  readonly #cache = new Map<string, Promise<TimelineAccess | undefined>>();

  constructor(queries: ClientReadQueries, userId: string) {
    this.#queries = queries;
    this.#userId = userId;
  }

  timeline(roomId: string): Promise<TimelineAccess | undefined> {
    let entry = this.#cache.get(roomId);
    if (entry === undefined) {
      entry = timelineAccess(this.#queries, roomId, this.#userId).catch((error: unknown) => {
        if (isMatrixError(error)) return undefined;
        throw error;
      });
      this.#cache.set(roomId, entry);
    }
    return entry;
  }
}

function parseFilter(json: JsonObject | undefined): RoomEventFilter {
  if (json === undefined) return NO_ROOM_EVENT_FILTER;
  try {
    return parseRoomEventFilter(json);
  } catch (error) {
    if (error instanceof RoomEventFilterError) throw badJson(error.message);
    throw error;
  }
}

function intersect(a: readonly string[] | undefined, b: readonly string[] | undefined): readonly string[] | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return a.filter((x) => b.includes(x));
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    let list = map.get(k);
    if (list === undefined) map.set(k, (list = []));
    list.push(item);
  }
  return map;
}
