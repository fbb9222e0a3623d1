// The one event pipeline (DESIGN.md "The event pipeline"): for a parsed, signature-checked
// event, checks 3–6 on receipt, the state before it, and persistence of the event, its
// edges, its state snapshot, current state, forward extremities, stream ordering and
// redactions, all inside the room's write transaction. Local events come here right after
// being built and signed; received ones after parsing and signature checks.

import { authTypesForEvent } from '../rooms/auth/authorize.ts';
import { powerLevelsFrom } from '../rooms/auth/power-levels.ts';
import { checkPduOnReceipt, type ReceiptDecision, type SignatureVerdict } from '../rooms/checks-on-receipt.ts';
import { stateKeyOf, type EventView, type StateMap } from '../rooms/event-view.ts';
import { roomIdFromCreateEvent } from '../rooms/event-id.ts';
import { serverNameOf } from '../rooms/identifiers.ts';
import { getField } from '../rooms/json.ts';
import type { ParsedPdu } from '../rooms/pdu/parse.ts';
import type { RoomHead } from '../storage/events-repository.ts';
import type { CurrentStateChange, EventTransaction, RoomStore, StoredEvent } from '../storage/index.ts';
import { EventNotAllowedError } from './errors.ts';
import { EventCache, loaded } from './event-cache.ts';
import type { MembershipChange, NewRoomEvent } from './output.ts';
import type { RoomEventCache } from './room-cache.ts';
import type { SignatureChecker } from './signatures.ts';
import { verifyThirdPartySignature } from './signatures.ts';
import {
  currentStateMap,
  diffState,
  readSnapshot,
  resolveStateSets,
  stateAfter,
  stateBeforeFromPrevs,
  type SnapshotCache,
  type StateBefore,
  type StateContext,
} from './state.ts';
import type { StreamPositions } from '../storage/cluster/stream-positions.ts';

export interface PipelineEnv {
  readonly store: RoomStore;
  readonly snapshots: SnapshotCache;
  readonly onStateResolved: ((seconds: number) => void) | undefined;
  readonly signatures: SignatureChecker;
  readonly tracker: StreamPositions;
  readonly now: number;
  /** Stream positions allocated in this transaction, settled by the caller after commit/rollback. */
  readonly allocated: number[];
  /** Committed events shared between writes; validated against the room's head before use. */
  readonly roomEvents: RoomEventCache;
  /** The operation's event caches, published to `roomEvents` by the caller after commit. */
  readonly caches: EventCache[];
  /** Set by the pipeline: whether current state changed or a redaction applied, and whose membership changed. */
  readonly touched: { state: boolean; readonly members: Set<string> };
}

export interface PipelineInput {
  readonly pdu: ParsedPdu;
  /** The text to store when the content hash is intact: as received, or as built. */
  readonly text: string;
  readonly signatures: SignatureVerdict;
  readonly origin: string;
  /** Local events are refused (thrown) unless every check passes; nothing is stored then. */
  readonly local: boolean;
  readonly txn?: EventTransaction;
  /** The room's head as the caller read it in this transaction (else read here). */
  readonly head?: RoomHead;
  /** The caller's cache for this operation (already in `env.caches`). */
  readonly cache?: EventCache;
  /**
   * The state before the event when its prev events give none (they are not held here):
   * what a resident server answered to /state_ids. Without it such an event is an outlier.
   */
  readonly stateBefore?: StateMap;
  /** Stored as an outlier whatever its prev events: state fetched for a gap's edge, not history. */
  readonly outlier?: boolean;
  /**
   * Backfilled history: placed at `streamOrdering` (below the room's timeline), never
   * changing the room's head or current state, nor announced. An outlier already stored
   * joins the timeline.
   */
  readonly historical?: { readonly streamOrdering: number };
}

export type EventStatus = 'accepted' | 'soft-failed' | 'rejected' | 'outlier';

