// Roomserver queries for clients' reads of rooms: which events a user may see (history
// visibility, client-server § "Room History Visibility"), the user's membership history
// in a room, the state at a stream position, and what the client event format adds in
// `unsigned` (prev_content, replaces_state, redacted_because, transaction_id, membership).
// Shared by the room-read endpoints and /sync; reads only, never writes the DAG.

import { stateKeyOf, type StateMap } from '../rooms/event-view.ts';
import { getField, isJsonObject, type JsonObject } from '../rooms/json.ts';
import { historyVisibilityOf, isEventVisible, type VisibilityPoint } from '../rooms/visibility.ts';
import { ClientReadsRepository, type StateKeyPair } from '../storage/client-reads-repository.ts';
import { EventsRepository } from '../storage/index.ts';
import { toRoomEvent, type RoomEvent, type Roomserver } from './roomserver.ts';

const HISTORY_VISIBILITY = 'm.room.history_visibility';
const MEMBER = 'm.room.member';

/** A user's membership events are walked back at most this far (a guard against cycles). */
const MAX_MEMBERSHIP_STEPS = 1000;

/** One of a user's m.room.member events in a room. */
export interface MembershipStep {
  readonly eventId: string;
  readonly streamOrdering: number | null;
  /** `content.membership`; undefined when the content has none (never for accepted events). */
  readonly membership: string | undefined;
}

/** What one user may know about one event. */
export interface EventVisibility {
  readonly visible: boolean;
  /**
   * The user's membership after the event, `leave` when they had none: `unsigned.membership`
   * of the client event format.
   */
  readonly membershipAfter: string;
  /** For a state event: the state event it replaced (`unsigned.replaces_state`). */
  readonly replacesState: string | undefined;
}

export class ClientReadQueries {
  readonly #roomserver: Roomserver;
  readonly #reads: ClientReadsRepository;
  readonly #events: EventsRepository;

  constructor(roomserver: Roomserver) {
    this.#roomserver = roomserver;
    this.#reads = new ClientReadsRepository(roomserver.database);
    this.#events = new EventsRepository(roomserver.database.kysely);
  }

  get roomserver(): Roomserver {
    return this.#roomserver;
  }

  /**
   * The user's membership events in the room along its current state, oldest first: the
   * current m.room.member event, then the one it replaced (from the state before it), and
   * so on. Empty when the user never had a membership.
   */
  async membershipHistory(roomId: string, userId: string): Promise<MembershipStep[]> {
    const steps: MembershipStep[] = [];
    const seen = new Set<string>();
    let next = (await this.#roomserver.stateEvent(roomId, MEMBER, userId))?.eventId;
    while (next !== undefined && !seen.has(next) && steps.length < MAX_MEMBERSHIP_STEPS) {
      seen.add(next);
      const event = await this.#roomserver.event(next);
      if (event === undefined) break;
      steps.push({ eventId: event.eventId, streamOrdering: event.streamOrdering, membership: membershipOf(event.json) });
      next = await this.#entryBefore(event.eventId, MEMBER, userId);
    }
    return steps.reverse();
  }

  /**
   * Decides, for each of `events` (all in `roomId`), whether `userId` may see it. Outliers,
   * rejected and soft-failed events are never visible. `history` may be passed when the
   * caller already loaded it.
   */
  async visibility(
    roomId: string,
    userId: string,
    events: readonly RoomEvent[],
    history?: readonly MembershipStep[],
  ): Promise<Map<string, EventVisibility>> {
    const result = new Map<string, EventVisibility>();
    if (events.length === 0) return result;
    const steps = history ?? (await this.membershipHistory(roomId, userId));
    const currentlyJoined = steps.at(-1)?.membership === 'join';
    const joinPositions = steps.flatMap((s) => (s.membership === 'join' && s.streamOrdering !== null ? [s.streamOrdering] : []));
    const lastJoin = joinPositions.length === 0 ? -1 : Math.max(...joinPositions);

    const snapshots = await this.#reads.stateBeforeSnapshots(events.map((e) => e.eventId));
    const keys: StateKeyPair[] = [
      { type: HISTORY_VISIBILITY, stateKey: '' },
      { type: MEMBER, stateKey: userId },
    ];
    for (const event of events) if (event.stateKey !== undefined) keys.push({ type: event.type, stateKey: event.stateKey });
    const snapshotIds = [...snapshots.values()].filter((id): id is number => id !== null);
    const entries = await this.#reads.snapshotEntries(snapshotIds, keys);
    const bySnapshot = new Map<number, Map<string, string>>();
    for (const entry of entries) {
      let map = bySnapshot.get(entry.snapshotId);
      if (map === undefined) bySnapshot.set(entry.snapshotId, (map = new Map()));
      map.set(stateKeyOf(entry.type, entry.stateKey), entry.eventId);
    }
    const hvKey = stateKeyOf(HISTORY_VISIBILITY, '');
    const memberKey = stateKeyOf(MEMBER, userId);
    const contents = await this.#contents(
      [...bySnapshot.values()].flatMap((m) => [m.get(hvKey), m.get(memberKey)]).filter((id): id is string => id !== undefined),
    );

    for (const event of events) {
      const snapshotId = snapshots.get(event.eventId);
      const timeline =
        event.roomId === roomId &&
        event.streamOrdering !== null &&
        !event.outlier &&
        event.rejectedReason === null &&
        !event.softFailed &&
        snapshotId !== undefined &&
        snapshotId !== null;
      const state = timeline ? (bySnapshot.get(snapshotId) ?? new Map<string, string>()) : new Map<string, string>();
      const hvId = state.get(hvKey);
      const memberId = state.get(memberKey);
      const before: VisibilityPoint = {
        historyVisibility: historyVisibilityOf(hvId === undefined ? undefined : contents.get(hvId)),
        membership: memberId === undefined ? undefined : membershipOf({ content: contents.get(memberId) ?? {} }),
      };
      const after: VisibilityPoint = {
        historyVisibility:
          event.type === HISTORY_VISIBILITY && event.stateKey === ''
            ? historyVisibilityOf(getField(event.json, 'content'))
            : before.historyVisibility,
        membership: event.type === MEMBER && event.stateKey === userId ? membershipOf(event.json) : before.membership,
      };
      const position = event.streamOrdering ?? Number.POSITIVE_INFINITY;
      const visible =
        timeline && isEventVisible({ before, after, joinedAfterEvent: currentlyJoined || lastJoin > position });
      result.set(event.eventId, {
        visible,
        membershipAfter: after.membership ?? 'leave',
        replacesState: event.stateKey === undefined ? undefined : state.get(stateKeyOf(event.type, event.stateKey)),
      });
    }
    return result;
  }

