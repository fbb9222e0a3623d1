// The rooms of a sliding sync connection and its lists (MSC4186 "lists"): every room the
// user is joined to, invited to or knocking on (and, once, a room they just left), sorted
// by recency — the room's bump stamp, the stream position of its latest event of a type
// that counts as activity (Synapse's DEFAULT_BUMP_EVENT_TYPES), or for a room the user is
// not joined to, of their membership event — and each list's filters applied. Ranges are
// inclusive index windows into the sorted, filtered list.

import { isJsonObject, type JsonObject } from '../../rooms/json.ts';
import type { Roomserver } from '../../roomserver/index.ts';
import type { SlidingSyncRepository } from '../../storage/index.ts';
import type { EventLoader } from '../sync/events.ts';
import type { AccountDataSource } from '../sync/sources.ts';
import type { RoomSent } from './connections.ts';
import type { ListConfig, ListFilters } from './request.ts';
import { strippedState } from '../sync/room-sync.ts';
import type { Membership, RoomCandidate } from './room-builder.ts';

/** Event types that move a room up the list (Synapse's DEFAULT_BUMP_EVENT_TYPES). */
export const BUMP_EVENT_TYPES: readonly string[] = [
  'm.room.create',
  'm.room.message',
  'm.room.encrypted',
  'm.sticker',
  'm.call.invite',
  'm.poll.start',
  'm.beacon_info',
];

const LISTED_MEMBERSHIPS = ['join', 'invite', 'knock'] as const;

export interface RoomListDeps {
  readonly roomserver: Roomserver;
  readonly repo: SlidingSyncRepository;
  readonly loader: EventLoader;
  readonly accountData: AccountDataSource | undefined;
}

/** Every room of the user, most recent first. `previous` adds rooms left since they were sent. */
export async function candidateRooms(
  deps: RoomListDeps,
  userId: string,
  upTo: number,
  previous: ReadonlyMap<string, RoomSent>,
): Promise<RoomCandidate[]> {
  const membership = new Map<string, Membership>();
  for (const m of LISTED_MEMBERSHIPS) for (const roomId of await deps.roomserver.roomsForUser(userId, m)) membership.set(roomId, m);
  for (const [roomId, sent] of previous) {
    if (membership.has(roomId) || sent.membership === 'leave' || sent.membership === 'ban') continue;
    const now = await deps.roomserver.membership(roomId, userId);
    if (now === 'leave' || now === 'ban') membership.set(roomId, now);
  }
  const joined = [...membership].filter(([, m]) => m === 'join').map(([roomId]) => roomId);
  const bumps = await deps.repo.latestOfTypes(joined, BUMP_EVENT_TYPES, upTo);
  const unbumped = joined.filter((roomId) => !bumps.has(roomId));
  const fallback = unbumped.length === 0 ? new Map<string, number>() : await deps.repo.latestAny(unbumped, upTo);
  const out: RoomCandidate[] = [];
  for (const [roomId, m] of membership) {
    let bumpStamp: number | undefined;
    if (m === 'join') bumpStamp = bumps.get(roomId) ?? fallback.get(roomId);
    if (bumpStamp === undefined) bumpStamp = (await deps.roomserver.stateEvent(roomId, 'm.room.member', userId))?.streamOrdering ?? 0;
    out.push({ roomId, membership: m, bumpStamp: bumpStamp ?? 0 });
  }
  return out.sort((a, b) => b.bumpStamp - a.bumpStamp || (a.roomId < b.roomId ? -1 : a.roomId > b.roomId ? 1 : 0));
}

/** Facts the list filters look at, read once per request and only when a filter needs them. */
export class RoomFacts {
  readonly #deps: RoomListDeps;
  readonly #userId: string;
  #accountData: Promise<{ direct: Set<string>; tags: Map<string, Set<string>> }> | undefined;
  readonly #state = new Map<string, Promise<{ type: string | null; encrypted: boolean; name: string | undefined; isDirectInvite: boolean }>>();
  readonly #spaceChildren = new Map<string, Promise<Set<string>>>();

  constructor(deps: RoomListDeps, userId: string) {
    this.#deps = deps;
    this.#userId = userId;
  }

