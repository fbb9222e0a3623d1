// Seeding a room this server joins over federation (server-server § "Joining Rooms": the
// joining server "SHOULD verify the state and auth chain" of the send_join response, then
// "the event is persisted" with that state). The response's events have prev events we do
// not have, so the pipeline cannot place them: they are checked here instead — signatures
// (check 2) before the write transaction, since keys may have to be fetched, then hashes
// and the auth rules against their own auth events (checks 3–4) — and stored as outliers.
// The join itself is checked against the returned state (check 5) and becomes the room's
// first timeline event here, with that state as the state before it, our only forward
// extremity, and the state after it as the current state.

import { checkPduOnReceipt, type SignatureVerdict } from '../rooms/checks-on-receipt.ts';
import { stateKeyOf, type EventView, type StateMap } from '../rooms/event-view.ts';
import { getField, isJsonObject, type JsonObject, type JsonValue } from '../rooms/json.ts';
import { parsePdu, type ParsedPdu } from '../rooms/pdu/parse.ts';
import type { CurrentStateChange, NewEvent, StoredEvent } from '../storage/index.ts';
import { RoomserverError } from './errors.ts';
import { EventCache, loaded } from './event-cache.ts';
import type { NewRoomEvent } from './output.ts';
import { roomIdOf, type PipelineEnv } from './pipeline.ts';
import type { SignatureChecker } from './signatures.ts';
import { verifyThirdPartySignature } from './signatures.ts';
import { currentStateMap, diffState } from './state.ts';

export interface RemoteJoinInput {
  readonly roomId: string;
  readonly roomVersion: string;
  /** The resident server that answered send_join. */
  readonly origin: string;
  /** Our join as the resident accepted it (with its signature too, for a restricted room). */
  readonly joinEvent: JsonObject;
  /** `state` of the send_join response: the room state before the join. */
  readonly state: readonly JsonValue[];
  /** `auth_chain` of the send_join response. */
  readonly authChain: readonly JsonValue[];
}

/** The send_join response cannot seed the room (bad join, missing create event, join not allowed). */
export class RemoteJoinError extends RoomserverError {
  override name = 'RemoteJoinError';
}

interface CheckedInput {
  readonly pdu: ParsedPdu;
  readonly text: string;
  readonly verdict: SignatureVerdict;
}

export interface PreparedRemoteJoin {
  readonly input: RemoteJoinInput;
  readonly join: CheckedInput;
  /** State and auth chain events by ID, signatures checked. */
  readonly events: ReadonlyMap<string, CheckedInput>;
  /** IDs of the response's `state` events, in the order given. */
  readonly stateIds: readonly string[];
}

/** Parses every event of the response and checks its signatures (outside any transaction: keys may be fetched). */
export async function prepareRemoteJoin(input: RemoteJoinInput, signatures: SignatureChecker): Promise<PreparedRemoteJoin> {
  const join = parsePdu({ raw: input.joinEvent, roomVersion: input.roomVersion });
  if (!join.ok) throw new RemoteJoinError(`join event is invalid: ${join.error.message}`);
  if (roomIdOf(join.pdu) !== input.roomId) throw new RemoteJoinError('join event is for another room');
  const joinVerdict = await signatures.verdict(join.pdu.json, join.pdu.rules);
  if (!joinVerdict.valid) throw new RemoteJoinError(`join event signatures: ${joinVerdict.reason}`);

  const events = new Map<string, CheckedInput>();
  const stateIds: string[] = [];
  const add = async (raw: JsonValue, inState: boolean): Promise<void> => {
    if (!isJsonObject(raw)) return;
    const parsed = parsePdu({ raw, roomVersion: input.roomVersion });
    // Check 1: an event that does not parse is dropped; if the state needed it, the join check fails below.
    if (!parsed.ok) return;
    let roomId: string;
    try {
      roomId = roomIdOf(parsed.pdu);
    } catch {
      return;
    }
    if (roomId !== input.roomId) return;
    if (inState) stateIds.push(parsed.pdu.eventId);
    if (events.has(parsed.pdu.eventId)) return;
    const verdict = await signatures.verdict(parsed.pdu.json, parsed.pdu.rules);
    // Check 2: dropped, as if never received.
    if (!verdict.valid) return;
    events.set(parsed.pdu.eventId, { pdu: parsed.pdu, text: JSON.stringify(raw), verdict });
  };
  for (const raw of input.authChain) await add(raw, false);
  for (const raw of input.state) await add(raw, true);
  return { input, join: { pdu: join.pdu, text: JSON.stringify(input.joinEvent), verdict: joinVerdict }, events, stateIds };
}

