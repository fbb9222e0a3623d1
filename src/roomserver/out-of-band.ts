// Out-of-band memberships: a local user's membership event in a room this server does not
// hold (server-server § "Inviting to a room": an invite for one of our users to a room we
// are not in; § "Leaving Rooms (Rejecting Invites)" and § "Knocking": the rejection or knock
// our user sent through a resident server). Without the room's state the auth rules cannot
// run, so the event is stored as an outlier that nonetheless gets a stream position and the
// user's current-state membership row: /sync then lists the room under `invite`, `knock` or
// `leave`, and a later join over federation replaces the row with the room's real state.
// This is what Synapse calls an "out-of-band membership".

import { contentHashVerdict, type SignatureVerdict } from '../rooms/checks-on-receipt.ts';
import { serverNameOf } from '../rooms/identifiers.ts';
import { getField, isJsonObject, type JsonObject } from '../rooms/json.ts';
import { parsePdu, type ParsedPdu } from '../rooms/pdu/parse.ts';
import { redactEvent } from '../rooms/redaction.ts';
import type { StoredEvent } from '../storage/index.ts';
import type { NewRoomEvent } from './output.ts';
import { roomIdOf, type PipelineEnv } from './pipeline.ts';
import type { SignatureChecker } from './signatures.ts';

export interface OutOfBandMembershipInput {
  /** The signed m.room.member PDU. */
  readonly event: JsonObject;
  readonly roomVersion: string;
  /** The server it came from, or (for our own rejection or knock) the resident server it went through. */
  readonly origin: string;
  /**
   * Stripped state of the room (`invite_room_state` / `knock_room_state`), kept in the
   * stored event's `unsigned` for /sync to show the invitee or knocker.
   */
  readonly strippedState?: readonly JsonObject[];
}

export const OUT_OF_BAND_MEMBERSHIPS = ['invite', 'leave', 'knock'] as const;
export type OutOfBandMembership = (typeof OUT_OF_BAND_MEMBERSHIPS)[number];

export interface PreparedOutOfBand {
  readonly pdu: ParsedPdu;
  readonly roomId: string;
  readonly target: string;
  readonly membership: OutOfBandMembership;
  readonly verdict: SignatureVerdict;
  readonly text: string;
  readonly origin: string;
}

export type PrepareOutcome = { readonly ok: true; readonly prepared: PreparedOutOfBand } | { readonly ok: false; readonly eventId?: string; readonly reason: string };

/** Parses and checks the event (outside any transaction: keys may be fetched). */
export async function prepareOutOfBand(
  input: OutOfBandMembershipInput,
  serverName: string,
  signatures: SignatureChecker,
): Promise<PrepareOutcome> {
  const parsed = parsePdu({ raw: input.event, roomVersion: input.roomVersion });
  if (!parsed.ok) return { ok: false, reason: parsed.error.message };
  const { pdu } = parsed;
  let roomId: string;
  try {
    roomId = roomIdOf(pdu);
  } catch {
    return { ok: false, eventId: pdu.eventId, reason: 'no room ID' };
  }
  const membership = getField(pdu.view.content, 'membership');
  const target = pdu.view.stateKey;
  if (pdu.view.type !== 'm.room.member' || target === undefined) return { ok: false, eventId: pdu.eventId, reason: 'not a membership event' };
  if (!OUT_OF_BAND_MEMBERSHIPS.includes(membership as OutOfBandMembership)) {
    return { ok: false, eventId: pdu.eventId, reason: `membership ${String(membership)} needs the room's state` };
  }
  if (serverNameOf(target) !== serverName) return { ok: false, eventId: pdu.eventId, reason: 'the target is not a user of this server' };
  if (membership !== 'invite' && target !== pdu.view.sender) return { ok: false, eventId: pdu.eventId, reason: 'a leave or knock must be the sender\u2019s own' };
  const verdict = await signatures.verdict(pdu.json, pdu.rules);
  if (!verdict.valid) return { ok: false, eventId: pdu.eventId, reason: verdict.reason };

  // Check 3: a content hash that does not match leaves the redacted event, which still has its membership.
  let json: JsonObject = contentHashVerdict(pdu) === 'intact' ? pdu.json : redactEvent(pdu.json, pdu.rules);
  if (input.strippedState !== undefined && (membership === 'invite' || membership === 'knock')) {
    const unsigned = getField(json, 'unsigned');
    const key = membership === 'invite' ? 'invite_room_state' : 'knock_room_state';
    json = { ...json, unsigned: { ...(isJsonObject(unsigned) ? unsigned : {}), [key]: [...input.strippedState] } };
  }
  return {
    ok: true,
    prepared: {
      pdu,
      roomId,
      target,
      membership: membership as OutOfBandMembership,
      verdict,
      // `unsigned` is outside the hashes and signatures: adding to it keeps the event valid.
      text: JSON.stringify(json),
      origin: input.origin,
    },
  };
}

/** Inside the room's write transaction, for a room with no state here. */
export async function storeOutOfBand(
  env: PipelineEnv,
  prepared: PreparedOutOfBand,
): Promise<{ value: { eventId: string; streamOrdering: number }; outputs: NewRoomEvent[] }> {
  const { store } = env;
  const { pdu, roomId, target } = prepared;
  const view = pdu.view;
  const previous = await store.state.currentStateEntry(roomId, 'm.room.member', target);
  const streamOrdering = await env.tracker.allocating(() => store.events.nextStreamOrdering());
  env.allocated.push(streamOrdering);
  const row: StoredEvent = {
    eventId: pdu.eventId,
    roomId,
    streamOrdering,
    depth: view.depth,
    type: view.type,
    stateKey: target,
    sender: view.sender,
    originServerTs: view.originServerTs,
    json: prepared.text,
    roomVersion: pdu.rules.id,
    outlier: true,
    rejectedReason: null,
    softFailed: false,
    redactedBy: null,
    redacts: null,
    stateBeforeSnapshotId: null,
    receivedTs: env.now,
  };
  await store.events.insert({ ...row, prevEventIds: view.prevEvents, authEventIds: view.authEvents });
  await store.state.applyCurrentStateChanges(roomId, [
    { type: 'm.room.member', stateKey: target, eventId: pdu.eventId, membership: prepared.membership },
  ]);
  const output: NewRoomEvent = {
    roomId,
    eventId: pdu.eventId,
    streamOrdering,
    type: view.type,
    stateKey: target,
    sender: view.sender,
    // Never ours: the federation sender must not pass it on (the room is not held here).
    origin: prepared.origin,
    membershipChange: { target, membership: prepared.membership, previous: previous?.membership ?? undefined },
  };
  return { value: { eventId: pdu.eventId, streamOrdering }, outputs: [output] };
}
