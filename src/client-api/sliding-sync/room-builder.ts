// One room's entry in a simplified sliding sync response (MSC4186 `rooms.<roomId>`): what
// the client lacks of the room given what the connection already sent it (RoomSent).
//
// - Sent for the first time (or joined since it was last sent): `initial`, the room's
//   required state at the end of the timeline, the latest `timeline_limit` events,
//   name/avatar/heroes/member counts.
// - Sent before: the events since then (`limited` when more than `timeline_limit`),
//   required state that changed, the member events of new senders under `$LAZY`, state the
//   widened required_state now asks for, and the room's summary fields when they changed.
//   Nothing changed: no entry, so incremental responses list only rooms that changed.
// - Invites and knocks: `invite_state` (stripped state), once.
// - Own read receipt moved: the new notification counts, so badges clear.
// - Left since last sent: the timeline up to the leave.
//
// Timeline events are checked against history visibility like /sync's (room-history.ts).

import { splitStateKey, stateKeyOf, type StateMap } from '../../rooms/event-view.ts';
import { isJsonObject, type JsonObject } from '../../rooms/json.ts';
import { defaultPushRules } from '../../rooms/push/index.ts';
import type { RoomEvent, Roomserver } from '../../roomserver/index.ts';
import type { SyncRepository } from '../../storage/index.ts';
import { DEFAULT_SYNC_FILTER } from '../filters/sync-filter.ts';
import type { BundledAggregator } from '../formatting/bundled-aggregations.ts';
import { roomPushFacts } from '../push/room-push-context.ts';
import { EventLoader, formatContextFor, formatSyncEvent, toLoaded, type FormatContext, type LoadedEvent } from '../sync/events.ts';
import { stateAtPosition, visibleEvents, type VisibilityContext } from '../sync/room-history.ts';
import { strippedState } from '../sync/room-sync.ts';
import type { PushRulesSource, SyncSources } from '../sync/sources.ts';
import { encodeSyncToken, type SyncPosition } from '../sync/sync-token.ts';
import { unreadCounts } from '../sync/unread.ts';
import type { RoomSent } from './connections.ts';
import type { RoomParams } from './request.ts';
import { sameRequiredState, wantsState } from './required-state.ts';

const MEMBER = 'm.room.member';
const HERO_COUNT = 5;
/** Pages read to fill a timeline whose events are partly invisible before calling it limited. */
const MAX_TIMELINE_PAGES = 5;

export type Membership = 'join' | 'invite' | 'knock' | 'leave' | 'ban';

export interface RoomCandidate {
  readonly roomId: string;
  readonly membership: Membership;
  /** Recency for sorting: the latest bump event (joined) or the user's membership event. */
  readonly bumpStamp: number;
}

export interface RoomBuilderDeps {
  readonly roomserver: Roomserver;
  readonly repo: SyncRepository;
  readonly loader: EventLoader;
  readonly sources: SyncSources;
  readonly pushRules?: PushRulesSource;
  readonly aggregations?: BundledAggregator;
}

export interface RoomBuildContext {
  readonly userId: string;
  readonly deviceId: string | undefined;
  /** What this response covers up to. */
  readonly to: SyncPosition;
  /** The previous response's room-event position (for `num_live`); undefined on a new connection. */
  readonly fromEvents: number | undefined;
  readonly now: number;
  /** Rooms `m.direct` names. */
  readonly directRooms: ReadonlySet<string>;
}

export interface BuiltRoom {
  /** undefined: nothing to send for this room. */
  readonly json: JsonObject | undefined;
  readonly initial: boolean;
  readonly sent: RoomSent;
}

interface Timeline {
  readonly events: RoomEvent[];
  readonly limited: boolean;
  readonly prevPosition: number;
}

export class SlidingRoomBuilder {
  readonly #deps: RoomBuilderDeps;
  readonly #ctx: RoomBuildContext;

  constructor(deps: RoomBuilderDeps, ctx: RoomBuildContext) {
    this.#deps = deps;
    this.#ctx = ctx;
  }

