// Typing notifications (client-server API § "Typing Notifications"): who is typing in each
// room, in memory only, each entry expiring after the timeout its client gave. Every change,
// expiry included, advances the typing stream so /sync long-polls wake up.

import type { Cluster } from '../../storage/cluster/cluster.ts';
import type { TypingSource } from '../sync/sources.ts';
import type { Scheduler } from './scheduler.ts';
import { StreamPosition } from './stream-position.ts';

/** Synapse's cap: a client cannot pin itself as typing for longer than this. */
export const MAX_TYPING_TIMEOUT_MS = 120_000;
/** When a client says `typing: true` without a timeout. */
export const DEFAULT_TYPING_TIMEOUT_MS = 30_000;

/** The cluster channel of typing changes. */
const TYPING_CHANNEL = 'typing';

export interface TypingChange {
  readonly roomId: string;
  readonly userId: string;
  readonly typing: boolean;
}

export interface TypingServiceOptions {
  readonly clock: () => number;
  readonly schedule: Scheduler;
}

export class TypingService extends StreamPosition implements TypingSource {
  readonly #clock: () => number;
  readonly #schedule: Scheduler;
  /** room → user → expiry time (ms since the epoch). */
  readonly #typing = new Map<string, Map<string, number>>();
  /** room → the stream position of its latest change. */
  readonly #changedAt = new Map<string, number>();
  readonly #changeListeners = new Set<(change: TypingChange) => void>();
  #cancelTimer: (() => void) | undefined;
  #timerAt: number | undefined;
  #cluster: Cluster | undefined;

  constructor(options: TypingServiceOptions) {
    super('t');
    this.#clock = options.clock;
    this.#schedule = options.schedule;
  }

  /**
   * Marks `userId` as typing in `roomId` for `timeoutMs` (clamped), or as stopped. The caller
   * has checked the user is joined. Remote users' typing (federation EDUs) comes in here too.
   */
  setTyping(roomId: string, userId: string, typing: boolean, timeoutMs = DEFAULT_TYPING_TIMEOUT_MS): void {
    this.#cluster?.attach(TYPING_CHANNEL, { r: roomId, u: userId, t: typing, ms: timeoutMs });
    this.#apply(roomId, userId, typing, timeoutMs, false);
  }

  /**
   * Typing lives in memory: with several processes on one database (DESIGN.md "Scale"), each
   * tells the others of the changes it takes, so every process's /sync shows them.
   */
  override share(cluster: Cluster): void {
    if (!cluster.shared || this.#cluster !== undefined) return;
    this.#cluster = cluster;
    cluster.onAttachment(TYPING_CHANNEL, (item) => {
      const change = item as { r?: unknown; u?: unknown; t?: unknown; ms?: unknown };
      if (typeof change.r !== 'string' || typeof change.u !== 'string' || typeof change.t !== 'boolean' || typeof change.ms !== 'number') return;
      this.#apply(change.r, change.u, change.t, change.ms, true);
    });
  }

  /** `elsewhere`: another process took the change (and told federation of it). */
  #apply(roomId: string, userId: string, typing: boolean, timeoutMs: number, elsewhere: boolean): void {
    const users = this.#typing.get(roomId);
    if (!typing) {
      if (users?.delete(userId) !== true) return;
      if (users.size === 0) this.#typing.delete(roomId);
      this.#changed([roomId], elsewhere, { roomId, userId, typing: false });
      return;
    }
    const expiresAt = this.#clock() + Math.min(Math.max(timeoutMs, 0), MAX_TYPING_TIMEOUT_MS);
    const wasTyping = users?.has(userId) === true;
    if (users === undefined) this.#typing.set(roomId, new Map([[userId, expiresAt]]));
    else users.set(userId, expiresAt);
    this.#armTimer();
    // Extending a running timeout changes nothing a client can see.
    if (!wasTyping) this.#changed([roomId], elsewhere, { roomId, userId, typing: true });
  }

  /** Users currently typing in a room, in a stable order. */
  typingUsers(roomId: string): string[] {
    const now = this.#clock();
    const users = this.#typing.get(roomId);
    if (users === undefined) return [];
    return [...users].filter(([, expiresAt]) => expiresAt > now).map(([userId]) => userId).sort();
  }

  /**
   * Rooms whose typing set changed after stream position `since`. A position from before a
   * restart (ahead of ours, since typing is not persisted) gets every room with typists.
   */
  roomsChangedSince(since: number): ReadonlySet<string> {
    if (since > this.currentPosition()) return new Set(this.#typing.keys());
    return new Set([...this.#changedAt].filter(([, position]) => position > since).map(([roomId]) => roomId));
  }

  /** Local and remote typing changes, for the federation sender (m.typing EDUs). */
  onChange(listener: (change: TypingChange) => void): () => void {
    this.#changeListeners.add(listener);
    return () => this.#changeListeners.delete(listener);
  }

  /** Drops the pending expiry timer (shutdown). */
  close(): void {
    this.#cancelTimer?.();
    this.#cancelTimer = undefined;
    this.#timerAt = undefined;
  }

  #changed(roomIds: readonly string[], elsewhere: boolean, ...changes: TypingChange[]): void {
    const position = this.currentPosition() + 1;
    for (const roomId of roomIds) this.#changedAt.set(roomId, position);
    this.#pruneChangeLog();
    this.advanceTo(position, { rooms: roomIds });
    if (elsewhere) return;
    for (const change of changes) for (const listener of [...this.#changeListeners]) listener(change);
  }

  /** One timer for the earliest expiry, re-armed as entries come and go. */
  #armTimer(): void {
    let earliest: number | undefined;
    for (const users of this.#typing.values()) {
      for (const expiresAt of users.values()) if (earliest === undefined || expiresAt < earliest) earliest = expiresAt;
    }
    if (earliest === this.#timerAt) return;
    this.#cancelTimer?.();
    this.#cancelTimer = undefined;
    this.#timerAt = earliest;
    if (earliest !== undefined) this.#cancelTimer = this.#schedule(() => this.#expire(), earliest - this.#clock());
  }

  #expire(): void {
    this.#cancelTimer = undefined;
    this.#timerAt = undefined;
    const now = this.#clock();
    const rooms: string[] = [];
    const changes: TypingChange[] = [];
    for (const [roomId, users] of this.#typing) {
      for (const [userId, expiresAt] of users) {
        if (expiresAt > now) continue;
        users.delete(userId);
        changes.push({ roomId, userId, typing: false });
        if (!rooms.includes(roomId)) rooms.push(roomId);
      }
      if (users.size === 0) this.#typing.delete(roomId);
    }
    if (rooms.length > 0) this.#changed(rooms, false, ...changes);
    this.#armTimer();
  }

  /** Rooms with nobody typing need no change entry once every reader is past it. */
  #pruneChangeLog(): void {
    if (this.#changedAt.size <= 10_000) return;
    // Keep the newest half: a reader further behind gets no typing delta for the dropped
    // rooms, and typing in them has long since expired.
    const entries = [...this.#changedAt].sort((a, b) => b[1] - a[1]);
    this.#changedAt.clear();
    for (const [roomId, position] of entries.slice(0, 5_000)) this.#changedAt.set(roomId, position);
  }
}