export type PipelineOutcome =
  | { readonly kind: 'dropped'; readonly check: number; readonly reason: string }
  | { readonly kind: 'duplicate'; readonly eventId: string }
  | {
      readonly kind: 'stored';
      readonly eventId: string;
      readonly status: EventStatus;
      readonly streamOrdering: number | null;
      /** For rejected and soft-failed events: the failing check and rule. */
      readonly check?: number;
      readonly rule?: string;
      readonly reason?: string;
      readonly redactedForHash: boolean;
      /** What to announce after commit (accepted timeline events only). */
      readonly output: NewRoomEvent | undefined;
    };

/** The room ID of an event: its `room_id`, or for a v12 create event, the derived one. */
export function roomIdOf(pdu: ParsedPdu): string {
  if (pdu.view.roomId !== undefined) return pdu.view.roomId;
  return roomIdFromCreateEvent(pdu.json, pdu.rules);
}

/** v12: the create event's ID from the room ID (`!hash` → `$hash`). */
function createEventIdOf(roomId: string): string {
  return `$${roomId.slice(1)}`;
}

export async function runPipeline(env: PipelineEnv, input: PipelineInput): Promise<PipelineOutcome> {
  const { store } = env;
  const { pdu } = input;
  const rules = pdu.rules;
  const view = pdu.view;
  const roomId = roomIdOf(pdu);

  // A local event was just built on the room's head: its ID is new (were it not, storing
  // it fails on the primary key, as building the same event twice is a bug).
  const historical = input.historical;
  let outlierRow: StoredEvent | undefined;
  if (!input.local && (await store.events.existing([pdu.eventId])).size > 0) {
    const stored = historical === undefined ? undefined : await store.events.byId(pdu.eventId);
    if (stored === undefined || !stored.outlier || stored.rejectedReason !== null) return { kind: 'duplicate', eventId: pdu.eventId };
    outlierRow = stored;
  }
  const head = input.head ?? (await store.events.roomHead(roomId));
  let cache = input.cache;
  if (cache === undefined) {
    cache = new EventCache(store, env.roomEvents.validate(roomId, head.maxStreamOrdering));
    env.caches.push(cache);
  }
  const ctx: StateContext = { store, cache, snapshots: env.snapshots, onStateResolved: env.onStateResolved, rules, signatures: env.signatures };

  // Inputs of checks 4–6.
  const createId = rules.format.createInAuthEvents ? undefined : createEventIdOf(roomId);
  await cache.load([...view.authEvents, ...(createId === undefined ? [] : [createId])]);
  const authEvents = view.authEvents.map((id) => cache.view(id)).filter((v): v is EventView => v !== undefined);
  const createEvent = createId === undefined ? undefined : cache.view(createId);

  const stateBefore =
    input.outlier === true
      ? undefined
      : (await stateBeforeFromPrevs(ctx, view.prevEvents)) ??
    (input.stateBefore === undefined
      ? undefined
      : { state: input.stateBefore, plan: { kind: 'new' as const, parentId: null, changes: diffState(new Map(), input.stateBefore) } });
  const extremityIds = new Set(head.extremities.map((e) => e.eventId));
  const prevIds = new Set(view.prevEvents);
  // Current state = the resolved state across the forward extremities; when the event
  // follows exactly those, that is the state before it and need not be read again.
  let current: StateMap | undefined;
  if (stateBefore !== undefined) {
    // History is not soft-failed against today's state (it was accepted in its time), and
    // does not change it: the state before it stands in.
    current = sameSet(prevIds, extremityIds) || historical !== undefined ? stateBefore.state : await currentStateMap(store, roomId);
  }
  // Nor is the first event placed in a room whose state was not held here (no extremities).
  const softFailAgainst = extremityIds.size === 0 ? stateBefore?.state : current;

  const relevant = authTypesForEvent(rules, view).map(([t, k]) => stateKeyOf(t, k));
  relevant.push(stateKeyOf('m.room.create', ''));
  const idsToLoad: string[] = [];
  for (const key of relevant) {
    for (const map of [stateBefore?.state, current]) {
      const id = map?.get(key);
      if (id !== undefined) idsToLoad.push(id);
    }
  }
  await cache.load(idsToLoad);
  const lookup = (map: StateMap) => (type: string, stateKey: string) => {
    const id = map.get(stateKeyOf(type, stateKey));
    return id === undefined ? undefined : cache.view(id);
  };

  const decision: ReceiptDecision = checkPduOnReceipt({
    parsed: { ok: true, pdu },
    signatures: input.signatures,
    authEvents,
    createEvent,
    isRejected: (id) => cache.isRejected(id),
    stateBefore: stateBefore === undefined ? null : lookup(stateBefore.state),
    currentState: softFailAgainst === undefined ? null : lookup(softFailAgainst),
    policyServer: 'not-in-use',
    isSignedBy: env.signatures.isSignedBy(rules),
    verifyThirdPartySignature,
  });

  if (decision.decision === 'drop') return { kind: 'dropped', check: decision.check, reason: decision.reason };
  if (input.local && decision.decision !== 'accept') {
    throw new EventNotAllowedError(decision.rule ?? String(decision.check), decision.reason, decision.check);
  }

  const checked = decision.event;
  const status: EventStatus =
    decision.decision === 'reject'
      ? 'rejected'
      : decision.decision === 'soft-fail'
        ? 'soft-failed'
        : stateBefore === undefined
          ? 'outlier'
          : 'accepted';
  const outlier = stateBefore === undefined;

  // An outlier joins the timeline only when backfill reached it and it passes with its state.
  if (outlierRow !== undefined && (historical === undefined || status !== 'accepted')) return { kind: 'duplicate', eventId: pdu.eventId };

  // --- persistence -------------------------------------------------------------------------
  let snapshotId: number | null = null;
  if (stateBefore !== undefined) {
    const plan = stateBefore.plan;
    snapshotId =
      plan.kind === 'reuse'
        ? plan.snapshotId
        : await store.state.saveSnapshot({ roomId, parentId: plan.parentId, changes: plan.changes, createdTs: env.now });
    env.snapshots.set(snapshotId, stateBefore.state);
  }
  // An accepted event replaces the extremities it follows, and becomes one unless a stored
  // event already follows it.
  const advances = status === 'accepted' && stateBefore !== undefined && historical === undefined;
  const newRow = {
    eventId: checked.eventId,
    roomId,
    depth: view.depth,
    type: view.type,
    stateKey: view.stateKey ?? null,
    sender: view.sender,
    originServerTs: view.originServerTs,
    json: checked.redactedForHash ? JSON.stringify(checked.json) : input.text,
    roomVersion: rules.id,
    outlier,
    rejectedReason: decision.decision === 'reject' ? `check ${decision.check}, rule ${decision.rule}: ${decision.reason}` : null,
    softFailed: decision.decision === 'soft-fail',
    redacts: checked.view.redacts ?? null,
    stateBeforeSnapshotId: snapshotId,
    receivedTs: env.now,
  };
  if (outlierRow !== undefined) {
    // Its row is otherwise as stored.
    if (historical === undefined || snapshotId === null) return { kind: 'duplicate', eventId: pdu.eventId };
    await store.events.deOutlier(checked.eventId, historical.streamOrdering, snapshotId);
    // Replaces the outlier's copy in the shared cache when published (stateAt peeks at it).
    cache.put(loaded({ ...outlierRow, outlier: false, streamOrdering: historical.streamOrdering, stateBeforeSnapshotId: snapshotId }));
    return { kind: 'stored', eventId: checked.eventId, status, streamOrdering: historical.streamOrdering, redactedForHash: false, output: undefined };
  }
  const placed = historical !== undefined && !outlier;
  const persisted = await allocatingPosition(env, !outlier && !placed, () => store.events.persist({
    event: { ...newRow, streamOrdering: placed ? historical.streamOrdering : null, prevEventIds: view.prevEvents, authEventIds: view.authEvents },
    allocateStreamOrdering: !outlier && !placed,
    removeExtremities: advances ? [...extremityIds].filter((id) => prevIds.has(id)) : [],
    addAsExtremity: advances,
    ...(input.txn !== undefined && status === 'accepted' ? { transaction: { txn: input.txn, createdTs: env.now } } : {}),
  }));
  const { streamOrdering } = persisted;
  if (streamOrdering !== null && !placed) env.allocated.push(streamOrdering);
  const storedRow: StoredEvent = { ...newRow, streamOrdering, redactedBy: null };
  cache.put(loaded(storedRow, checked.json));

  if (view.type === 'm.room.create' && view.stateKey === '' && status !== 'rejected') {
    await store.rooms.insert({ roomId, roomVersion: rules.id, creator: view.sender, createdTs: env.now });
  }

  let redacted: string | undefined;
  if (advances) {
    const changes = await advanceRoom(ctx, roomId, checked.eventId, persisted.followed, prevIds, extremityIds, stateBefore, current);
    redacted = await applyRedactions(ctx, storedRow, checked.view, stateBefore.state, persisted.redactionsWaiting);
    if (changes.length > 0 || cache.redactedEvents.size > 0) env.touched.state = true;
    for (const change of changes) if (change.type === 'm.room.member') env.touched.members.add(change.stateKey);
  }

  const output: NewRoomEvent | undefined =
    status === 'accepted' && streamOrdering !== null && historical === undefined
      ? {
          roomId,
          eventId: checked.eventId,
          streamOrdering,
          type: view.type,
          stateKey: view.stateKey,
          sender: view.sender,
          origin: input.origin,
          ...membershipChangeOf(checked.view, stateBefore, cache),
          ...(redacted === undefined ? {} : { redacted }),
        }
      : undefined;

  return {
    kind: 'stored',
    eventId: checked.eventId,
    status,
    streamOrdering,
    ...(decision.decision === 'reject' || decision.decision === 'soft-fail'
      ? { check: decision.check, reason: decision.reason, ...(decision.rule === undefined ? {} : { rule: decision.rule }) }
      : {}),
    redactedForHash: checked.redactedForHash,
    output,
  };
}

