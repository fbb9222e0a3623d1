// Presence (client-server API § "Presence"): online / unavailable / offline, a status
// message and the last time the user did something. Each user's presence lives in memory
// and every visible change is also written to the `presence` table, which is the stream
// /sync reads (`p`) and what survives a restart.
//
// Automatic changes, as § "Idle timeout" and § "Last active ago" describe:
// - an online user inactive for IDLE_AFTER_MS becomes unavailable;
// - a user whose clients stopped syncing (and who set no presence) for OFFLINE_AFTER_MS
//   becomes offline;
// - activity (sending events, setting `online`) makes an idle user online again.

import { forbidden, invalidParam } from '../../http/matrix-error.ts';
import type { JsonObject } from '../../rooms/json.ts';
import type { Roomserver } from '../../roomserver/index.ts';
import type { StoaDatabase } from '../../storage/index.ts';
import { PresenceRepository, type StoredPresence } from '../../storage/presence-repository.ts';
import type { PresenceSource } from '../sync/sources.ts';
import type { Scheduler } from './scheduler.ts';
import { SerialWriter, StreamPosition } from './stream-position.ts';

export type PresenceState = 'online' | 'unavailable' | 'offline';
export const PRESENCE_STATES: ReadonlySet<string> = new Set<PresenceState>(['online', 'unavailable', 'offline']);

/** § "Idle timeout": "e.g. 5 minutes". */
export const IDLE_AFTER_MS = 5 * 60_000;
/** No sync and no presence update for this long: the user is gone. */
export const OFFLINE_AFTER_MS = 5 * 60_000;
/** `currently_active` holds this long after activity; activity within it is not re-announced. */
export const CURRENTLY_ACTIVE_MS = 60_000;
export const SWEEP_INTERVAL_MS = 30_000;
/** Status messages are shown in user lists; Synapse caps them similarly. */
export const MAX_STATUS_MSG_LENGTH = 1024;

interface UserPresence {
  readonly state: PresenceState;
  readonly statusMsg: string | null;
  readonly lastActiveTs: number;
  readonly currentlyActive: boolean;
  /** In memory only: the last time a client synced or set presence. */
  readonly lastSeenTs: number;
}

/** The GET /presence/{userId}/status body. */
export interface PresenceView {
  presence: PresenceState;
  last_active_ago?: number;
  status_msg?: string | null;
  currently_active?: boolean;
}

export interface PresenceServiceOptions {
  readonly db: StoaDatabase;
  readonly roomserver: Roomserver;
  readonly serverName: string;
  readonly clock: () => number;
  readonly schedule: Scheduler;
}

export class PresenceService extends StreamPosition implements PresenceSource {
  readonly #repo: PresenceRepository;
  readonly #roomserver: Roomserver;
  readonly #serverName: string;
  readonly #clock: () => number;
  readonly #schedule: Scheduler;
  readonly #writer = new SerialWriter(this);
  /** Local users who are not offline (remote users' presence is only in the table). */
  readonly #users = new Map<string, UserPresence>();
  readonly #localChangeListeners = new Set<(userId: string, view: PresenceView) => void>();
  readonly #ready: Promise<void>;
  #cancelSweep: (() => void) | undefined;
  #closed = false;

  constructor(options: PresenceServiceOptions) {
    super('p');
    this.#repo = new PresenceRepository(options.db.kysely);
    this.#roomserver = options.roomserver;
    this.#serverName = options.serverName;
    this.#clock = options.clock;
    this.#schedule = options.schedule;
    this.#ready = this.#load();
    // Callers await it and see the error; this only keeps it from being an unhandled rejection.
    this.#ready.catch(() => undefined);
  }

  ready(): Promise<void> {
    return this.#ready;
  }

  /** PUT /presence/{userId}/status: only for yourself. */
  async setByClient(requester: string, userId: string, state: string, statusMsg: string | undefined): Promise<void> {
    if (requester !== userId) throw forbidden("Cannot set another user's presence");
    if (!PRESENCE_STATES.has(state)) throw invalidParam(`presence must be one of ${[...PRESENCE_STATES].join(', ')}`);
    if (statusMsg !== undefined && statusMsg.length > MAX_STATUS_MSG_LENGTH) {
      throw invalidParam(`status_msg is longer than ${MAX_STATUS_MSG_LENGTH} characters`);
    }
    await this.set(userId, state as PresenceState, statusMsg ?? null);
  }

