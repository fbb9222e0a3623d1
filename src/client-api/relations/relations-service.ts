// Reading relations (client-server § "Relationships API", relations.yaml; § "Querying
// threads in a room", threads_list.yaml). Pagination tokens are the room-event stream
// positions of /messages (`s<N>`, ../pagination/token.ts), so a /messages or /sync token
// works as `from`/`to` too, as relations.yaml allows: dir=b from `s<N>` returns children at
// or below N, newest first; dir=f returns children above N, oldest first.

import { forbidden, invalidParam } from '../../http/matrix-error.ts';
import type { JsonObject } from '../../rooms/json.ts';
import type { RoomEvent } from '../../roomserver/index.ts';
import type { ClientReadQueries } from '../../roomserver/queries-client.ts';
import { timelineAccess } from '../endpoints/rooms-read/access.ts';
import { visibleEvent } from '../endpoints/rooms-read/visible-event.ts';
import { formatRoomEvents } from '../formatting/format-events.ts';
import { decodePaginationToken, encodePaginationToken } from '../pagination/token.ts';
import type { RelationAggregator } from './aggregations.ts';
import type { RelationIndexer } from './relation-indexer.ts';

/** relations.yaml `recurse`: "Homeservers SHOULD traverse at least 3 levels". */
export const MAX_RECURSION_DEPTH = 3;
const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 200;
const MAX_FRONTIER = 1000;

export interface RelationsQuery {
  readonly roomId: string;
  readonly eventId: string;
  readonly userId: string;
  readonly deviceId: string | undefined;
  readonly relType?: string;
  readonly eventType?: string;
  readonly from?: string;
  readonly to?: string;
  readonly limit?: string;
  readonly dir?: string;
  readonly recurse?: string;
}

export interface ThreadsQuery {
  readonly roomId: string;
  readonly userId: string;
  readonly deviceId: string | undefined;
  readonly include?: string;
  readonly from?: string;
  readonly limit?: string;
}

export class RelationsService {
  readonly #indexer: RelationIndexer;
  readonly #queries: ClientReadQueries;
  readonly #aggregator: RelationAggregator;
  readonly #clock: () => number;

  constructor(options: { indexer: RelationIndexer; queries: ClientReadQueries; aggregator: RelationAggregator; clock: () => number }) {
    this.#indexer = options.indexer;
    this.#queries = options.queries;
    this.#aggregator = options.aggregator;
    this.#clock = options.clock;
  }

  async relations(q: RelationsQuery): Promise<JsonObject> {
    const dir = q.dir ?? 'b';
    if (dir !== 'b' && dir !== 'f') throw invalidParam('dir must be "b" or "f"');
    const limit = limitOf(q.limit, DEFAULT_LIMIT);
    const from = tokenOf(q.from, 'from');
    const to = tokenOf(q.to, 'to');
    let recurse = false;
    if (q.recurse !== undefined) {
      if (q.recurse !== 'true' && q.recurse !== 'false') throw invalidParam('recurse must be true or false');
      recurse = q.recurse === 'true';
    }
    // "The parent event was not found or the user does not have permission to read" → 404.
    const history = await this.#queries.membershipHistory(q.roomId, q.userId);
    await visibleEvent(this.#queries, q.roomId, q.eventId, q.userId, history);
    await this.#indexer.catchUp();
    const repo = this.#indexer.repository;

    const parents = new Set([q.eventId]);
    let depth = 1;
    if (recurse) {
      let frontier = [q.eventId];
      while (depth < MAX_RECURSION_DEPTH && frontier.length > 0) {
        const next = (await repo.children({ roomId: q.roomId, parentIds: frontier, direction: 'forward', limit: MAX_FRONTIER }))
          .map((r) => r.eventId)
          .filter((id) => !parents.has(id));
        if (next.length === 0) break;
        for (const id of next) parents.add(id);
        frontier = next;
        depth++;
      }
    }

    const backward = dir === 'b';
    const rows = await repo.children({
      roomId: q.roomId,
      parentIds: [...parents],
      ...(q.relType === undefined ? {} : { relType: q.relType }),
      ...(q.eventType === undefined ? {} : { eventType: q.eventType }),
      ...(backward
        ? { ...(from === undefined ? {} : { atOrBelow: from }), ...(to === undefined ? {} : { above: to }) }
        : { ...(from === undefined ? {} : { above: from }), ...(to === undefined ? {} : { atOrBelow: to }) }),
      direction: backward ? 'backward' : 'forward',
      limit,
    });
    const events = await this.#visibleInOrder(q.roomId, q.userId, rows.map((r) => r.eventId));
    const chunk = await this.#format(q.roomId, events, q.userId, q.deviceId);
    const body: JsonObject = { chunk };
    const last = rows.at(-1);
    if (rows.length === limit && last !== undefined) {
      body['next_batch'] = encodePaginationToken(backward ? last.streamOrdering - 1 : last.streamOrdering);
    }
    if (q.from !== undefined) body['prev_batch'] = q.from;
    if (q.recurse !== undefined) body['recursion_depth'] = recurse ? depth : 1;
    return body;
  }

  async threads(q: ThreadsQuery): Promise<JsonObject> {
    const include = q.include ?? 'all';
    if (include !== 'all' && include !== 'participated') throw invalidParam('include must be "all" or "participated"');
    const limit = limitOf(q.limit, DEFAULT_LIMIT);
    const from = tokenOf(q.from, 'from');
    try {
      await timelineAccess(this.#queries, q.roomId, q.userId);
    } catch {
      throw forbidden('You are not allowed to view this room.');
    }
    await this.#indexer.catchUp();
    const roots = await this.#indexer.repository.threadRoots({
      roomId: q.roomId,
      ...(include === 'participated' ? { participant: q.userId } : {}),
      ...(from === undefined ? {} : { latestAtOrBelow: from }),
      limit,
    });
    const events = await this.#visibleInOrder(q.roomId, q.userId, roots.map((r) => r.rootId));
    const body: JsonObject = { chunk: await this.#format(q.roomId, events, q.userId, q.deviceId) };
    const last = roots.at(-1);
    if (roots.length === limit && last !== undefined) body['next_batch'] = encodePaginationToken(last.latestStream - 1);
    return body;
  }

  async #visibleInOrder(roomId: string, userId: string, eventIds: readonly string[]): Promise<RoomEvent[]> {
    const byId = await this.#queries.events(eventIds);
    const events = eventIds.flatMap((id) => {
      const event = byId.get(id);
      return event !== undefined && event.roomId === roomId ? [event] : [];
    });
    return this.#queries.visibleEvents(roomId, userId, events);
  }

  #format(roomId: string, events: readonly RoomEvent[], userId: string, deviceId: string | undefined): Promise<JsonObject[]> {
    return formatRoomEvents(this.#queries, roomId, events, {
      format: 'client',
      now: this.#clock(),
      requester: { userId, deviceId },
      aggregations: this.#aggregator,
    });
  }
}

function limitOf(text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const limit = Number(text);
  if (!Number.isSafeInteger(limit) || limit < 1) throw invalidParam('limit must be a positive integer');
  return Math.min(limit, MAX_LIMIT);
}

function tokenOf(text: string | undefined, name: string): number | undefined {
  if (text === undefined) return undefined;
  const position = decodePaginationToken(text);
  if (position === undefined) throw invalidParam(`Unknown pagination token in ${name}`);
  return position;
}
