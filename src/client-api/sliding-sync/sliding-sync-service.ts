// Simplified sliding sync (MSC4186) as Synapse serves it at
// POST /_matrix/client/unstable/org.matrix.simplified_msc3575/sync: the client names lists
// (filtered, recency-sorted room lists with index ranges), room subscriptions and
// extensions; the response has each list's `count`, the rooms in range or subscribed that
// are new or changed for this connection, and the extensions' data.
//
// It reads the same sources as /sync (SyncService): the roomserver for rooms, timelines and
// state, and the typing/receipts/account-data/to-device/device-list streams, and it
// long-polls on the same Notifier. "Now" is one position per stream taken before reading,
// as in /sync, so consecutive responses neither skip nor repeat anything.

import type { JsonObject } from '../../rooms/json.ts';
import type { Roomserver } from '../../roomserver/index.ts';
import { SlidingSyncRepository, SyncRepository, type StoaDatabase } from '../../storage/index.ts';
import type { BundledAggregator } from '../formatting/bundled-aggregations.ts';
import { EventLoader } from '../sync/events.ts';
import type { Notifier } from '../sync/notifier.ts';
import { presentSources, type PushRulesSource, type SyncSources } from '../sync/sources.ts';
import { streamPosition, type SyncPosition } from '../sync/sync-token.ts';
import { ConnectionStore, type RoomSent, type Snapshot } from './connections.ts';
import { buildExtensions } from './extensions.ts';
import type { RoomParams, SlidingSyncBody } from './request.ts';
import { mergeRequiredState } from './required-state.ts';
import { SlidingRoomBuilder, type RoomCandidate } from './room-builder.ts';
import { applyList, candidateRooms, RoomFacts } from './room-lists.ts';

/** Longest long-poll a client may ask for; longer timeouts are cut to this. */
export const MAX_SLIDING_SYNC_TIMEOUT_MS = 5 * 60_000;

export interface SlidingSyncRequest {
  readonly userId: string;
  readonly deviceId: string | undefined;
  readonly pos: string | undefined;
  readonly timeoutMs: number;
  readonly body: SlidingSyncBody;
  readonly signal?: AbortSignal;
}

export interface SlidingSyncServiceOptions {
  readonly roomserver: Roomserver;
  readonly db: StoaDatabase;
  readonly sources: SyncSources;
  /** /sync's notifier (shared: one subscription to every stream). */
  readonly notifier: Notifier;
  readonly clock: () => number;
  readonly pushRules?: PushRulesSource;
  readonly aggregations?: BundledAggregator;
  /** Connections kept in memory; the least recently used beyond it get M_UNKNOWN_POS. */
  readonly maxConnections?: number;
}

export class SlidingSyncService {
  readonly #options: SlidingSyncServiceOptions;
  readonly #repo: SyncRepository;
  readonly #slidingRepo: SlidingSyncRepository;
  readonly #connections: ConnectionStore;

  constructor(options: SlidingSyncServiceOptions) {
    this.#options = options;
    this.#repo = new SyncRepository(options.db);
    this.#slidingRepo = new SlidingSyncRepository(options.db);
    this.#connections = new ConnectionStore(options.maxConnections);
  }