/**
 * Runs a write that allocates a room-event stream position (`allocate`), telling the
 * stream's tracker, so no reader passes the position before it commits (the caller settles
 * it after the transaction).
 */
export async function allocatingPosition<T extends { readonly streamOrdering: number | null }>(
  env: PipelineEnv,
  allocate: boolean,
  write: () => Promise<T>,
): Promise<T> {
  if (!allocate) return write();
  let result: T | undefined;
  await env.tracker.allocating(async () => {
    result = await write();
    return result.streamOrdering;
  });
  if (result === undefined) throw new Error('unreachable: the write returned nothing');
  return result;
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}

/**
 * Current state after an accepted event (its forward extremity changes were stored with
 * it): the resolution of the states after the new extremities.
 */
async function advanceRoom(
  ctx: StateContext,
  roomId: string,
  eventId: string,
  followed: boolean,
  prevIds: ReadonlySet<string>,
  oldExtremities: ReadonlySet<string>,
  stateBefore: StateBefore,
  current: StateMap | undefined,
): Promise<readonly CurrentStateChange[]> {
  const { store, cache } = ctx;
  const next = new Set([...oldExtremities].filter((id) => !prevIds.has(id)));
  if (!followed) next.add(eventId);
  if (sameSet(next, oldExtremities)) return [];

  const after = await stateAfter(ctx, eventId);
  if (after === undefined) throw new Error(`state after ${eventId} is unknown right after storing it`);
  let newCurrent: StateMap;
  if (next.size === 1 && next.has(eventId)) {
    newCurrent = after.state;
  } else {
    const sets: StateMap[] = [];
    for (const id of next) {
      const state = id === eventId ? after : await stateAfter(ctx, id);
      if (state !== undefined) sets.push(state.state);
    }
    newCurrent = await resolveStateSets(ctx, sets);
  }
  // `current` is the state before the event when it followed exactly the old extremities.
  const previous = current === stateBefore.state ? stateBefore.state : await currentStateMap(store, roomId);
  const changes = diffState(previous, newCurrent);
  await cache.load(changes.flatMap((c) => (c.eventId === null ? [] : [c.eventId])));
  const withMembership: CurrentStateChange[] = changes.map((change) => {
    const content = change.eventId === null ? undefined : cache.view(change.eventId)?.content;
    const membership = change.type === 'm.room.member' && content !== undefined ? getField(content, 'membership') : undefined;
    return { ...change, membership: typeof membership === 'string' ? membership : null };
  });
  await store.state.applyCurrentStateChanges(roomId, withMembership);
  return withMembership;
}