  /**
   * `quiet`: the caller knows the joined room has no events after `prev.upTo` (saves the
   * reads). `readMoved`: the user's own read receipt moved, so the counts are news.
   */
  async build(room: RoomCandidate, params: RoomParams, prev: RoomSent | undefined, hints: { quiet?: boolean; readMoved?: boolean } = {}): Promise<BuiltRoom> {
    if (room.membership === 'invite' || room.membership === 'knock') return this.#strippedRoom(room, params, prev);
    let built: BuiltRoom;
    if (hints.quiet === true && prev !== undefined && room.membership === 'join' && prev.membership === 'join'
      && params.timelineLimit <= prev.timelineLimit && sameRequiredState(prev.requiredState, params.requiredState)) {
      built = { json: undefined, initial: false, sent: { ...prev, timelineLimit: params.timelineLimit, upTo: Math.max(prev.upTo, this.#ctx.to.events) } };
    } else {
      built = await this.#timelineRoom(room, params, prev);
    }
    if (built.json !== undefined || hints.readMoved !== true || room.membership !== 'join') return built;
    const own = await this.#deps.roomserver.stateEvent(room.roomId, MEMBER, this.#ctx.userId);
    const counts = await this.#unread(room.roomId, own);
    return { ...built, json: { bump_stamp: room.bumpStamp, notification_count: counts.notification_count, highlight_count: counts.highlight_count } };
  }

  async #strippedRoom(room: RoomCandidate, params: RoomParams, prev: RoomSent | undefined): Promise<BuiltRoom> {
    const sent: RoomSent = { upTo: this.#ctx.to.events, membership: room.membership, requiredState: params.requiredState, lazyMembers: new Set(), timelineLimit: params.timelineLimit };
    if (prev?.membership === room.membership) return { json: undefined, initial: false, sent: { ...prev, requiredState: params.requiredState } };
    const stripped = await strippedState(this.#deps.roomserver, room.roomId, this.#ctx.userId);
    const json: JsonObject = { initial: true, bump_stamp: room.bumpStamp };
    // Synapse sends knocks' stripped state as `invite_state` too (MSC3575 has no other field).
    json['invite_state'] = stripped;
    const name = stripped.find((e) => e['type'] === 'm.room.name' && e['state_key'] === '');
    if (typeof contentField(name, 'name') === 'string' && contentField(name, 'name') !== '') json['name'] = contentField(name, 'name') as string;
    const own = stripped.find((e) => e['type'] === MEMBER && e['state_key'] === this.#ctx.userId);
    if (contentField(own, 'is_direct') === true) json['is_dm'] = true;
    return { json, initial: true, sent };
  }

  async #timelineRoom(room: RoomCandidate, params: RoomParams, prev: RoomSent | undefined): Promise<BuiltRoom> {
    const { roomserver } = this.#deps;
    const { userId, to } = this.#ctx;
    const { roomId } = room;
    const own = await roomserver.stateEvent(roomId, MEMBER, userId);
    const joined = room.membership === 'join';
    // A left room's history ends at the leave.
    const upTo = joined || own?.streamOrdering === null || own === undefined ? to.events : Math.min(to.events, own.streamOrdering);
    const initial = prev === undefined || (joined && prev.membership !== 'join');
    const expanded = !initial && params.timelineLimit > prev.timelineLimit;
    const widened = !initial && !sameRequiredState(prev.requiredState, params.requiredState);
    const after = initial || expanded ? 0 : prev.upTo;
    const base = { membership: room.membership, requiredState: params.requiredState, timelineLimit: params.timelineLimit };
    if (!initial && !expanded && !widened && after >= upTo) {
      return { json: undefined, initial: false, sent: { ...prev, ...base, upTo: Math.max(prev.upTo, upTo) } };
    }

    const joinedFrom = joined && own?.streamOrdering !== null && own !== undefined ? own.streamOrdering : undefined;
    const visibility: VisibilityContext = { roomserver, loader: this.#deps.loader, userId, joinedFrom, joinedLater: true };
    const timeline = await this.#timeline(roomId, after, upTo, params.timelineLimit, visibility);
    const senders = new Set(timeline.events.map((e) => e.sender));
    const timelineState = timeline.events.filter((e) => e.stateKey !== undefined);

    let stateEnd: StateMap | undefined;
    const endState = async () => (stateEnd ??= await stateAtPosition(roomserver, roomId, upTo));
    const stateIds = new Set<string>();
    const lazyMembers = new Set(initial ? [] : prev.lazyMembers);
    const required = params.requiredState;
    /** Types of state that changed since the client's copy: which summary fields to resend. */
    const changedTypes = new Set<string>();

    if (initial) {
      for (const [key, id] of await endState()) {
        const [type, stateKey] = splitStateKey(key);
        if (wantsState(required, type, stateKey)) stateIds.add(id);
      }
    } else {
      const previous = prev.requiredState;
      // State changed since the client's copy: visible in the timeline, or hidden in a gap.
      const gap = timeline.limited || expanded;
      if ((timelineState.length > 0 || gap) && prev.upTo < upTo) {
        const before = await stateAtPosition(roomserver, roomId, prev.upTo);
        for (const [key, id] of await endState()) {
          if (before.get(key) === id) continue;
          const [type, stateKey] = splitStateKey(key);
          changedTypes.add(type);
          const lazyWanted = type === MEMBER && required.lazyMembers && (lazyMembers.has(stateKey) || senders.has(stateKey));
          if (wantsState(required, type, stateKey) || lazyWanted) stateIds.add(id);
        }
      }
      if (widened) {
        for (const [key, id] of await endState()) {
          const [type, stateKey] = splitStateKey(key);
          if (wantsState(required, type, stateKey) && !wantsState(previous, type, stateKey)) stateIds.add(id);
        }
      }
    }
    if (required.lazyMembers) {
      const wasLazy = !initial && prev.requiredState.lazyMembers;
      for (const sender of senders) {
        if (wasLazy && lazyMembers.has(sender)) continue;
        const id = (await endState()).get(stateKeyOf(MEMBER, sender));
        if (id !== undefined) stateIds.add(id);
        lazyMembers.add(sender);
      }
    }

    const sent: RoomSent = { ...base, upTo, lazyMembers: required.lazyMembers ? lazyMembers : new Set() };
    if (!initial && !expanded && timeline.events.length === 0 && stateIds.size === 0) return { json: undefined, initial: false, sent };

    const loaded = [...(await this.#deps.loader.load(stateIds)).values()].sort((a, b) => (a.streamOrdering ?? 0) - (b.streamOrdering ?? 0));
    const formatCtx = await this.#formatContext(roomId, timeline.events.map(toLoaded));
    const json: JsonObject = { bump_stamp: room.bumpStamp };
    if (initial) json['initial'] = true;
    if (expanded) json['unstable_expanded_timeline'] = true;
    json['required_state'] = loaded.map((e) => formatSyncEvent(e, formatCtx));
    json['timeline'] = timeline.events.map((e) => formatSyncEvent(toLoaded(e), formatCtx));
    json['limited'] = timeline.limited;
    json['prev_batch'] = encodeSyncToken({ events: timeline.prevPosition, streams: this.#ctx.to.streams });
    const liveAfter = initial || expanded ? this.#ctx.fromEvents : prev.upTo;
    json['num_live'] = liveAfter === undefined ? 0 : timeline.events.filter((e) => (e.streamOrdering ?? 0) > liveAfter).length;
    if (initial || expanded) for (const type of ['m.room.name', 'm.room.avatar', 'm.room.canonical_alias', MEMBER]) changedTypes.add(type);
    for (const e of timelineState) changedTypes.add(e.type);
    await this.#summary(roomId, json, changedTypes);
    if (this.#ctx.directRooms.has(roomId)) json['is_dm'] = true;
    if (joined) {
      const counts = await this.#unread(roomId, own);
      json['notification_count'] = counts.notification_count;
      json['highlight_count'] = counts.highlight_count;
    }
    return { json, initial, sent };
  }

  /** name, avatar, heroes and member counts: sent when the room is new to the client or they may have changed. */
  async #summary(roomId: string, json: JsonObject, changedTypes: ReadonlySet<string>): Promise<void> {
    const { roomserver, repo } = this.#deps;
    const nameChanged = changedTypes.has('m.room.name') || changedTypes.has('m.room.canonical_alias');
    const membersChanged = changedTypes.has(MEMBER);
    let name: string | undefined;
    if (nameChanged || membersChanged) {
      const value = contentOf(await roomserver.stateEvent(roomId, 'm.room.name', ''))['name'];
      if (typeof value === 'string' && value !== '') name = value;
      if (name !== undefined) json['name'] = name;
    }
    if (changedTypes.has('m.room.avatar')) {
      const url = contentOf(await roomserver.stateEvent(roomId, 'm.room.avatar', ''))['url'];
      if (typeof url === 'string' && url !== '') json['avatar'] = url;
    }
    if (!membersChanged) return;
    const joined = await roomserver.members(roomId, 'join');
    const invited = await roomserver.members(roomId, 'invite');
    json['joined_count'] = joined.length;
    json['invited_count'] = invited.length;
    if (name !== undefined) return;
    let heroes = await repo.heroes(roomId, ['join', 'invite'], this.#ctx.userId, HERO_COUNT);
    if (heroes.length === 0) heroes = await repo.heroes(roomId, ['leave', 'ban'], this.#ctx.userId, HERO_COUNT);
    const out: JsonObject[] = [];
    for (const hero of heroes) {
      const content = contentOf(await roomserver.stateEvent(roomId, MEMBER, hero));
      const entry: JsonObject = { user_id: hero };
      if (typeof content['displayname'] === 'string') entry['displayname'] = content['displayname'];
      if (typeof content['avatar_url'] === 'string') entry['avatar_url'] = content['avatar_url'];
      out.push(entry);
    }
    if (out.length > 0) json['heroes'] = out;
  }

  /** The newest `limit` visible events in (after, upTo], oldest first. */
  async #timeline(roomId: string, after: number, upTo: number, limit: number, visibility: VisibilityContext): Promise<Timeline> {
    if (upTo <= after) return { events: [], limited: false, prevPosition: upTo };
    const collected: RoomEvent[] = [];
    let cursor = upTo;
    let limited = false;
    let pageSize = limit + 1;
    for (let page = 0; ; page++) {
      const rows = await this.#deps.roomserver.eventsInRange({ roomId, fromStream: after, toStream: cursor, limit: pageSize, direction: 'backward' });
      if (rows.length === 0) break;
      cursor = (rows[rows.length - 1]?.streamOrdering ?? after + 1) - 1;
      const visible = (await visibleEvents(visibility, [...rows].reverse())).reverse();
      for (const event of visible) {
        if (collected.length === limit) {
          limited = true;
          break;
        }
        collected.push(event);
      }
      if (limited || rows.length < pageSize || cursor <= after) break;
      if (collected.length === limit || page + 1 >= MAX_TIMELINE_PAGES) {
        limited = true;
        break;
      }
      pageSize = Math.min(pageSize * 4, 1000);
    }
    collected.reverse();
    const first = collected[0]?.streamOrdering;
    return { events: collected, limited, prevPosition: first === undefined || first === null ? upTo : first - 1 };
  }

  async #unread(roomId: string, own: RoomEvent | undefined): Promise<{ notification_count: number; highlight_count: number }> {
    let readPoint = own?.streamOrdering ?? 0;
    const receipts = this.#deps.sources.receipts;
    if (receipts !== undefined) {
      const ids = await receipts.readReceiptEvents(roomId, this.#ctx.userId);
      for (const event of (await this.#deps.loader.load(ids)).values()) {
        if (event.roomId === roomId && event.streamOrdering !== null) readPoint = Math.max(readPoint, event.streamOrdering);
      }
    }
    const displayName = contentOf(own)['displayname'];
    const userId = this.#ctx.userId;
    return unreadCounts(this.#deps.repo, {
      roomId,
      userId,
      displayName: typeof displayName === 'string' ? displayName : undefined,
      readPoint,
      upTo: this.#ctx.to.events,
      ruleset: this.#deps.pushRules === undefined ? defaultPushRules(userId) : await this.#deps.pushRules.ruleset(userId),
      facts: () => roomPushFacts(this.#deps.roomserver, roomId),
    });
  }

  #formatContext(roomId: string, timeline: readonly LoadedEvent[]): Promise<FormatContext> {
    const { userId, deviceId, now } = this.#ctx;
    const { repo, loader, aggregations } = this.#deps;
    return formatContextFor({ repo, loader, aggregations }, { roomId, userId, deviceId, now, filter: DEFAULT_SYNC_FILTER }, timeline);
  }

}

function contentOf(event: { readonly json: JsonObject } | undefined): JsonObject {
  const content = event?.json['content'];
  return isJsonObject(content) ? content : {};
}

function contentField(event: JsonObject | undefined, key: string): unknown {
  const content = event?.['content'];
  return isJsonObject(content) ? content[key] : undefined;
}
