// The `rooms` section of /sync (sync.yaml `rooms.join|invite|leave|knock`): which rooms
// appear, and for each its timeline (`limited`, `prev_batch`), state, ephemeral events,
// account data, unread counts and summary.
//
// Initial sync (and full_state): every joined room with the latest events and the full
// state at the start of the timeline; invites and knocks; left rooms only with
// `include_leave`. Incremental: rooms with new events or ephemeral/account-data changes,
// the state delta between `since` and the timeline start; a room the user joined since
// `since` is sent as if initial; invites, knocks and leaves that happened since `since`.

import { stateKeyOf, type StateMap } from '../../rooms/event-view.ts';
import { isJsonObject, type JsonObject } from '../../rooms/json.ts';
import type { RoomEvent, Roomserver } from '../../roomserver/index.ts';
import type { StoaDatabase, SyncRepository } from '../../storage/index.ts';
import {
  DEFAULT_TIMELINE_LIMIT,
  eventFilterAllows,
  excludesEverything,
  roomAllowed,
  roomEventFilterAllows,
  type RoomEventFilter,
  type SyncFilter,
} from '../filters/sync-filter.ts';
import { EventLoader, formatContextFor, formatSyncEvent, strippedStateEvent, toLoaded, type FormatContext, type LoadedEvent } from './events.ts';
import { stateAtPosition, stateEntries, visibleEvents, type VisibilityContext } from './room-history.ts';
import type { AccountDataEntry, ReceiptRecord, SyncSources } from './sources.ts';
import { encodeSyncToken, streamPosition, type SyncPosition } from './sync-token.ts';
import { unreadCounts, type UnreadCache } from './unread.ts';
import { defaultPushRules } from '../../rooms/push/index.ts';
import { roomPushFacts } from '../push/room-push-context.ts';
import type { PushRulesSource } from './sources.ts';
import type { BundledAggregator } from '../formatting/bundled-aggregations.ts';
import type { HistoryReader, Reads } from './shared-reads.ts';

/** Room state shown to invitees and knockers (client-server § "Stripped state": SHOULD include these). */
const STRIPPED_STATE_TYPES = [
  'm.room.create',
  'm.room.join_rules',
  'm.room.name',
  'm.room.avatar',
  'm.room.canonical_alias',
  'm.room.encryption',
  'm.room.topic',
] as const;
/** Pages of events read to fill a filtered timeline before giving up and marking it limited. */
const MAX_TIMELINE_PAGES = 5;
const HERO_COUNT = 5;

export interface SyncWindow {
  readonly userId: string;
  readonly deviceId: string | undefined;
  /** undefined: initial sync. Source positions already reset where a source restarted. */
  readonly since: SyncPosition | undefined;
  readonly to: SyncPosition;
  readonly filter: SyncFilter;
  readonly fullState: boolean;
  readonly now: number;
}

export interface RoomSyncDeps {
  readonly roomserver: Roomserver;
  readonly db: StoaDatabase;
  readonly repo: SyncRepository;
  readonly sources: SyncSources;
  /** The users' push rules for unread counts; unset: the spec's default rules. */
  readonly pushRules?: PushRulesSource;
  /** `unsigned.m.relations` of timeline events; unset: none. */
  readonly aggregations?: BundledAggregator;
  /** The previous unread counts, counted on from (./unread.ts); unset: every count scans. */
  readonly unreadCache?: UnreadCache;
  /** Room history and event reads, shared with other builds up to the same position (./shared-reads.ts); unset: the build's own. */
  readonly reads?: Reads;
}

export interface RoomsSection {
  readonly rooms: JsonObject;
  readonly hasData: boolean;
  /** The rooms the user is joined to (passing the room filter): long-polls wake on their events. */
  readonly joinedRooms: string[];
}