  async sync(request: SlidingSyncRequest): Promise<JsonObject> {
    const { snapshot, commit } = this.#connections.resolve(
      { userId: request.userId, deviceId: request.deviceId, connId: request.body.connId },
      request.pos,
    );
    const deadline = Date.now() + Math.min(Math.max(request.timeoutMs, 0), MAX_SLIDING_SYNC_TIMEOUT_MS);
    for (;;) {
      const to = await this.#currentPosition();
      const built = await this.#build(request, snapshot, to);
      const remaining = deadline - Date.now();
      if (built.hasData || request.pos === undefined || remaining <= 0) {
        return { pos: commit(built.next), ...built.response };
      }
      const outcome = await this.#options.notifier.wait({
        userId: request.userId,
        rooms: built.joined,
        from: to,
        timeoutMs: remaining,
        ...(request.signal === undefined ? {} : { signal: request.signal }),
      });
      if (outcome !== 'woken') return { pos: commit(built.next), ...built.response };
    }
  }

  async #currentPosition(): Promise<SyncPosition> {
    const streams: Record<string, number> = {};
    for (const source of presentSources(this.#options.sources)) streams[source.streamKey] = source.currentPosition();
    return { events: await this.#options.roomserver.latestStreamPosition(), streams };
  }

  async #build(
    request: SlidingSyncRequest,
    snapshot: Snapshot,
    to: SyncPosition,
  ): Promise<{ response: JsonObject; hasData: boolean; next: Snapshot; joined: string[] }> {
    const { roomserver, sources } = this.#options;
    const { userId, body } = request;
    const loader = new EventLoader(this.#options.db);
    const listDeps = { roomserver, repo: this.#slidingRepo, loader, accountData: sources.accountData };
    const candidates = await candidateRooms(listDeps, userId, to.events, snapshot.rooms);
    const byId = new Map(candidates.map((c) => [c.roomId, c]));
    const facts = new RoomFacts(listDeps, userId);

    // Which rooms this response is about, each with the union of what its lists and subscription ask.
    const wanted = new Map<string, { room: RoomCandidate; params: RoomParams }>();
    const want = (room: RoomCandidate, params: RoomParams) => {
      const existing = wanted.get(room.roomId);
      wanted.set(room.roomId, {
        room,
        params: existing === undefined
          ? params
          : {
              requiredState: mergeRequiredState(existing.params.requiredState, params.requiredState),
              timelineLimit: Math.max(existing.params.timelineLimit, params.timelineLimit),
            },
      });
    };
    const lists: JsonObject = {};
    const listCounts = new Map<string, number>();
    const listRooms = new Map<string, string[]>();
    for (const [name, config] of body.lists) {
      const { count, window } = await applyList(candidates, config, facts);
      lists[name] = { count };
      listCounts.set(name, count);
      listRooms.set(name, window.map((r) => r.roomId));
      for (const room of window) want(room, config);
    }
    const subscribed: string[] = [];
    for (const [roomId, params] of body.roomSubscriptions) {
      const room = byId.get(roomId);
      if (room === undefined) continue; // Not the user's room: ignored, as Synapse does.
      subscribed.push(roomId);
      want(room, params);
    }

    const builder = new SlidingRoomBuilder(
      {
        roomserver,
        repo: this.#repo,
        loader,
        sources,
        ...(this.#options.pushRules === undefined ? {} : { pushRules: this.#options.pushRules }),
        ...(this.#options.aggregations === undefined ? {} : { aggregations: this.#options.aggregations }),
      },
      {
        userId,
        deviceId: request.deviceId,
        to,
        fromEvents: snapshot.position?.events,
        now: this.#options.clock(),
        directRooms: wanted.size === 0 ? new Set() : (await facts.accountData()).direct,
      },
    );
    const rooms: JsonObject = {};
    const sentRooms = new Map<string, RoomSent>(snapshot.rooms);
    const initialRooms = new Set<string>();
    const quiet = await this.#quietRooms(wanted.values(), snapshot, to);
    const readMoved = await this.#ownReceiptRooms(userId, [...wanted.keys()], snapshot, to);
    for (const { room, params } of wanted.values()) {
      const built = await builder.build(room, params, snapshot.rooms.get(room.roomId), {
        quiet: quiet.has(room.roomId),
        readMoved: readMoved.has(room.roomId),
      });
      sentRooms.set(room.roomId, built.sent);
      if (built.json === undefined) continue;
      rooms[room.roomId] = built.json;
      if (built.initial) initialRooms.add(room.roomId);
    }

    // A left room is listed in the one response after the leave, in range or not.
    for (const room of candidates) {
      const prev = sentRooms.get(room.roomId);
      if ((room.membership === 'leave' || room.membership === 'ban') && prev !== undefined && !wanted.has(room.roomId)) {
        sentRooms.set(room.roomId, { ...prev, membership: room.membership });
      }
    }

    const from = snapshot.position === undefined ? undefined : effectiveFrom(snapshot.position, to);
    const joined = candidates.filter((c) => c.membership === 'join').map((c) => c.roomId);
    const extensions = await buildExtensions(sources, this.#options.pushRules, {
      userId,
      deviceId: request.deviceId,
      request: body.extensions,
      from,
      to,
      started: snapshot.extensions,
      listRooms,
      subscribed,
      initialRooms,
      joined: new Set(joined),
    });

    const countsChanged = [...listCounts].some(([name, count]) => snapshot.listCounts.get(name) !== count);
    const response: JsonObject = { lists, rooms, extensions: extensions.json };
    return {
      response,
      hasData: Object.keys(rooms).length > 0 || extensions.hasData || countsChanged,
      next: { position: to, rooms: sentRooms, extensions: extensions.started, listCounts },
      // Long-polls wake for events in any room the user is in or invited to, and their own membership.
      joined: candidates.map((c) => c.roomId),
    };
  }

  /** Rooms where the user's own receipt moved since the previous response (their unread counts changed). */
  async #ownReceiptRooms(userId: string, roomIds: string[], snapshot: Snapshot, to: SyncPosition): Promise<Set<string>> {
    const source = this.#options.sources.receipts;
    if (source === undefined || snapshot.position === undefined || roomIds.length === 0) return new Set();
    const from = streamPosition(effectiveFrom(snapshot.position, to), source.streamKey);
    const upTo = streamPosition(to, source.streamKey);
    // From 0 this reads every current receipt of the user: at worst counts are resent once.
    if (from >= upTo) return new Set();
    const receipts = await source.receiptsSince(roomIds, from, upTo, userId);
    return new Set(receipts.filter((r) => r.userId === userId).map((r) => r.roomId));
  }

  /** Joined rooms already sent that have no event since: one query per distinct position, not a timeline read per room. */
  async #quietRooms(wanted: Iterable<{ room: RoomCandidate }>, snapshot: Snapshot, to: SyncPosition): Promise<Set<string>> {
    const byPosition = new Map<number, string[]>();
    for (const { room } of wanted) {
      const prev = snapshot.rooms.get(room.roomId);
      if (room.membership !== 'join' || prev === undefined || prev.membership !== 'join') continue;
      const group = byPosition.get(prev.upTo) ?? [];
      group.push(room.roomId);
      byPosition.set(prev.upTo, group);
    }
    const quiet = new Set<string>();
    for (const [upTo, roomIds] of byPosition) {
      const busy = await this.#repo.roomsWithEvents(roomIds, upTo, to.events);
      for (const roomId of roomIds) if (!busy.has(roomId)) quiet.add(roomId);
    }
    return quiet;
  }
}

/** A previous position above a source's current one means the source restarted: start it over. */
function effectiveFrom(since: SyncPosition, to: SyncPosition): SyncPosition {
  const streams: Record<string, number> = {};
  for (const [key, current] of Object.entries(to.streams)) {
    const seen = streamPosition(since, key);
    streams[key] = seen > current ? 0 : seen;
  }
  return { events: since.events, streams };
}