  /** Sets a local user's presence; `online` counts as activity (§ "Last active ago"). */
  async set(userId: string, state: PresenceState, statusMsg: string | null): Promise<void> {
    await this.#ready;
    const now = this.#clock();
    const previous = await this.#current(userId);
    const active = state === 'online';
    await this.#write(userId, {
      state,
      statusMsg,
      lastActiveTs: active ? now : previous.lastActiveTs,
      currentlyActive: active,
      lastSeenTs: now,
    });
  }

  /**
   * GET /presence/{userId}/status. Presence is visible to the user and to users sharing a
   * room with them (§ "Security considerations"); a user never seen is offline.
   */
  async getForViewer(viewer: string, userId: string): Promise<PresenceView> {
    await this.#ready;
    if (viewer !== userId && !(await this.#shareARoom(viewer, userId))) {
      throw forbidden('You are not allowed to see their presence');
    }
    const stored = this.#users.get(userId) ?? storedToPresence(await this.#repo.find(userId));
    return stored === undefined ? { presence: 'offline' } : this.#view(stored);
  }

  async syncedPresence(userId: string, presence: PresenceState): Promise<void> {
    await this.#ready;
    if (presence === 'offline') return;
    const now = this.#clock();
    const previous = await this.#current(userId);
    // A sync says the client is there, not that the user did something: an explicit
    // `unavailable` stays, an offline user comes online, last_active is left alone.
    const state: PresenceState = presence === 'unavailable' || previous.state === 'unavailable' ? 'unavailable' : 'online';
    if (state === previous.state && this.#users.has(userId)) {
      this.#users.set(userId, { ...previous, lastSeenTs: now });
      return;
    }
    const bringOnline = previous.state === 'offline' && state === 'online';
    await this.#write(userId, {
      ...previous,
      state,
      lastActiveTs: bringOnline ? now : previous.lastActiveTs,
      currentlyActive: bringOnline,
      lastSeenTs: now,
    });
  }

  /**
   * The user did something (sent an event): bump last_active, bring an idle user back
   * online. Written only when a client could see the difference, so a chatty user does not
   * flood the stream (§ "Last active ago": the `currently_active` mechanism).
   */
  async userActive(userId: string): Promise<void> {
    await this.#ready;
    const now = this.#clock();
    const previous = await this.#current(userId);
    const next: UserPresence = { ...previous, state: 'online', lastActiveTs: now, currentlyActive: true, lastSeenTs: now };
    if (previous.state === 'online' && previous.currentlyActive && now - previous.lastActiveTs < CURRENTLY_ACTIVE_MS) {
      this.#users.set(userId, next);
      return;
    }
    await this.#write(userId, next);
  }

  async presenceSince(users: ReadonlySet<string>, from: number, to: number): Promise<JsonObject[]> {
    await this.#ready;
    const rows = await this.#repo.changed([...users], from, to);
    return rows.map((row) => {
      const presence = this.#users.get(row.userId) ?? storedToPresence(row);
      return { type: 'm.presence', sender: row.userId, content: presence === undefined ? { presence: 'offline' } : this.#viewJson(presence) };
    });
  }

  /** A presence update from another server (m.presence EDU). */
  async storeRemotePresence(userId: string, view: PresenceView): Promise<void> {
    await this.#ready;
    const now = this.#clock();
    await this.#writer.run(async () => {
      const position = await this.#repo.upsert({
        userId,
        state: view.presence,
        statusMsg: view.status_msg ?? null,
        lastActiveTs: now - (view.last_active_ago ?? 0),
        currentlyActive: view.currently_active ?? false,
      });
      this.advanceTo(position);
    });
  }

  /** Idle and offline timeouts; runs every SWEEP_INTERVAL_MS (also callable from tests). */
  async sweep(): Promise<void> {
    await this.#ready;
    const now = this.#clock();
    for (const [userId, presence] of [...this.#users]) {
      if (presence.state !== 'offline' && now - presence.lastSeenTs >= OFFLINE_AFTER_MS) {
        await this.#write(userId, { ...presence, state: 'offline', currentlyActive: false });
      } else if (presence.state === 'online' && now - presence.lastActiveTs >= IDLE_AFTER_MS) {
        await this.#write(userId, { ...presence, state: 'unavailable', currentlyActive: false });
      } else if (presence.currentlyActive && now - presence.lastActiveTs >= CURRENTLY_ACTIVE_MS) {
        // Tell clients to start counting last_active_ago again.
        await this.#write(userId, { ...presence, currentlyActive: false });
      }
    }
  }

  /** Visible changes of local users' presence, for the federation sender (m.presence EDUs). */
  onLocalChange(listener: (userId: string, view: PresenceView) => void): () => void {
    this.#localChangeListeners.add(listener);
    return () => this.#localChangeListeners.delete(listener);
  }

  close(): void {
    this.#closed = true;
    this.#cancelSweep?.();
    this.#cancelSweep = undefined;
  }

  isLocal(userId: string): boolean {
    return userId.slice(userId.indexOf(':') + 1) === this.#serverName;
  }

  async #load(): Promise<void> {
    this.advanceTo(await this.#repo.maxStreamId());
    const now = this.#clock();
    // After a restart nobody's clients have synced yet: give them OFFLINE_AFTER_MS to return.
    for (const row of await this.#repo.notOffline()) {
      const presence = storedToPresence(row);
      if (presence !== undefined && this.isLocal(row.userId)) this.#users.set(row.userId, { ...presence, lastSeenTs: now });
    }
    this.#armSweep();
  }

  #armSweep(): void {
    if (this.#closed) return;
    this.#cancelSweep = this.#schedule(() => {
      void this.sweep().finally(() => this.#armSweep());
    }, SWEEP_INTERVAL_MS);
  }

  async #current(userId: string): Promise<UserPresence> {
    const now = this.#clock();
    return (
      this.#users.get(userId) ??
      storedToPresence(await this.#repo.find(userId)) ?? {
        state: 'offline',
        statusMsg: null,
        lastActiveTs: now,
        currentlyActive: false,
        lastSeenTs: now,
      }
    );
  }

  async #write(userId: string, presence: UserPresence): Promise<void> {
    await this.#writer.run(async () => {
      const position = await this.#repo.upsert({
        userId,
        state: presence.state,
        statusMsg: presence.statusMsg,
        lastActiveTs: presence.lastActiveTs,
        currentlyActive: presence.currentlyActive,
      });
      if (presence.state === 'offline') this.#users.delete(userId);
      else this.#users.set(userId, presence);
      this.advanceTo(position);
      const view = this.#view(presence);
      for (const listener of [...this.#localChangeListeners]) listener(userId, view);
    });
  }

  async #shareARoom(a: string, b: string): Promise<boolean> {
    const roomsOfA = new Set(await this.#roomserver.roomsForUser(a, 'join'));
    if (roomsOfA.size === 0) return false;
    for (const roomId of await this.#roomserver.roomsForUser(b, 'join')) if (roomsOfA.has(roomId)) return true;
    return false;
  }

  #view(presence: UserPresence): PresenceView {
    const view: PresenceView = {
      presence: presence.state,
      last_active_ago: Math.max(0, this.#clock() - presence.lastActiveTs),
      currently_active: presence.currentlyActive,
    };
    if (presence.statusMsg !== null) view.status_msg = presence.statusMsg;
    return view;
  }

  #viewJson(presence: UserPresence): JsonObject {
    const view = this.#view(presence);
    const json: JsonObject = { presence: view.presence };
    if (view.last_active_ago !== undefined) json['last_active_ago'] = view.last_active_ago;
    if (view.currently_active !== undefined) json['currently_active'] = view.currently_active;
    if (view.status_msg !== undefined) json['status_msg'] = view.status_msg;
    return json;
  }
}

function storedToPresence(row: StoredPresence | undefined): UserPresence | undefined {
  if (row === undefined || !PRESENCE_STATES.has(row.state)) return undefined;
  return {
    state: row.state as PresenceState,
    statusMsg: row.statusMsg,
    lastActiveTs: row.lastActiveTs,
    currentlyActive: row.currentlyActive,
    lastSeenTs: row.lastActiveTs,
  };
}