type RoomMode =
  /** Full state at the timeline start; timeline events after `timelineAfter`. */
  | { readonly kind: 'full'; readonly timelineAfter: number }
  /** State delta since `since`; timeline events after `since`. */
  | { readonly kind: 'incremental'; readonly since: number };

interface Ephemeral {
  readonly typingRooms: ReadonlySet<string> | 'all';
  readonly receipts: ReadonlyMap<string, ReceiptRecord[]>;
  readonly accountData: ReadonlyMap<string, readonly AccountDataEntry[]>;
}

export class RoomSyncBuilder {
  readonly #deps: RoomSyncDeps;
  readonly #w: SyncWindow;
  readonly #loader: EventLoader;
  readonly #history: HistoryReader;

  constructor(deps: RoomSyncDeps, window: SyncWindow) {
    this.#deps = deps;
    this.#w = window;
    this.#loader = deps.reads?.loader ?? new EventLoader(deps.db);
    this.#history = deps.reads?.history ?? deps.roomserver;
  }

  get #initial(): boolean {
    return this.#w.since === undefined || this.#w.fullState;
  }

  async build(): Promise<RoomsSection> {
    const { roomserver } = this.#deps;
    const { userId, filter } = this.#w;
    const allowed = (roomId: string) => roomAllowed(filter.room, roomId);
    const joined = (await roomserver.roomsForUser(userId, 'join')).filter(allowed);
    const ephemeral = await this.#ephemeral(joined);
    const join: JsonObject = {};
    const invite: JsonObject = {};
    const leave: JsonObject = {};
    const knock: JsonObject = {};
    const since = this.#w.since;

    if (since === undefined || this.#w.fullState) {
      const timelineAfter = since?.events ?? 0;
      for (const roomId of joined) {
        const entry = await this.#joinedRoom(roomId, { kind: 'full', timelineAfter }, ephemeral);
        if (entry !== undefined) join[roomId] = entry;
      }
      for (const roomId of (await roomserver.roomsForUser(userId, 'invite')).filter(allowed)) {
        invite[roomId] = { invite_state: { events: await strippedState(this.#deps.roomserver, roomId, this.#w.userId) } };
      }
      for (const roomId of (await roomserver.roomsForUser(userId, 'knock')).filter(allowed)) {
        knock[roomId] = { knock_state: { events: await strippedState(this.#deps.roomserver, roomId, this.#w.userId) } };
      }
      if (filter.room.includeLeave) {
        const left = [...(await roomserver.roomsForUser(userId, 'leave')), ...(await roomserver.roomsForUser(userId, 'ban'))];
        for (const roomId of left.filter(allowed)) {
          const entry = await this.#leftRoom(roomId, timelineAfter, 'full');
          if (entry !== undefined) leave[roomId] = entry;
        }
      }
    } else {
      const changes = await this.#deps.repo.membershipChanges(userId, since.events, this.#w.to.events);
      const lastChange = new Map(changes.map((c) => [c.roomId, c]));
      const changedRooms = await this.#deps.repo.roomsWithEvents(joined, since.events, this.#w.to.events);
      for (const roomId of joined) {
        const change = lastChange.get(roomId);
        const newlyJoined = change !== undefined && (await this.#membershipAt(roomId, since.events)) !== 'join';
        const mode: RoomMode = newlyJoined ? { kind: 'full', timelineAfter: 0 } : { kind: 'incremental', since: since.events };
        if (!newlyJoined && !changedRooms.has(roomId) && !this.#hasEphemeral(roomId, ephemeral)) continue;
        const entry = await this.#joinedRoom(roomId, mode, ephemeral);
        if (entry !== undefined) join[roomId] = entry;
      }
      for (const [roomId, change] of lastChange) {
        if (!allowed(roomId) || joined.includes(roomId)) continue;
        const current = await roomserver.membership(roomId, userId);
        if (change.membership === 'invite' && current === 'invite') {
          invite[roomId] = { invite_state: { events: await strippedState(this.#deps.roomserver, roomId, this.#w.userId) } };
        } else if (change.membership === 'knock' && current === 'knock') {
          knock[roomId] = { knock_state: { events: await strippedState(this.#deps.roomserver, roomId, this.#w.userId) } };
        } else if ((change.membership === 'leave' || change.membership === 'ban') && (current === 'leave' || current === 'ban')) {
          const wasJoined = (await this.#membershipAt(roomId, since.events)) === 'join';
          const entry = await this.#leftRoom(roomId, since.events, wasJoined ? 'joined-before' : 'own-events-only');
          if (entry !== undefined) leave[roomId] = entry;
        }
      }
    }

    const rooms: JsonObject = {};
    if (Object.keys(join).length > 0) rooms['join'] = join;
    if (Object.keys(invite).length > 0) rooms['invite'] = invite;
    if (Object.keys(leave).length > 0) rooms['leave'] = leave;
    if (Object.keys(knock).length > 0) rooms['knock'] = knock;
    return { rooms, hasData: Object.keys(rooms).length > 0, joinedRooms: joined };
  }

  // --- joined rooms ----------------------------------------------------------------------

  async #joinedRoom(roomId: string, mode: RoomMode, ephemeral: Ephemeral): Promise<JsonObject | undefined> {
    const { roomserver } = this.#deps;
    const { userId, filter, to } = this.#w;
    const ownMember = await roomserver.stateEvent(roomId, 'm.room.member', userId);
    const joinedFrom = ownMember !== undefined && contentOf(ownMember.json)['membership'] === 'join' && ownMember.streamOrdering !== null
      ? ownMember.streamOrdering
      : undefined;
    const history = this.#history;
    const visibility: VisibilityContext = { roomserver: history, loader: this.#loader, userId, joinedFrom, joinedLater: true };
    const after = mode.kind === 'full' ? mode.timelineAfter : mode.since;
    const timeline = await this.#timeline(roomId, after, to.events, filter.room.timeline, visibility);

    const stateStart = timeline.events[0] !== undefined
      ? ((await history.stateAt(timeline.events[0].eventId, 'before')) ?? new Map())
      : await stateAtPosition(history, roomId, to.events);
    let stateIds: string[];
    let gapMembers = new Set<string>();
    if (mode.kind === 'full') {
      stateIds = [...stateStart.values()];
    } else if (timeline.limited) {
      const before = await stateAtPosition(history, roomId, mode.since);
      stateIds = [...stateStart].filter(([key, id]) => before.get(key) !== id).map(([, id]) => id);
      gapMembers = new Set(stateEntries(new Map([...stateStart].filter(([key, id]) => before.get(key) !== id)))
        .filter((e) => e.type === 'm.room.member').map((e) => e.stateKey));
    } else {
      stateIds = [];
    }

    const typing = this.#typingEvent(roomId, ephemeral);
    const receipts = ephemeral.receipts.get(roomId) ?? [];
    const roomAccountData = ephemeral.accountData.get(roomId) ?? [];
    if (mode.kind === 'incremental' && timeline.events.length === 0 && stateIds.length === 0 && typing === undefined
      && receipts.length === 0 && roomAccountData.length === 0) {
      return undefined;
    }

    const timelineSenders = new Set(timeline.events.map((e) => e.sender));
    const summary = mode.kind === 'full' || timeline.events.some((e) => e.type === 'm.room.member') || gapMembers.size > 0
      ? await this.#summary(roomId)
      : undefined;
    const state = await this.#filteredState(roomId, stateIds, stateStart, {
      timelineSenders,
      includeSelf: mode.kind === 'full',
      gapMembers,
      heroes: summary?.heroes ?? [],
    });

    const formatCtx = await this.#formatContext(roomId, timeline.events.map(toLoaded));
    const entry: JsonObject = {
      timeline: {
        events: timeline.events.map((e) => formatSyncEvent(toLoaded(e), formatCtx)),
        limited: timeline.limited,
        prev_batch: encodeSyncToken({ events: timeline.prevPosition, streams: to.streams }),
      },
      state: { events: state.map((e) => formatSyncEvent(e, formatCtx)) },
      ephemeral: { events: this.#ephemeralEvents(roomId, typing, receipts) },
      account_data: {
        events: roomAccountData
          .filter((a) => roomEventFilterAllows(filter.room.accountData, { type: a.type, roomId }))
          .map((a) => ({ type: a.type, content: a.content })),
      },
    };
    if (summary !== undefined) entry['summary'] = summary.json;
    entry['unread_notifications'] = await this.#unread(roomId, ownMember);
    return entry;
  }

  async #timeline(
    roomId: string,
    after: number,
    upTo: number,
    filter: RoomEventFilter,
    visibility: VisibilityContext,
  ): Promise<{ events: RoomEvent[]; limited: boolean; prevPosition: number }> {
    const limit = filter.limit ?? DEFAULT_TIMELINE_LIMIT;
    if (excludesEverything(filter) || !roomAllowed(filter, roomId) || upTo <= after) {
      return { events: [], limited: false, prevPosition: upTo };
    }
    const collected: RoomEvent[] = [];
    let cursor = upTo;
    let limited = false;
    let pageSize = limit + 1;
    for (let page = 0; ; page++) {
      const rows = await this.#history.eventsInRange({ roomId, fromStream: after, toStream: cursor, limit: pageSize, direction: 'backward' });
      if (rows.length === 0) break;
      cursor = (rows[rows.length - 1]?.streamOrdering ?? after + 1) - 1;
      const matching = rows.filter((e) =>
        roomEventFilterAllows(filter, { type: e.type, sender: e.sender, roomId, content: contentOf(e.json) }));
      const visible = await visibleEvents(visibility, matching.reverse());
      for (const event of visible.reverse()) {
        if (collected.length === limit) {
          limited = true;
          break;
        }
        collected.push(event);
      }
      if (limited || rows.length < pageSize || cursor <= after) break;
      if (collected.length === limit) {
        // Full, and the page was full too: there is more before it.
        limited = true;
        break;
      }
      if (page + 1 >= MAX_TIMELINE_PAGES) {
        limited = true;
        break;
      }
      pageSize = Math.min(pageSize * 4, 1000);
    }
    collected.reverse();
    const first = collected[0]?.streamOrdering;
    return { events: collected, limited, prevPosition: first === undefined || first === null ? upTo : first - 1 };
  }

  /**
   * The state events to send: the state filter, then lazy-loading (§ "Lazy-loading room
   * members"): member events only for timeline senders, the user themself on a full sync,
   * the heroes, and every member change in a limited sync's gap ("MUST return membership
   * events for events in the gap"). Senders' member events are sent even when the client
   * may have them already: redundancy is allowed, and we keep no per-device record.
   */
  async #filteredState(
    roomId: string,
    stateIds: readonly string[],
    stateStart: StateMap,
    members: { timelineSenders: ReadonlySet<string>; includeSelf: boolean; gapMembers: ReadonlySet<string>; heroes: readonly string[] },
  ): Promise<LoadedEvent[]> {
    const filter = this.#w.filter.room.state;
    if (excludesEverything(filter) || !roomAllowed(filter, roomId)) return [];
    const ids = new Set(stateIds);
    if (filter.lazyLoadMembers) {
      const wanted = new Set([...members.timelineSenders, ...members.heroes]);
      if (members.includeSelf) wanted.add(this.#w.userId);
      for (const userId of wanted) {
        const id = stateStart.get(stateKeyOf('m.room.member', userId));
        if (id !== undefined) ids.add(id);
      }
    }
    const loaded = await this.#loader.load(ids);
    const keepMember = (stateKey: string | undefined) => {
      if (!filter.lazyLoadMembers || stateKey === undefined) return true;
      if (stateKey === this.#w.userId && members.includeSelf) return true;
      return members.timelineSenders.has(stateKey) || members.gapMembers.has(stateKey) || members.heroes.includes(stateKey);
    };
    const out: LoadedEvent[] = [];
    for (const event of loaded.values()) {
      if (event.type === 'm.room.member' && !keepMember(event.stateKey)) continue;
      if (!roomEventFilterAllows(filter, { type: event.type, sender: event.sender, roomId, content: contentOf(event.json) })) continue;
      out.push(event);
    }
    out.sort((a, b) => (a.streamOrdering ?? 0) - (b.streamOrdering ?? 0));
    return filter.limit === undefined ? out : out.slice(-filter.limit);
  }

  async #summary(roomId: string): Promise<{ json: JsonObject; heroes: string[] }> {
    const { roomserver, repo } = this.#deps;
    const joined = await roomserver.members(roomId, 'join');
    const invited = await roomserver.members(roomId, 'invite');
    const json: JsonObject = { 'm.joined_member_count': joined.length, 'm.invited_member_count': invited.length };
    const name = await roomserver.stateEvent(roomId, 'm.room.name', '');
    const alias = await roomserver.stateEvent(roomId, 'm.room.canonical_alias', '');
    const named = nonEmpty(name?.json['content'], 'name') || nonEmpty(alias?.json['content'], 'alias');
    let heroes: string[] = [];
    if (!named) {
      heroes = await repo.heroes(roomId, ['join', 'invite'], this.#w.userId, HERO_COUNT);
      if (heroes.length === 0) heroes = await repo.heroes(roomId, ['leave', 'ban'], this.#w.userId, HERO_COUNT);
      json['m.heroes'] = heroes;
    }
    return { json, heroes };
  }

  async #unread(roomId: string, ownMember: RoomEvent | undefined): Promise<JsonObject> {
    let readPoint = ownMember?.streamOrdering ?? 0;
    const receipts = this.#deps.sources.receipts;
    if (receipts !== undefined) {
      const ids = await receipts.readReceiptEvents(roomId, this.#w.userId);
      for (const event of (await this.#loader.load(ids)).values()) {
        if (event.roomId === roomId && event.streamOrdering !== null) readPoint = Math.max(readPoint, event.streamOrdering);
      }
    }
    const displayName = isJsonObject(ownMember?.json['content']) ? ownMember.json['content']['displayname'] : undefined;
    const userId = this.#w.userId;
    const counts = await unreadCounts(this.#deps.repo, {
      roomId,
      userId,
      displayName: typeof displayName === 'string' ? displayName : undefined,
      readPoint,
      upTo: this.#w.to.events,
      ruleset: this.#deps.pushRules === undefined ? defaultPushRules(userId) : await this.#deps.pushRules.ruleset(userId),
      facts: () => roomPushFacts(this.#deps.roomserver, roomId),
    }, this.#deps.unreadCache);
    return { notification_count: counts.notification_count, highlight_count: counts.highlight_count };
  }

  // --- ephemeral and account data ----------------------------------------------------------

  async #ephemeral(joined: readonly string[]): Promise<Ephemeral> {
    const { sources } = this.#deps;
    const since = this.#initial ? undefined : this.#w.since;
    const typingRooms = sources.typing === undefined
      ? new Set<string>()
      : since === undefined ? 'all' as const : sources.typing.roomsChangedSince(streamPosition(since, sources.typing.streamKey));
    const receipts = new Map<string, ReceiptRecord[]>();
    const receiptFilter = this.#w.filter.room.ephemeral;
    if (sources.receipts !== undefined && eventFilterAllows(receiptFilter, { type: 'm.receipt' })) {
      const key = sources.receipts.streamKey;
      const from = since === undefined ? 0 : streamPosition(since, key);
      const to = streamPosition(this.#w.to, key);
      if (from < to) {
        for (const receipt of await sources.receipts.receiptsSince(joined, from, to, this.#w.userId)) {
          const list = receipts.get(receipt.roomId) ?? [];
          list.push(receipt);
          receipts.set(receipt.roomId, list);
        }
      }
    }
    let accountData = new Map<string, readonly AccountDataEntry[]>();
    if (sources.accountData !== undefined) {
      const key = sources.accountData.streamKey;
      const from = since === undefined ? 0 : streamPosition(since, key);
      const to = streamPosition(this.#w.to, key);
      if (from < to) {
        const changes = await sources.accountData.accountDataSince(this.#w.userId, from, to);
        accountData = new Map([...changes.rooms].filter(([roomId]) => joined.includes(roomId)));
      }
    }
    return { typingRooms, receipts, accountData };
  }

  #hasEphemeral(roomId: string, ephemeral: Ephemeral): boolean {
    return this.#typingEvent(roomId, ephemeral) !== undefined
      || (ephemeral.receipts.get(roomId)?.length ?? 0) > 0
      || (ephemeral.accountData.get(roomId)?.length ?? 0) > 0;
  }

  #typingEvent(roomId: string, ephemeral: Ephemeral): JsonObject | undefined {
    const typing = this.#deps.sources.typing;
    if (typing === undefined) return undefined;
    if (ephemeral.typingRooms !== 'all' && !ephemeral.typingRooms.has(roomId)) return undefined;
    if (!eventFilterAllows(this.#w.filter.room.ephemeral, { type: 'm.typing' })) return undefined;
    const users = typing.typingUsers(roomId);
    // An initial sync reports only rooms where someone is typing; an incremental one every change, also to nobody.
    if (ephemeral.typingRooms === 'all' && users.length === 0) return undefined;
    return { type: 'm.typing', content: { user_ids: [...users] } };
  }

  #ephemeralEvents(roomId: string, typing: JsonObject | undefined, receipts: readonly ReceiptRecord[]): JsonObject[] {
    const events: JsonObject[] = [];
    if (typing !== undefined) events.push(typing);
    const filter = this.#w.filter.room.ephemeral;
    const allowed = receipts.filter((r) => filter.notSenders.includes(r.userId) === false && (filter.senders === undefined || filter.senders.includes(r.userId)));
    if (allowed.length > 0 && roomAllowed(filter, roomId)) {
      const content: JsonObject = {};
      for (const r of allowed) {
        const byType = (content[r.eventId] ??= {}) as JsonObject;
        const byUser = (byType[r.receiptType] ??= {}) as JsonObject;
        byUser[r.userId] = r.threadId === undefined ? { ts: r.ts } : { ts: r.ts, thread_id: r.threadId };
      }
      events.push({ type: 'm.receipt', content });
    }
    return filter.limit === undefined ? events : events.slice(0, filter.limit);
  }

  // --- invites, knocks and left rooms ---------------------------------------------------------

  /**
   * A room the user left or was banned from: the timeline up to their leave.
   * `joined-before`: they were joined at `after`, so every event up to the leave is theirs
   * to see; `own-events-only`: they never joined (a rejected invite): only their own events;
   * `full`: initial sync with include_leave, history visibility decides.
   */
  async #leftRoom(roomId: string, after: number, access: 'full' | 'joined-before' | 'own-events-only'): Promise<JsonObject | undefined> {
    const { roomserver } = this.#deps;
    const history = this.#history;
    const { userId, filter, to } = this.#w;
    const own = await roomserver.stateEvent(roomId, 'm.room.member', userId);
    if (own === undefined || own.streamOrdering === null || own.streamOrdering > to.events) return undefined;
    const upTo = own.streamOrdering;
    const visibility: VisibilityContext = {
      roomserver: history,
      loader: this.#loader,
      userId,
      joinedFrom: access === 'joined-before' ? after + 1 : undefined,
      joinedLater: access !== 'own-events-only',
    };
    const timelineFilter: RoomEventFilter = access === 'own-events-only'
      ? { ...filter.room.timeline, senders: [userId] }
      : filter.room.timeline;
    const timeline = await this.#timeline(roomId, after, upTo, timelineFilter, visibility);
    const stateStart = timeline.events[0] !== undefined
      ? ((await history.stateAt(timeline.events[0].eventId, 'before')) ?? new Map())
      : await stateAtPosition(history, roomId, upTo);
    let stateIds: string[] = [];
    if (access === 'full') stateIds = [...stateStart.values()];
    else if (timeline.limited) {
      const before = await stateAtPosition(history, roomId, after);
      stateIds = [...stateStart].filter(([key, id]) => before.get(key) !== id).map(([, id]) => id);
    }
    const state = access === 'own-events-only'
      ? []
      : await this.#filteredState(roomId, stateIds, stateStart, {
          timelineSenders: new Set(timeline.events.map((e) => e.sender)),
          includeSelf: access === 'full',
          gapMembers: new Set(),
          heroes: [],
        });
    const formatCtx = await this.#formatContext(roomId, timeline.events.map(toLoaded));
    return {
      timeline: {
        events: timeline.events.map((e) => formatSyncEvent(toLoaded(e), formatCtx)),
        limited: timeline.limited,
        prev_batch: encodeSyncToken({ events: timeline.prevPosition, streams: to.streams }),
      },
      state: { events: state.map((e) => formatSyncEvent(e, formatCtx)) },
      account_data: { events: [] },
    };
  }

  // --- helpers ----------------------------------------------------------------------------------

  async #membershipAt(roomId: string, position: number): Promise<string | undefined> {
    const state = await stateAtPosition(this.#history, roomId, position);
    const id = state.get(stateKeyOf('m.room.member', this.#w.userId));
    if (id === undefined) return undefined;
    const membership = contentOf((await this.#loader.load([id])).get(id)?.json ?? {})['membership'];
    return typeof membership === 'string' ? membership : undefined;
  }

  #formatContext(roomId: string, timeline: readonly LoadedEvent[]): Promise<FormatContext> {
    const { userId, deviceId, now, filter } = this.#w;
    return formatContextFor({ repo: this.#deps.repo, loader: this.#loader, aggregations: this.#deps.aggregations }, { roomId, userId, deviceId, now, filter }, timeline);
  }

}

function contentOf(json: JsonObject): JsonObject {
  const content = json['content'];
  return isJsonObject(content) ? content : {};
}

function nonEmpty(content: unknown, key: string): boolean {
  if (!isJsonObject(content)) return false;
  const value = content[key];
  return typeof value === 'string' && value !== '';
}

/**
 * Stripped state for an invite or knock (client-server § "Stripped state"): the room's key
 * state events and the user's own membership event. A federated invite carries the inviting
 * server's stripped state in `unsigned.invite_room_state` / `knock_room_state`; it is used
 * when we hold no state. Sliding sync serves the same.
 */
export async function strippedState(roomserver: Roomserver, roomId: string, userId: string): Promise<JsonObject[]> {
  const own = await roomserver.stateEvent(roomId, 'm.room.member', userId);
  const events: JsonObject[] = [];
  for (const type of STRIPPED_STATE_TYPES) {
    const event = await roomserver.stateEvent(roomId, type, '');
    if (event !== undefined) events.push(strippedStateEvent(event));
  }
  if (events.length === 0 && own !== undefined) {
    const unsigned = own.json['unsigned'];
    const carried = isJsonObject(unsigned) ? unsigned['invite_room_state'] ?? unsigned['knock_room_state'] : undefined;
    if (Array.isArray(carried)) events.push(...carried.filter(isJsonObject));
  }
  if (own !== undefined) events.push(strippedStateEvent(own));
  return events;
}
