// Wakes /sync long-polls (client-server § "Syncing": the server "will then hold open the
// HTTP connection ... returning early if an event occurs"). Push, not poll: the roomserver's
// output and every StreamSource call in here synchronously, and only the waiters of the
// users concerned are woken (a room event: users whose joined rooms include the room, and
// the target of a membership change; a source advance: its scope).
//
// Lost-wakeup safety: a waiter registers with the position its (empty) response was
// computed up to. Recent advances are kept in a bounded log, and registration first checks
// the log for anything after that position that concerns the user, so an event landing
// between "computed" and "waiting" still wakes it. Room events are announced only once the
// roomserver's safe position covers them: an event at 11 committed while 10 is in flight
// is held back until 10 lands, so a woken sync can always read what woke it.

import type { NewRoomEvent } from '../../roomserver/index.ts';
import type { AdvanceScope, StreamSource } from './stream-source.ts';
import { streamPosition, type SyncPosition } from './sync-token.ts';

export interface NotifierRoomserver {
  onNewEvent(listener: (event: NewRoomEvent) => void): () => void;
  latestStreamPosition(): Promise<number>;
  /** The safe position advanced without a new event here (another process's promise moved). */
  onStreamAdvance?(listener: (position: number) => void): () => void;
}

export type WaitOutcome = 'woken' | 'timeout' | 'closed' | 'aborted';

export interface WaitRequest {
  readonly userId: string;
  /**
   * The rooms the user is joined to (events there wake the user). Not to be modified once
   * handed over: waiters given the same list share one copy of it.
   */
  readonly rooms: readonly string[];
  /** What the client has already been given. */
  readonly from: SyncPosition;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

interface Waiter {
  readonly userId: string;
  readonly group: RoomGroup;
  readonly from: SyncPosition;
  settle(outcome: WaitOutcome): void;
}

/**
 * The waiters whose requests handed over the same rooms list (identical requests share one
 * build, so one list): their rooms are copied and indexed once, not once per waiter, which
 * for a user in many rooms with several connections is most of what a waiter costs.
 */
interface RoomGroup {
  readonly rooms: ReadonlySet<string>;
  readonly waiters: Set<Waiter>;
}

interface RoomEntry {
  readonly position: number;
  readonly roomId: string;
  readonly target: string | undefined;
}

interface SourceEntry {
  readonly position: number;
  readonly scope: AdvanceScope | undefined;
}

/** A log that forgets its oldest entries, remembering up to which position it forgot. */
class BoundedLog<T extends { readonly position: number }> {
  readonly #capacity: number;
  #entries: T[] = [];
  /** Everything at or below this position may have been forgotten. */
  forgottenUpTo = -1;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  push(entry: T): void {
    this.#entries.push(entry);
    if (this.#entries.length > this.#capacity * 2) {
      const dropped = this.#entries.splice(0, this.#entries.length - this.#capacity);
      for (const d of dropped) this.forgottenUpTo = Math.max(this.forgottenUpTo, d.position);
    }
  }

  after(position: number): T[] {
    return this.#entries.filter((e) => e.position > position);
  }
}

export interface NotifierOptions {
  /** Entries kept per stream for registration checks. Default 2048. */
  readonly logCapacity?: number;
}

export class Notifier {
  readonly #roomserver: NotifierRoomserver;
  readonly #byUser = new Map<string, Set<Waiter>>();
  readonly #byRoom = new Map<string, Set<RoomGroup>>();
  /** Groups by the rooms list their waiters were registered with. */
  readonly #groups = new WeakMap<readonly string[], RoomGroup>();
  readonly #all = new Set<Waiter>();
  readonly #unsubscribe: Array<() => void> = [];
  readonly #roomLog: BoundedLog<RoomEntry>;
  readonly #sourceLogs = new Map<string, BoundedLog<SourceEntry>>();
  /** Room events above the announced position, waiting for the safe position to cover them. */
  #pending: RoomEntry[] = [];
  #announced = -1;
  #closed = false;

  constructor(roomserver: NotifierRoomserver, sources: readonly StreamSource[], options: NotifierOptions = {}) {
    const capacity = options.logCapacity ?? 2048;
    this.#roomserver = roomserver;
    this.#roomLog = new BoundedLog(capacity);
    this.#unsubscribe.push(roomserver.onNewEvent((event) => this.#onRoomEvent(event)));
    const advanced = roomserver.onStreamAdvance?.((safe) => this.#announceUpTo(safe));
    if (advanced !== undefined) this.#unsubscribe.push(advanced);
    for (const source of sources) {
      const log = new BoundedLog<SourceEntry>(capacity);
      this.#sourceLogs.set(source.streamKey, log);
      this.#unsubscribe.push(
        source.onAdvance((position, scope) => {
          const entry = { position, scope };
          log.push(entry);
          this.#wakeForSource(source.streamKey, entry);
        }),
      );
    }
    void roomserver.latestStreamPosition().then((position) => {
      this.#announced = Math.max(this.#announced, position);
    });
  }

  /** How many long-polls are waiting (for metrics and tests). */
  get waiting(): number {
    return this.#all.size;
  }