/** Inside the room's write transaction: stores the response's events as outliers, then the join on top of its state. */
export async function seedRemoteJoin(
  env: PipelineEnv,
  prepared: PreparedRemoteJoin,
  isSignedBy: (event: EventView, serverName: string) => boolean,
): Promise<{ value: { eventId: string; streamOrdering: number }; outputs: NewRoomEvent[] }> {
  const { store } = env;
  const { input } = prepared;
  const rules = prepared.join.pdu.rules;
  const cache = new EventCache(store);
  const roomId = input.roomId;

  // The create event first: v12 rules read it though no auth_events list it.
  const createInput = [...prepared.events.values()].find((e) => e.pdu.view.type === 'm.room.create' && e.pdu.view.stateKey === '');
  if (createInput === undefined) throw new RemoteJoinError('the response has no m.room.create event');

  // Outliers in auth order: an event is checked once its auth events are decided (held in
  // the cache); all are stored together afterwards.
  const outliers: NewEvent[] = [];
  const pending = new Map(prepared.events);
  await cache.load([...pending.keys()]);
  for (const id of pending.keys()) if (cache.get(id) !== undefined) pending.delete(id);
  let progress = true;
  while (pending.size > 0 && progress) {
    progress = false;
    const ready = [...pending.values()]
      .filter((e) => e.pdu.view.authEvents.every((a) => cache.get(a) !== undefined || !prepared.events.has(a)))
      .sort((a, b) => a.pdu.view.depth - b.pdu.view.depth);
    for (const event of ready) {
      pending.delete(event.pdu.eventId);
      progress = true;
      const outlier = await checkOutlier(env, cache, event, roomId, createInput.pdu.eventId, isSignedBy);
      if (outlier !== undefined) outliers.push(outlier);
    }
  }
  // What remains has an auth cycle: no valid room produces one.
  if (pending.size > 0) throw new RemoteJoinError(`${pending.size} events of the response have cyclic auth events`);
  await store.events.insertMany(outliers);

  const createStored = cache.get(createInput.pdu.eventId);
  if (createStored === undefined || createStored.stored.rejectedReason !== null) {
    throw new RemoteJoinError('the room\u2019s create event was rejected');
  }
  await store.rooms.insert({ roomId, roomVersion: rules.id, creator: createStored.view.sender, createdTs: env.now });

  // The state before the join: the response's state events that passed their checks.
  const stateBefore = new Map<string, string>();
  for (const id of prepared.stateIds) {
    const event = cache.get(id);
    if (event === undefined || event.stored.rejectedReason !== null || event.stored.stateKey === null) continue;
    stateBefore.set(stateKeyOf(event.stored.type, event.stored.stateKey), id);
  }
  if (!stateBefore.has(stateKeyOf('m.room.create', ''))) throw new RemoteJoinError('the returned state has no create event');

  const join = prepared.join;
  const eventId = join.pdu.eventId;
  if ((await store.events.existing([eventId])).size > 0) {
    const stored = await store.events.byId(eventId);
    if (stored?.streamOrdering != null && !stored.outlier) return { value: { eventId, streamOrdering: stored.streamOrdering }, outputs: [] };
    throw new RemoteJoinError('the join event is already stored as an outlier');
  }
  await cache.load([...join.pdu.view.authEvents, ...stateBefore.values()]);
  const lookup = (type: string, stateKey: string): EventView | undefined => {
    const id = stateBefore.get(stateKeyOf(type, stateKey));
    return id === undefined ? undefined : cache.view(id);
  };
  const decision = checkPduOnReceipt({
    parsed: { ok: true, pdu: join.pdu },
    signatures: join.verdict,
    authEvents: join.pdu.view.authEvents.map((id) => cache.view(id)).filter((v): v is EventView => v !== undefined),
    createEvent: cache.view(createInput.pdu.eventId),
    isRejected: (id) => cache.isRejected(id),
    stateBefore: lookup,
    currentState: lookup,
    policyServer: 'not-in-use',
    isSignedBy,
    verifyThirdPartySignature,
  });
  if (decision.decision !== 'accept') {
    throw new RemoteJoinError(`the join is not allowed by the returned state: ${decision.reason}`);
  }

  const snapshotId = await store.state.saveSnapshot({
    roomId,
    parentId: null,
    changes: diffState(new Map(), stateBefore),
    createdTs: env.now,
  });
  env.snapshots.set(snapshotId, stateBefore);
  const streamOrdering = await env.tracker.allocating(() => store.events.nextStreamOrdering());
  env.allocated.push(streamOrdering);
  const view = decision.event.view;
  const row: StoredEvent = {
    eventId,
    roomId,
    streamOrdering,
    depth: view.depth,
    type: view.type,
    stateKey: view.stateKey ?? null,
    sender: view.sender,
    originServerTs: view.originServerTs,
    json: decision.event.redactedForHash ? JSON.stringify(decision.event.json) : join.text,
    roomVersion: rules.id,
    outlier: false,
    rejectedReason: null,
    softFailed: false,
    redactedBy: null,
    redacts: null,
    stateBeforeSnapshotId: snapshotId,
    receivedTs: env.now,
  };
  await store.events.insert({ ...row, prevEventIds: view.prevEvents, authEventIds: view.authEvents });
  cache.put(loaded(row));

  // Our view of the room restarts at the join: earlier extremities (from a previous stay) are superseded.
  const oldExtremities = (await store.events.forwardExtremities(roomId)).map((e) => e.eventId);
  await store.events.updateForwardExtremities(roomId, oldExtremities, [eventId]);
  const after = new Map(stateBefore);
  after.set(stateKeyOf('m.room.member', view.stateKey ?? ''), eventId);
  await applyCurrentState(env, cache, roomId, after);

  const previousId = stateBefore.get(stateKeyOf('m.room.member', view.stateKey ?? ''));
  const previous = previousId === undefined ? undefined : getField(cache.view(previousId)?.content ?? {}, 'membership');
  const output: NewRoomEvent = {
    roomId,
    eventId,
    streamOrdering,
    type: view.type,
    stateKey: view.stateKey,
    sender: view.sender,
    // The resident server passes the join on to the rest of the room, not us.
    origin: input.origin,
    membershipChange: {
      target: view.stateKey ?? view.sender,
      membership: 'join',
      previous: typeof previous === 'string' ? previous : undefined,
    },
  };
  return { value: { eventId, streamOrdering }, outputs: [output] };
}