/**
 * "Handling redactions" (rooms/fragments/v3-handling-redactions.md): a redaction applies
 * once both events are known, when its sender has the redact level or shares the original
 * sender's server. In v1–v2 the auth rules already decided. Returns the event this
 * redaction redacted, if it did.
 */
async function applyRedactions(
  ctx: StateContext,
  stored: StoredEvent,
  view: EventView,
  stateBefore: StateMap,
  redactionsWaiting: boolean,
): Promise<string | undefined> {
  const { store, cache } = ctx;
  let redacted: string | undefined;
  if (view.type === 'm.room.redaction' && view.redacts !== undefined) {
    await cache.load([view.redacts]);
    const target = cache.get(view.redacts);
    if (target !== undefined && (await mayRedact(ctx, view, stateBefore, target.stored))) {
      if (await store.events.markRedacted(target.stored.eventId, stored.eventId)) {
        redacted = target.stored.eventId;
        cache.redacted(redacted);
      }
    }
  }
  // Redactions that arrived before this event.
  if (!redactionsWaiting) return redacted;
  for (const redaction of await store.events.redactionsOf(stored.eventId)) {
    if (redaction.eventId === stored.eventId || redaction.stateBeforeSnapshotId === null) continue;
    const redactionView = loaded(redaction).view;
    const state = await readSnapshot(ctx, redaction.stateBeforeSnapshotId);
    if (await mayRedact(ctx, redactionView, state, stored)) {
      await store.events.markRedacted(stored.eventId, redaction.eventId);
      cache.redacted(stored.eventId);
      break;
    }
  }
  return redacted;
}