  /** Waits until something after `from` concerns the user, the timeout, close() or the signal. */
  wait(request: WaitRequest): Promise<WaitOutcome> {
    if (this.#closed) return Promise.resolve('closed');
    if (request.signal?.aborted === true) return Promise.resolve('aborted');
    const group = this.#groups.get(request.rooms) ?? { rooms: new Set(request.rooms), waiters: new Set<Waiter>() };
    if (this.#missedSince(request.userId, group.rooms, request.from)) return Promise.resolve('woken');
    if (request.timeoutMs <= 0) return Promise.resolve('timeout');
    this.#groups.set(request.rooms, group);
    return new Promise<WaitOutcome>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const onAbort = () => waiter.settle('aborted');
      const waiter: Waiter = {
        userId: request.userId,
        group,
        from: request.from,
        settle: (outcome) => {
          if (!this.#all.has(waiter)) return;
          this.#remove(waiter);
          if (timer !== undefined) clearTimeout(timer);
          request.signal?.removeEventListener('abort', onAbort);
          resolve(outcome);
        },
      };
      this.#add(waiter);
      timer = setTimeout(() => waiter.settle('timeout'), request.timeoutMs);
      request.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Wakes every waiter (so an HTTP drain finishes quickly) and refuses new waits. */
  close(): void {
    this.#closed = true;
    for (const unsubscribe of this.#unsubscribe) unsubscribe();
    for (const waiter of [...this.#all]) waiter.settle('closed');
  }

  #onRoomEvent(event: NewRoomEvent): void {
    this.#pending.push({ position: event.streamOrdering, roomId: event.roomId, target: event.membershipChange?.target });
    void this.#roomserver.latestStreamPosition().then((safe) => this.#announceUpTo(safe));
  }

  #announceUpTo(safe: number): void {
    if (safe <= this.#announced && this.#pending.every((e) => e.position > safe)) return;
    this.#announced = Math.max(this.#announced, safe);
    const ready = this.#pending.filter((e) => e.position <= safe);
    if (ready.length === 0) return;
    this.#pending = this.#pending.filter((e) => e.position > safe);
    for (const entry of ready) {
      this.#roomLog.push(entry);
      for (const waiter of this.#waitersForRoomEvent(entry)) {
        if (entry.position > waiter.from.events) waiter.settle('woken');
      }
    }
  }

  #waitersForRoomEvent(entry: RoomEntry): Waiter[] {
    const found = this.#waitersInRoom(entry.roomId);
    if (entry.target !== undefined) found.push(...(this.#byUser.get(entry.target) ?? []));
    return found;
  }

  #wakeForSource(key: string, entry: SourceEntry): void {
    const candidates =
      entry.scope === undefined
        ? [...this.#all]
        : [
            ...(entry.scope.users ?? []).flatMap((user) => [...(this.#byUser.get(user) ?? [])]),
            ...(entry.scope.rooms ?? []).flatMap((room) => this.#waitersInRoom(room)),
          ];
    for (const waiter of candidates) {
      if (entry.position > streamPosition(waiter.from, key)) waiter.settle('woken');
    }
  }

  /** Whether something after `from` that concerns the user was announced before it registered. */
  #missedSince(userId: string, rooms: ReadonlySet<string>, from: SyncPosition): boolean {
    if (from.events < this.#roomLog.forgottenUpTo) return true;
    for (const entry of this.#roomLog.after(from.events)) {
      if (rooms.has(entry.roomId) || entry.target === userId) return true;
    }
    for (const [key, log] of this.#sourceLogs) {
      const seen = streamPosition(from, key);
      if (seen < log.forgottenUpTo) return true;
      for (const entry of log.after(seen)) {
        if (scopeConcerns(entry.scope, userId, rooms)) return true;
      }
    }
    return false;
  }

  #waitersInRoom(roomId: string): Waiter[] {
    const found: Waiter[] = [];
    for (const group of this.#byRoom.get(roomId) ?? []) found.push(...group.waiters);
    return found;
  }

  #add(waiter: Waiter): void {
    this.#all.add(waiter);
    addTo(this.#byUser, waiter.userId, waiter);
    const { group } = waiter;
    if (group.waiters.size === 0) for (const room of group.rooms) addTo(this.#byRoom, room, group);
    group.waiters.add(waiter);
  }

  #remove(waiter: Waiter): void {
    this.#all.delete(waiter);
    removeFrom(this.#byUser, waiter.userId, waiter);
    const { group } = waiter;
    group.waiters.delete(waiter);
    if (group.waiters.size === 0) for (const room of group.rooms) removeFrom(this.#byRoom, room, group);
  }
}

function scopeConcerns(scope: AdvanceScope | undefined, userId: string, rooms: ReadonlySet<string>): boolean {
  if (scope === undefined) return true;
  if (scope.users?.includes(userId) === true) return true;
  return scope.rooms?.some((room) => rooms.has(room)) === true;
}

function addTo<T>(map: Map<string, Set<T>>, key: string, value: T): void {
  let set = map.get(key);
  if (set === undefined) map.set(key, (set = new Set()));
  set.add(value);
}

function removeFrom<T>(map: Map<string, Set<T>>, key: string, value: T): void {
  const set = map.get(key);
  if (set === undefined) return;
  set.delete(value);
  if (set.size === 0) map.delete(key);
}
