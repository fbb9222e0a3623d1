// Room state at points of the DAG (content/server-server-api.md "Room State Resolution"):
// the state after an event is the state before it plus the event itself when it is an
// accepted state event; the state before an event is the state after its prev event, or
// where prev events fork, the resolution of the states after each of them, with each
// state's full auth chain as the algorithm's input.

import { splitStateKey, stateKeyOf, type StateKey, type StateMap } from '../rooms/event-view.ts';
import type { RoomVersionRules } from '../rooms/room-versions.ts';
import { resolveState } from '../rooms/state-res/resolve.ts';
import type { RoomStore, StateChange } from '../storage/index.ts';
import type { EventCache } from './event-cache.ts';
import type { SignatureChecker } from './signatures.ts';
import { verifyThirdPartySignature } from './signatures.ts';

/**
 * Snapshots never change once written, so their maps are shared between operations. Bounded
 * by entries as well as maps: in a room of 10,000 members each map holds 10,000 entries
 * (some 2 MB), and 512 of them held 1.2 GB after the room was built.
 */
export class SnapshotCache {
  readonly #maps = new Map<number, StateMap>();
  readonly #capacity: number;
  readonly #maxEntries: number;
  #entries = 0;

  constructor(capacity = 512, maxEntries = 200_000) {
    this.#capacity = capacity;
    this.#maxEntries = maxEntries;
  }

  get(id: number): StateMap | undefined {
    const map = this.#maps.get(id);
    if (map !== undefined) {
      // Most recently used last.
      this.#maps.delete(id);
      this.#maps.set(id, map);
    }
    return map;
  }

  set(id: number, map: StateMap): void {
    const previous = this.#maps.get(id);
    if (previous !== undefined) {
      this.#maps.delete(id);
      this.#entries -= previous.size;
    }
    this.#maps.set(id, map);
    this.#entries += map.size;
    // The newest map stays even when it alone is over the bound: it is the one in use.
    while (this.#maps.size > 1 && (this.#maps.size > this.#capacity || this.#entries > this.#maxEntries)) {
      const oldest = this.#maps.keys().next();
      if (oldest.done === true) break;
      this.#entries -= this.#maps.get(oldest.value)?.size ?? 0;
      this.#maps.delete(oldest.value);
    }
  }

