// GET /sync's engine (client-server § "Syncing"): computes the response between the
// client's token and "now", and, when there is nothing new, long-polls on the Notifier
// until something concerns the user, the timeout passes or the server shuts down.
//
// "Now" is one position per stream taken before reading anything: the roomserver's safe
// stream position (nothing in flight below it) and each source's current position. The
// response covers exactly (since, now] and `next_batch` is now, so nothing is skipped or
// sent twice across consecutive syncs.

import type { JsonObject } from '../../rooms/json.ts';
import type { Roomserver } from '../../roomserver/index.ts';
import { SyncRepository, type StoaDatabase } from '../../storage/index.ts';
import { eventFilterAllows, excludesEverything, type EventFilter, type SyncFilter } from '../filters/sync-filter.ts';
import { Notifier } from './notifier.ts';
import { RoomSyncBuilder, type SyncWindow } from './room-sync.ts';
import { UnreadCache } from './unread.ts';
import { SharedReads } from './shared-reads.ts';
import { presentSources, type AccountDataEntry, type PushRulesSource, type SyncSources } from './sources.ts';
import type { BundledAggregator } from '../formatting/bundled-aggregations.ts';

const PUSH_RULES_TYPE = 'm.push_rules';
import { encodeSyncToken, streamPosition, type SyncPosition } from './sync-token.ts';

/** Longest long-poll a client may ask for; longer `timeout`s are cut to this. */
export const MAX_SYNC_TIMEOUT_MS = 5 * 60_000;

export type SetPresence = 'online' | 'unavailable' | 'offline';

export interface SyncRequest {
  readonly userId: string;
  readonly deviceId: string | undefined;
  readonly since: SyncPosition | undefined;
  readonly filter: SyncFilter;
  readonly fullState: boolean;
  readonly timeoutMs: number;
  readonly setPresence: SetPresence;
  /** Aborted when the client goes away, ending the long-poll. */
  readonly signal?: AbortSignal;
}

export interface SyncServiceOptions {
  readonly roomserver: Roomserver;
  readonly db: StoaDatabase;
  readonly sources?: SyncSources;
  readonly clock: () => number;
  /** Push rules: unread counts and the `m.push_rules` account data. Unset: the default rules, no event. */
  readonly pushRules?: PushRulesSource;
  /** Bundled aggregations for timeline events. */
  readonly aggregations?: BundledAggregator;
}

interface Built {
  readonly response: JsonObject;
  readonly hasData: boolean;
  readonly joinedRooms: string[];
}

export class SyncService {
  readonly notifier: Notifier;
  readonly #roomserver: Roomserver;
  readonly #db: StoaDatabase;
  readonly #repo: SyncRepository;
  readonly #sources: SyncSources;
  readonly #clock: () => number;
  readonly #pushRules: PushRulesSource | undefined;
  readonly #aggregations: BundledAggregator | undefined;
  readonly #unreadCache = new UnreadCache();
  readonly #sharedReads: SharedReads;
  /** Builds in progress by what they depend on, so identical requests woken together share one. */
  readonly #building = new Map<string, Promise<Built>>();