  /** Rooms `m.direct` names, and each room's `m.tag` tags. */
  accountData(): Promise<{ direct: Set<string>; tags: Map<string, Set<string>> }> {
    this.#accountData ??= (async () => {
      const direct = new Set<string>();
      const tags = new Map<string, Set<string>>();
      const source = this.#deps.accountData;
      if (source === undefined) return { direct, tags };
      const all = await source.accountDataSince(this.#userId, 0, Math.max(source.currentPosition(), 0));
      for (const entry of all.global) {
        if (entry.type !== 'm.direct') continue;
        for (const rooms of Object.values(entry.content)) {
          if (Array.isArray(rooms)) for (const roomId of rooms) if (typeof roomId === 'string') direct.add(roomId);
        }
      }
      for (const [roomId, entries] of all.rooms) {
        const tag = entries.find((e) => e.type === 'm.tag')?.content['tags'];
        if (isJsonObject(tag)) tags.set(roomId, new Set(Object.keys(tag)));
      }
      return { direct, tags };
    })();
    return this.#accountData;
  }

  async matches(room: RoomCandidate, filters: ListFilters): Promise<boolean> {
    if (filters.isInvite !== undefined && (room.membership === 'invite') !== filters.isInvite) return false;
    if (filters.isDm !== undefined && (await this.#isDm(room)) !== filters.isDm) return false;
    const needsState = filters.isEncrypted !== undefined || filters.roomTypes !== undefined || filters.notRoomTypes !== undefined
      || filters.roomNameLike !== undefined;
    if (needsState) {
      const state = await this.#roomState(room);
      if (filters.isEncrypted !== undefined && state.encrypted !== filters.isEncrypted) return false;
      if (filters.roomTypes !== undefined && !filters.roomTypes.includes(state.type)) return false;
      if (filters.notRoomTypes !== undefined && filters.notRoomTypes.includes(state.type)) return false;
      if (filters.roomNameLike !== undefined && !(state.name ?? '').toLowerCase().includes(filters.roomNameLike.toLowerCase())) return false;
    }
    if (filters.spaces !== undefined) {
      let inSpace = false;
      for (const space of filters.spaces) if ((await this.#children(space)).has(room.roomId)) inSpace = true;
      if (!inSpace) return false;
    }
    if (filters.tags !== undefined || filters.notTags !== undefined) {
      const tags = (await this.accountData()).tags.get(room.roomId) ?? new Set<string>();
      if (filters.tags !== undefined && filters.tags.length > 0 && !filters.tags.some((t) => tags.has(t))) return false;
      if (filters.notTags !== undefined && filters.notTags.some((t) => tags.has(t))) return false;
    }
    return true;
  }

  async #isDm(room: RoomCandidate): Promise<boolean> {
    if (room.membership === 'invite') return (await this.#roomState(room)).isDirectInvite;
    return (await this.accountData()).direct.has(room.roomId);
  }

  #roomState(room: RoomCandidate): Promise<{ type: string | null; encrypted: boolean; name: string | undefined; isDirectInvite: boolean }> {
    let found = this.#state.get(room.roomId);
    if (found === undefined) {
      found = (async () => {
        const { roomserver } = this.#deps;
        if (room.membership === 'invite' || room.membership === 'knock') {
          const stripped = await strippedState(roomserver, room.roomId, this.#userId);
          const content = (type: string, key = '') => {
            const c = stripped.find((e) => e['type'] === type && e['state_key'] === key)?.['content'];
            return isJsonObject(c) ? c : undefined;
          };
          const type = content('m.room.create')?.['type'];
          const name = content('m.room.name')?.['name'];
          return {
            type: typeof type === 'string' ? type : null,
            encrypted: content('m.room.encryption') !== undefined,
            name: typeof name === 'string' ? name : undefined,
            isDirectInvite: content('m.room.member', this.#userId)?.['is_direct'] === true,
          };
        }
        const create = contentOf(await roomserver.stateEvent(room.roomId, 'm.room.create', ''));
        const name = contentOf(await roomserver.stateEvent(room.roomId, 'm.room.name', ''))['name'];
        return {
          type: typeof create['type'] === 'string' ? create['type'] : null,
          encrypted: (await roomserver.stateEvent(room.roomId, 'm.room.encryption', '')) !== undefined,
          name: typeof name === 'string' ? name : undefined,
          isDirectInvite: false,
        };
      })();
      this.#state.set(room.roomId, found);
    }
    return found;
  }

  /** The rooms a space names as children (`m.space.child` with a non-empty `via`). */
  #children(spaceId: string): Promise<Set<string>> {
    let found = this.#spaceChildren.get(spaceId);
    if (found === undefined) {
      found = (async () => {
        const children = new Set<string>();
        if ((await this.#deps.roomserver.membership(spaceId, this.#userId)) !== 'join') return children;
        const entries = await this.#deps.roomserver.currentStateOfType(spaceId, 'm.space.child');
        const events = await this.#deps.loader.load(entries.map((e) => e.eventId));
        for (const entry of entries) {
          const via = contentOf(events.get(entry.eventId))['via'];
          if (Array.isArray(via) && via.length > 0) children.add(entry.stateKey);
        }
        return children;
      })();
      this.#spaceChildren.set(spaceId, found);
    }
    return found;
  }
}

/** A list's filtered rooms (in order) and the rooms inside its ranges. */
export async function applyList(
  rooms: readonly RoomCandidate[],
  config: ListConfig,
  facts: RoomFacts,
): Promise<{ count: number; window: RoomCandidate[] }> {
  const filtered: RoomCandidate[] = [];
  for (const room of rooms) if (await facts.matches(room, config.filters)) filtered.push(room);
  const inWindow = new Set<number>();
  for (const [start, end] of config.ranges) {
    for (let i = start; i <= Math.min(end, filtered.length - 1); i++) inWindow.add(i);
  }
  return { count: filtered.length, window: [...inWindow].sort((a, b) => a - b).map((i) => filtered[i]).filter((r): r is RoomCandidate => r !== undefined) };
}

function contentOf(event: { readonly json: JsonObject } | undefined): JsonObject {
  const content = event?.json['content'];
  return isJsonObject(content) ? content : {};
}