  /** How many maps and state entries are held (tests). */
  get size(): { readonly maps: number; readonly entries: number } {
    return { maps: this.#maps.size, entries: this.#entries };
  }
}

export interface StateContext {
  readonly store: RoomStore;
  readonly cache: EventCache;
  readonly snapshots: SnapshotCache;
  readonly rules: RoomVersionRules;
  readonly signatures: SignatureChecker;
  /** Told how long each state resolution took (for metrics). */
  readonly onStateResolved?: ((seconds: number) => void) | undefined;
}

/** How the state before an event is stored: an existing snapshot, or a new one. */
export type SnapshotPlan =
  | { readonly kind: 'reuse'; readonly snapshotId: number }
  | { readonly kind: 'new'; readonly parentId: number | null; readonly changes: readonly StateChange[] };

export interface StateBefore {
  readonly state: StateMap;
  readonly plan: SnapshotPlan;
}

export async function readSnapshot(ctx: StateContext, id: number): Promise<StateMap> {
  const cached = ctx.snapshots.get(id);
  if (cached !== undefined) return cached;
  const map = new Map<StateKey, string>();
  for (const entry of await ctx.store.state.readSnapshot(id)) map.set(stateKeyOf(entry.type, entry.stateKey), entry.eventId);
  ctx.snapshots.set(id, map);
  return map;
}

interface StateAfter {
  readonly state: StateMap;
  readonly beforeSnapshotId: number;
  /** Whether the event itself is in `state` (an accepted state event). */
  readonly addsItself: boolean;
}

/** The state after a stored timeline event; undefined for unknown events and outliers. */
export async function stateAfter(ctx: StateContext, eventId: string): Promise<StateAfter | undefined> {
  await ctx.cache.load([eventId]);
  const event = ctx.cache.get(eventId);
  const snapshotId = event?.stored.stateBeforeSnapshotId ?? null;
  if (event === undefined || snapshotId === null) return undefined;
  const before = await readSnapshot(ctx, snapshotId);
  const { stored } = event;
  if (stored.stateKey === null || stored.rejectedReason !== null) {
    return { state: before, beforeSnapshotId: snapshotId, addsItself: false };
  }
  const after = new Map(before);
  after.set(stateKeyOf(stored.type, stored.stateKey), stored.eventId);
  return { state: after, beforeSnapshotId: snapshotId, addsItself: true };
}

/**
 * The state before an event with `prevEventIds`, or undefined when none of them has a known
 * state (the event can then only be an outlier). Unknown prev events are left out.
 */
export async function stateBeforeFromPrevs(
  ctx: StateContext,
  prevEventIds: readonly string[],
): Promise<StateBefore | undefined> {
  if (prevEventIds.length === 0) {
    return { state: new Map(), plan: { kind: 'new', parentId: null, changes: [] } };
  }
  await ctx.cache.load(prevEventIds);
  const afters: StateAfter[] = [];
  for (const prevId of new Set(prevEventIds)) {
    const after = await stateAfter(ctx, prevId);
    if (after !== undefined) afters.push(after);
  }
  const first = afters[0];
  if (first === undefined) return undefined;
  if (afters.length === 1) {
    if (!first.addsItself) return { state: first.state, plan: { kind: 'reuse', snapshotId: first.beforeSnapshotId } };
    const base = await readSnapshot(ctx, first.beforeSnapshotId);
    return { state: first.state, plan: { kind: 'new', parentId: first.beforeSnapshotId, changes: diffState(base, first.state) } };
  }
  const resolved = await resolveStateSets(
    ctx,
    afters.map((a) => a.state),
  );
  const base = await readSnapshot(ctx, first.beforeSnapshotId);
  return { state: resolved, plan: { kind: 'new', parentId: first.beforeSnapshotId, changes: diffState(base, resolved) } };
}

/** State resolution over `stateSets`, with their auth chains loaded from storage. */
export async function resolveStateSets(ctx: StateContext, stateSets: readonly StateMap[]): Promise<Map<StateKey, string>> {
  const distinct = dedupe(stateSets);
  if (distinct.length === 1) return new Map(distinct[0]);
  const authChains: Set<string>[] = [];
  for (const set of distinct) {
    const ids = [...set.values()];
    authChains.push(new Set([...ids, ...(await ctx.store.events.authChain(ids))]));
  }
  const everything = new Set<string>();
  for (const chain of authChains) for (const id of chain) everything.add(id);
  await ctx.cache.load(everything);
  const started = performance.now();
  const resolved = await resolveState({
    rules: ctx.rules,
    stateSets: distinct,
    authChains,
    loadEvent: (id) => ctx.cache.view(id),
    isRejected: (id) => ctx.cache.isRejected(id),
    isSignedBy: ctx.signatures.isSignedBy(ctx.rules),
    verifyThirdPartySignature,
    yieldToEventLoop: () => new Promise((resolve) => setImmediate(resolve)),
  });
  ctx.onStateResolved?.((performance.now() - started) / 1000);
  return resolved;
}

function dedupe(stateSets: readonly StateMap[]): StateMap[] {
  const result: StateMap[] = [];
  for (const set of stateSets) {
    if (!result.some((other) => sameState(other, set))) result.push(set);
  }
  return result;
}

function sameState(a: StateMap, b: StateMap): boolean {
  if (a.size !== b.size) return false;
  for (const [key, id] of a) if (b.get(key) !== id) return false;
  return true;
}

/** The changes that turn `from` into `to`. */
export function diffState(from: StateMap, to: StateMap): StateChange[] {
  const changes: StateChange[] = [];
  for (const [key, eventId] of to) {
    if (from.get(key) !== eventId) {
      const [type, stateKey] = splitStateKey(key);
      changes.push({ type, stateKey, eventId });
    }
  }
  for (const key of from.keys()) {
    if (!to.has(key)) {
      const [type, stateKey] = splitStateKey(key);
      changes.push({ type, stateKey, eventId: null });
    }
  }
  return changes;
}

/** The current state of a room as a map. */
export async function currentStateMap(store: RoomStore, roomId: string): Promise<Map<StateKey, string>> {
  const map = new Map<StateKey, string>();
  for (const entry of await store.state.currentState(roomId)) map.set(stateKeyOf(entry.type, entry.stateKey), entry.eventId);
  return map;
}
