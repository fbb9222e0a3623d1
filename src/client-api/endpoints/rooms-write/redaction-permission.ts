// Who may redact what (redaction.yaml): anyone allowed to send `m.room.redaction` may redact
// their own events; redacting another user's event also needs the room's `redact` level.
// From room version 3 the auth rules no longer check this (the receiving server checks it
// when applying the redaction, and accepts any redaction between users of one server), so
// for local users the server checks it here, before sending.

import { forbidden, notFound } from '../../../http/matrix-error.ts';
import type { Roomserver } from '../../../roomserver/index.ts';
import { currentPowerLevels } from '../../rooms/power.ts';

export async function checkMayRedact(roomserver: Roomserver, roomId: string, sender: string, redacts: string): Promise<void> {
  if ((await roomserver.membership(roomId, sender)) !== 'join') throw forbidden('You are not in this room');
  const target = await roomserver.event(redacts, 'stored');
  if (target === undefined || target.roomId !== roomId) throw notFound('Event not found');
  if (target.sender === sender) return;
  const levels = await currentPowerLevels(roomserver, roomId);
  if (levels === undefined || levels.userLevel(sender) < levels.redact) {
    throw forbidden("Your power level is too low to redact other users' events");
  }
}
