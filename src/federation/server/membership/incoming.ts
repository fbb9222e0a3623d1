// The checks every send_join / send_leave / send_knock body gets before it reaches the
// roomserver: it parses as a PDU of the room's version, its event ID is the one in the
// path, it is an `m.room.member` event of the expected membership for the room in the
// path, and its sender is a user of the server that made the request.

import { badJson, forbidden } from '../../../http/matrix-error.ts';
import { serverNameOf } from '../../../rooms/identifiers.ts';
import { getField, type JsonObject } from '../../../rooms/json.ts';
import { parsePdu, type ParsedPdu } from '../../../rooms/pdu/parse.ts';
import { roomIdOf } from '../../../roomserver/pipeline.ts';
import type { Roomserver } from '../../../roomserver/index.ts';

export interface ExpectedMembership {
  readonly roomId: string;
  readonly eventId: string;
  readonly roomVersion: string;
  readonly origin: string;
  readonly membership: 'join' | 'leave' | 'knock' | 'invite';
}

export function parseMembershipPdu(body: JsonObject, expected: ExpectedMembership): ParsedPdu {
  const parsed = parsePdu({ raw: body, roomVersion: expected.roomVersion });
  if (!parsed.ok) throw badJson(`Invalid event: ${parsed.error.message}`);
  const { pdu } = parsed;
  if (pdu.eventId !== expected.eventId) throw badJson(`Event ID ${pdu.eventId} does not match the path`);
  let roomId: string;
  try {
    roomId = roomIdOf(pdu);
  } catch {
    throw badJson('Event has no room ID');
  }
  if (roomId !== expected.roomId) throw badJson('Event is for another room');
  if (pdu.view.type !== 'm.room.member') throw badJson('Event is not an m.room.member event');
  const membership = getField(pdu.view.content, 'membership');
  if (membership !== expected.membership) throw badJson(`Event membership is not "${expected.membership}"`);
  if (expected.membership !== 'invite' && pdu.view.stateKey !== pdu.view.sender) {
    throw badJson('The state_key of the membership event must be its sender');
  }
  if (serverNameOf(pdu.view.sender) !== expected.origin) throw forbidden('The sender is not a user of the requesting server');
  return pdu;
}

/** How the roomserver's verdict on a send_* event maps to the spec's errors. */
export function assertStored(outcome: Awaited<ReturnType<Roomserver['receivePdu']>>): string {
  switch (outcome.outcome) {
    case 'accepted':
    case 'duplicate':
      if (outcome.eventId !== undefined) return outcome.eventId;
      throw badJson('Event could not be identified');
    case 'dropped':
      throw badJson(`Event dropped: ${outcome.reason ?? 'invalid'}`);
    case 'outlier':
      throw forbidden('Event does not follow events this server knows');
    case 'rejected':
    case 'soft-failed':
      throw forbidden(`Event not allowed: ${outcome.reason ?? outcome.outcome}`);
  }
}