  constructor(options: SyncServiceOptions) {
    this.#pushRules = options.pushRules;
    this.#aggregations = options.aggregations;
    this.#roomserver = options.roomserver;
    this.#db = options.db;
    this.#repo = new SyncRepository(options.db);
    this.#sharedReads = new SharedReads(options.roomserver, options.db);
    this.#sources = options.sources ?? {};
    this.#clock = options.clock;
    this.notifier = new Notifier(options.roomserver, presentSources(this.#sources));
  }

  /** The stream sources this service reads (simplified sliding sync reads the same ones). */
  get sources(): SyncSources {
    return this.#sources;
  }

  /** The position of every stream now (what an empty sync would return as `next_batch`). */
  async currentPosition(): Promise<SyncPosition> {
    const streams: Record<string, number> = {};
    for (const source of presentSources(this.#sources)) streams[source.streamKey] = source.currentPosition();
    return { events: await this.#roomserver.latestStreamPosition(), streams };
  }

  async sync(request: SyncRequest): Promise<JsonObject> {
    if (request.setPresence !== 'offline') await this.#sources.presence?.syncedPresence(request.userId, request.setPresence);
    const deadline = Date.now() + Math.min(Math.max(request.timeoutMs, 0), MAX_SYNC_TIMEOUT_MS);
    // "full_state … the timeout parameter will be ignored and the query will return immediately".
    const mayWait = request.since !== undefined && !request.fullState;
    for (;;) {
      const to = await this.currentPosition();
      const built = await this.#sharedBuild(request, to);
      const remaining = deadline - Date.now();
      if (built.hasData || !mayWait || remaining <= 0 || request.since === undefined) return built.response;
      const outcome = await this.notifier.wait({
        userId: request.userId,
        rooms: built.joinedRooms,
        from: to,
        timeoutMs: remaining,
        ...(request.signal === undefined ? {} : { signal: request.signal }),
      });
      if (outcome !== 'woken') return built.response;
    }
  }

  close(): void {
    this.notifier.close();
  }

  /**
   * One build per (user, device, since, to, filter, full_state) at a time: a client with
   * several connections open (or a retrying one) waiting on the same token is woken by the
   * same event at the same `to`, and the response depends on nothing else (`age` on the
   * clock, which they share by construction). The response is never mutated once built, so
   * every caller may serialize the same object.
   */
  #sharedBuild(request: SyncRequest, to: SyncPosition): Promise<Built> {
    const key = JSON.stringify([
      request.userId,
      request.deviceId ?? null,
      request.since === undefined ? null : encodeSyncToken(request.since),
      encodeSyncToken(to),
      request.fullState,
      filterKey(request.filter),
    ]);
    const running = this.#building.get(key);
    if (running !== undefined) return running;
    const started = this.#build(request, to).finally(() => this.#building.delete(key));
    this.#building.set(key, started);
    return started;
  }

  async #build(request: SyncRequest, to: SyncPosition): Promise<Built> {
    const window: SyncWindow = {
      userId: request.userId,
      deviceId: request.deviceId,
      since: request.since === undefined ? undefined : this.#effectiveSince(request.since, to),
      to,
      filter: request.filter,
      fullState: request.fullState,
      now: this.#clock(),
    };
    const rooms = new RoomSyncBuilder(
      {
        roomserver: this.#roomserver,
        db: this.#db,
        repo: this.#repo,
        sources: this.#sources,
        ...(this.#pushRules === undefined ? {} : { pushRules: this.#pushRules }),
        ...(this.#aggregations === undefined ? {} : { aggregations: this.#aggregations }),
        unreadCache: this.#unreadCache,
        // Incremental syncs are what one event wakes by the thousand; initial ones read alone.
        reads: window.since === undefined || window.fullState ? this.#sharedReads.private() : this.#sharedReads.at(to.events),
      },
      window,
    );
    const roomsSection = await rooms.build();
    const response: JsonObject = { next_batch: encodeSyncToken(to) };
    let hasData = roomsSection.hasData;
    if (roomsSection.hasData) response['rooms'] = roomsSection.rooms;

    const accountData = await this.#globalAccountData(window);
    if (accountData.length > 0) {
      response['account_data'] = { events: accountData };
      hasData = true;
    }
    const presence = await this.#presence(window);
    if (presence.length > 0) {
      response['presence'] = { events: presence };
      hasData = true;
    }
    const e2ee = await this.#e2ee(window, response);
    if (e2ee.upTo !== undefined) response['next_batch'] = encodeSyncToken(e2ee.upTo);
    hasData ||= e2ee.hasData;
    return { response, hasData, joinedRooms: roomsSection.joinedRooms };
  }

  /**
   * `to_device`, `device_lists`, `device_one_time_keys_count` and
   * `device_unused_fallback_key_types`. Key counts are always sent but are not news: they do
   * not end a long-poll. Returns a smaller token when to-device messages remain.
   */
  async #e2ee(window: SyncWindow, response: JsonObject): Promise<{ hasData: boolean; upTo: SyncPosition | undefined }> {
    let hasData = false;
    let upTo: SyncPosition | undefined;
    const toDevice = this.#sources.toDevice;
    if (toDevice !== undefined) {
      const from = window.since === undefined ? 0 : streamPosition(window.since, toDevice.streamKey);
      const to = streamPosition(window.to, toDevice.streamKey);
      const batch = await toDevice.forSync(window.userId, window.deviceId, from, to);
      if (batch.events.length > 0) {
        response['to_device'] = { events: batch.events };
        hasData = true;
      }
      if (batch.upTo < to) upTo = { events: window.to.events, streams: { ...window.to.streams, [toDevice.streamKey]: batch.upTo } };
    }
    const deviceLists = this.#sources.deviceLists;
    if (deviceLists !== undefined) {
      const changes = await deviceLists.changes(window.userId, window.since, window.to);
      if (changes.changed.length > 0 || changes.left.length > 0) {
        response['device_lists'] = { changed: changes.changed, left: changes.left };
        hasData = true;
      }
      if (window.deviceId !== undefined) {
        const counts = await deviceLists.counts(window.userId, window.deviceId);
        response['device_one_time_keys_count'] = counts.oneTimeKeyCounts;
        response['device_unused_fallback_key_types'] = counts.unusedFallbackKeyTypes;
      }
    }
    return { hasData, upTo };
  }

  /** A token position above a source's current one means the source restarted: start it over. */
  #effectiveSince(since: SyncPosition, to: SyncPosition): SyncPosition {
    const streams: Record<string, number> = {};
    for (const [key, current] of Object.entries(to.streams)) {
      const seen = streamPosition(since, key);
      streams[key] = seen > current ? 0 : seen;
    }
    return { events: since.events, streams };
  }

  async #globalAccountData(window: SyncWindow): Promise<JsonObject[]> {
    const source = this.#sources.accountData;
    if (source === undefined || matchesNoType(window.filter.accountData)) return [];
    const initial = window.fullState || window.since === undefined;
    const from = initial ? 0 : streamPosition(window.since, source.streamKey);
    const to = streamPosition(window.to, source.streamKey);
    if (from >= to && !initial) return [];
    const changes = await source.accountDataSince(window.userId, from, to);
    return (await this.#withPushRules(window.userId, window.fullState || window.since === undefined, changes.global))
      .filter((entry) => eventFilterAllows(window.filter.accountData, { type: entry.type }))
      .slice(0, window.filter.accountData.limit ?? Infinity)
      .map((entry) => ({ type: entry.type, content: entry.content }));
  }

  /**
   * `m.push_rules` is served from the push rules themselves (§ "Push Rules: Events"): on a
   * full sync always, otherwise when a change advanced the account-data stream.
   */
  async #withPushRules(userId: string, initial: boolean, global: readonly AccountDataEntry[]): Promise<AccountDataEntry[]> {
    const others = global.filter((entry) => entry.type !== PUSH_RULES_TYPE);
    if (this.#pushRules === undefined) return [...global];
    if (!initial && others.length === global.length) return others;
    return [...others, { type: PUSH_RULES_TYPE, content: await this.#pushRules.accountDataContent(userId) }];
  }

  async #presence(window: SyncWindow): Promise<JsonObject[]> {
    const source = this.#sources.presence;
    // Every presence event has type m.presence (a filter that refuses it refuses them all).
    if (source === undefined || excludesEverything(window.filter.presence) || !eventFilterAllows(window.filter.presence, { type: 'm.presence' })) return [];
    const initial = window.fullState || window.since === undefined;
    const from = initial ? 0 : streamPosition(window.since, source.streamKey);
    const to = streamPosition(window.to, source.streamKey);
    if (from >= to && !initial) return [];
    const users = await this.#repo.usersSharingRooms(window.userId);
    const events = await source.presenceSince(users, from, to);
    return events
      .filter((event) =>
        eventFilterAllows(window.filter.presence, {
          type: typeof event['type'] === 'string' ? event['type'] : 'm.presence',
          sender: typeof event['sender'] === 'string' ? event['sender'] : undefined,
        }),
      )
      .slice(0, window.filter.presence.limit ?? Infinity);
  }
}

const filterKeys = new WeakMap<SyncFilter, string>();

/** A filter's identity for sharing builds (parsed filters are plain data; a stored one is parsed per request). */
function filterKey(filter: SyncFilter): string {
  let key = filterKeys.get(filter);
  if (key === undefined) filterKeys.set(filter, (key = JSON.stringify(filter)));
  return key;
}

/** A filter no event type passes (`types: []`, `senders: []` or a `*` in `not_types`): nothing to read. */
function matchesNoType(filter: EventFilter): boolean {
  return excludesEverything(filter) || filter.notTypes.includes('*');
}
