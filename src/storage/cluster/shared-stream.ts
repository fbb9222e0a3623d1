// One of /sync's serial streams (receipts, account data, presence, to-device, device
// lists) when several processes write it: this process's writes run one at a time (each
// allocates its position inside its transaction), the others' are heard of over the cluster
// bus, and readers read up to the stream's safe position (stream-positions.ts). Who an
// advance concerns (its scope: users, rooms) travels with it, so a process wakes only the
// long-polls concerned by another's write.

import type { Cluster } from './cluster.ts';
import type { StreamPositions } from './stream-positions.ts';

export interface AdvanceScope {
  readonly users?: readonly string[];
  readonly rooms?: readonly string[];
}

export type SharedStreamListener = (position: number, scope?: AdvanceScope) => void;

/** Scopes longer than this are not sent: the others wake every long-poll instead. */
const MAX_SCOPE_ENTRIES = 50;

interface PendingScope {
  readonly position: number;
  /** undefined: anyone may care. */
  readonly scope: AdvanceScope | undefined;
}

export class SharedStream {
  readonly #cluster: Cluster;
  readonly #positions: StreamPositions;
  readonly #channel: string;
  readonly #listeners = new Set<SharedStreamListener>();
  /** Advances committed (here or elsewhere) that readers cannot see yet. */
  #pending: PendingScope[] = [];

  constructor(cluster: Cluster, key: string, initial: number) {
    this.#cluster = cluster;
    this.#positions = cluster.stream(key, initial);
    this.#channel = `adv:${key}`;
    cluster.onAttachment(this.#channel, (item) => {
      const advance = item as { p?: unknown; s?: AdvanceScope | null };
      if (typeof advance.p !== 'number') return;
      this.#pending.push({ position: advance.p, scope: advance.s ?? undefined });
    });
    this.#positions.onAdvance((safe) => this.#wake(safe));
  }

  currentPosition(): number {
    return this.#positions.safePosition();
  }

  onAdvance(listener: SharedStreamListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Marks a write under way (its position unknown until it commits); call the result when it ended. */
  reserve(): () => void {
    let release: () => void = () => undefined;
    const done = new Promise<null>((resolve) => (release = () => resolve(null)));
    void this.#positions.allocating(() => done);
    return release;
  }

  /** The stream's start as read from the database (nothing to wake anyone for). */
  initialise(position: number): void {
    this.#positions.committed(position);
  }

  /** A write of this process committed at `position`; `scope` undefined: anyone may care. */
  committed(position: number, scope?: AdvanceScope): void {
    const shared = scope === undefined ? null : trim(scope);
    this.#pending.push({ position, scope: shared ?? undefined });
    this.#cluster.attach(this.#channel, { p: position, s: shared });
    this.#positions.committed(position);
  }

  #wake(safe: number): void {
    const ready = this.#pending.filter((p) => p.position <= safe);
    if (ready.length === 0) return;
    this.#pending = this.#pending.filter((p) => p.position > safe);
    const users = new Set<string>();
    const rooms = new Set<string>();
    let everyone = false;
    for (const { scope } of ready) {
      if (scope === undefined) everyone = true;
      else {
        for (const u of scope.users ?? []) users.add(u);
        for (const r of scope.rooms ?? []) rooms.add(r);
      }
    }
    const scope = everyone ? undefined : { users: [...users], rooms: [...rooms] };
    for (const listener of [...this.#listeners]) listener(safe, scope);
  }
}

function trim(scope: AdvanceScope): AdvanceScope | null {
  const size = (scope.users?.length ?? 0) + (scope.rooms?.length ?? 0);
  return size > MAX_SCOPE_ENTRIES ? null : scope;
}