/** Checks 3–4 of a response event against its auth events; the row to store it as an outlier (undefined: dropped). */
async function checkOutlier(
  env: PipelineEnv,
  cache: EventCache,
  event: CheckedInput,
  roomId: string,
  createId: string,
  isSignedBy: (event: EventView, serverName: string) => boolean,
): Promise<NewEvent | undefined> {
  const { pdu } = event;
  await cache.load([...pdu.view.authEvents, createId]);
  const decision = checkPduOnReceipt({
    parsed: { ok: true, pdu },
    signatures: event.verdict,
    authEvents: pdu.view.authEvents.map((id) => cache.view(id)).filter((v): v is EventView => v !== undefined),
    createEvent: cache.view(createId),
    isRejected: (id) => cache.isRejected(id),
    stateBefore: null,
    currentState: null,
    policyServer: 'not-in-use',
    isSignedBy,
    verifyThirdPartySignature,
  });
  if (decision.decision === 'drop') return undefined;
  const checked = decision.event;
  const row: StoredEvent = {
    eventId: checked.eventId,
    roomId,
    streamOrdering: null,
    depth: pdu.view.depth,
    type: pdu.view.type,
    stateKey: pdu.view.stateKey ?? null,
    sender: pdu.view.sender,
    originServerTs: pdu.view.originServerTs,
    json: checked.redactedForHash ? JSON.stringify(checked.json) : event.text,
    roomVersion: pdu.rules.id,
    outlier: true,
    rejectedReason: decision.decision === 'reject' ? `check ${decision.check}, rule ${decision.rule}: ${decision.reason}` : null,
    softFailed: false,
    redactedBy: null,
    redacts: checked.view.redacts ?? null,
    stateBeforeSnapshotId: null,
    receivedTs: env.now,
  };
  cache.put(loaded(row));
  return { ...row, prevEventIds: pdu.view.prevEvents, authEventIds: pdu.view.authEvents };
}

async function applyCurrentState(env: PipelineEnv, cache: EventCache, roomId: string, next: StateMap): Promise<void> {
  const previous = await currentStateMap(env.store, roomId);
  const changes = diffState(previous, next);
  await cache.load(changes.flatMap((c) => (c.eventId === null ? [] : [c.eventId])));
  const withMembership: CurrentStateChange[] = changes.map((change) => {
    const content = change.eventId === null ? undefined : cache.view(change.eventId)?.content;
    const membership = change.type === 'm.room.member' && content !== undefined ? getField(content, 'membership') : undefined;
    return { ...change, membership: typeof membership === 'string' ? membership : null };
  });
  await env.store.state.applyCurrentStateChanges(roomId, withMembership);
}