async function mayRedact(ctx: StateContext, redaction: EventView, stateBefore: StateMap, target: StoredEvent): Promise<boolean> {
  if (target.roomId !== redaction.roomId) return false;
  if (ctx.rules.auth.specialCaseRedaction) return true;
  if (serverNameOf(redaction.sender) === serverNameOf(target.sender)) return true;
  const plId = stateBefore.get(stateKeyOf('m.room.power_levels', ''));
  const createId = stateBefore.get(stateKeyOf('m.room.create', ''));
  await ctx.cache.load([plId, createId].filter((id): id is string => id !== undefined));
  const levels = powerLevelsFrom(
    ctx.rules,
    plId === undefined ? undefined : ctx.cache.view(plId),
    createId === undefined ? undefined : ctx.cache.view(createId),
  );
  return levels.userLevel(redaction.sender) >= levels.redact;
}

function membershipChangeOf(
  view: EventView,
  stateBefore: StateBefore | undefined,
  cache: EventCache,
): { membershipChange?: MembershipChange } {
  if (view.type !== 'm.room.member' || view.stateKey === undefined) return {};
  const membership = getField(view.content, 'membership');
  if (typeof membership !== 'string') return {};
  const previousId = stateBefore?.state.get(stateKeyOf('m.room.member', view.stateKey));
  const previousContent = previousId === undefined ? undefined : cache.view(previousId)?.content;
  const previous = previousContent === undefined ? undefined : getField(previousContent, 'membership');
  return {
    membershipChange: { target: view.stateKey, membership, previous: typeof previous === 'string' ? previous : undefined },
  };
}