  /** The events among `events` that `userId` may see, in the given order. */
  async visibleEvents(roomId: string, userId: string, events: readonly RoomEvent[], history?: readonly MembershipStep[]) {
    const facts = await this.visibility(roomId, userId, events, history);
    return events.filter((e) => facts.get(e.eventId)?.visible === true);
  }

  /**
   * The room state at a stream position: the state after the room's last timeline event at
   * or before `position`. Undefined when the room had no event by then.
   */
  async stateAtPosition(roomId: string, position: number): Promise<{ eventId: string; state: StateMap } | undefined> {
    const eventId = await this.#reads.lastTimelineEventAtOrBefore(roomId, position);
    if (eventId === undefined) return undefined;
    const state = await this.#roomserver.stateAt(eventId, 'after');
    return state === undefined ? undefined : { eventId, state };
  }

  /** Client transaction IDs `userId`'s `deviceId` sent these events of `roomId` with. */
  transactionIds(roomId: string, userId: string, deviceId: string, eventIds: readonly string[]): Promise<Map<string, string>> {
    return this.#reads.transactionIds(roomId, userId, deviceId, eventIds);
  }

  /** Events by ID, as clients see them (redactions applied); unknown IDs are absent. */
  async events(eventIds: readonly string[]): Promise<Map<string, RoomEvent>> {
    const out = new Map<string, RoomEvent>();
    const ids = [...new Set(eventIds)];
    for (let i = 0; i < ids.length; i += 500) {
      for (const stored of await this.#events.byIds(ids.slice(i, i + 500))) {
        out.set(stored.eventId, toRoomEvent(stored, 'client'));
      }
    }
    return out;
  }

  /** The event of (type, stateKey) in the state before `eventId`. */
  async #entryBefore(eventId: string, type: string, stateKey: string): Promise<string | undefined> {
    const snapshotId = (await this.#reads.stateBeforeSnapshots([eventId])).get(eventId);
    if (snapshotId === undefined || snapshotId === null) return undefined;
    const [entry] = await this.#reads.snapshotEntries([snapshotId], [{ type, stateKey }]);
    return entry?.eventId;
  }

  async #contents(eventIds: readonly string[]): Promise<Map<string, JsonObject>> {
    const out = new Map<string, JsonObject>();
    for (const [id, event] of await this.events(eventIds)) {
      const content = getField(event.json, 'content');
      out.set(id, isJsonObject(content) ? content : {});
    }
    return out;
  }
}

function membershipOf(json: JsonObject): string | undefined {
  const content = getField(json, 'content');
  const membership = isJsonObject(content) ? getField(content, 'membership') : undefined;
  return typeof membership === 'string' ? membership : undefined;
}
