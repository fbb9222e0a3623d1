// The authorization rules of room versions 1–12 (content/rooms/fragments/v1-auth-rules.md,
// v3-auth-rules.md, v8-auth-rules.md; v6.md, v7.md, v10.md, v11.md, v12.md). One function
// walks the spec's list in order; a rejection names the rule by its number in the event's
// room version (./rule-numbers.ts), e.g. v12 "5.3.2" or v6 "4.3.2" for the same check.

import type { EventView } from '../event-view.ts';
import { getField } from '../json.ts';
import { checkAuthEventsList } from './auth-events.ts';
import { authorizeCreate } from './create.ts';
import { serverNameOf } from './identifiers.ts';
import { authorizeMember, membershipOf } from './membership.ts';
import { authorizePowerLevels } from './power-levels-change.ts';
import { powerLevelsFrom } from './power-levels.ts';
import { ALLOW, deny } from './result.ts';
import { authEventsRule, topRule } from './rule-numbers.ts';
import type { AuthContext, AuthResult } from './types.ts';

export { authTypesForEvent } from './auth-types.ts';
export { stateFromAuthEvents } from './auth-events.ts';

export function authorizeEvent(event: EventView, ctx: AuthContext): AuthResult {
  const rules = ctx.rules;
  const top = (name: Parameters<typeof topRule>[1]): string => topRule(rules, name);

  // 1. m.room.create
  if (event.type === 'm.room.create') return authorizeCreate(rules, event);

  const create = ctx.state('m.room.create', '');

  // 2. (v12) The room ID is the create event's ID with the `!` sigil.
  if (!rules.format.createHasRoomId) {
    if (create === undefined || event.roomId === undefined || event.roomId !== roomIdOfCreateEvent(create.eventId)) {
      return deny(top('roomId'), "the room ID is not the ID of the room's create event");
    }
  }

  // 2. (v1–v11) / 3. (v12) The auth_events list, when the caller supplies it.
  if (ctx.authEvents !== undefined) {
    const listed = checkAuthEventsList(rules, event, ctx.authEvents);
    if (!listed.allowed) return listed;
  }
  // Every later rule reads the create event; a state without one authorises nothing.
  if (create === undefined) {
    return deny(authEventsRule(rules, 'missingCreate'), 'no m.room.create event in the state');
  }

  // 3. (v12: 4) m.federate
  if (getField(create.content, 'm.federate') === false && serverNameOf(event.sender) !== serverNameOf(create.sender)) {
    return deny(top('federate'), 'the room does not federate and the sender is from another server');
  }

  // 4. (v1–v5) m.room.aliases: the sender's server owns its own aliases entry.
  if (rules.auth.specialCaseAliases && event.type === 'm.room.aliases') {
    if (event.stateKey === undefined) return deny(`${top('aliases')}.1`, 'm.room.aliases has no state_key');
    if (serverNameOf(event.sender) !== event.stateKey) {
      return deny(`${top('aliases')}.2`, "the sender's domain does not match the state_key");
    }
    return ALLOW;
  }

  const powerLevels = powerLevelsFrom(rules, ctx.state('m.room.power_levels', ''), create);

  // m.room.member
  if (event.type === 'm.room.member') return authorizeMember(rules, ctx, event, create, powerLevels);

  // The sender must be joined.
  if (membershipOf(ctx.state, event.sender) !== 'join') {
    return deny(top('senderJoined'), 'the sender is not joined to the room');
  }

  const senderLevel = powerLevels.userLevel(event.sender);

  // m.room.third_party_invite: allowed iff the sender may invite.
  if (event.type === 'm.room.third_party_invite') {
    return senderLevel >= powerLevels.invite
      ? ALLOW
      : deny(`${top('thirdPartyInvite')}.1`, "the sender's power level is below the invite level");
  }

  // The event type's required power level.
  const required = powerLevels.eventLevel(event.type, event.stateKey !== undefined);
  if (required > senderLevel) {
    return deny(top('requiredLevel'), `sending ${event.type} needs power level ${required}`);
  }

  // A state_key that is a user ID belongs to that user.
  if (event.stateKey !== undefined && event.stateKey.startsWith('@') && event.stateKey !== event.sender) {
    return deny(top('stateKeyOwner'), "the state_key is another user's ID");
  }

  // m.room.power_levels
  if (event.type === 'm.room.power_levels') {
    return authorizePowerLevels(rules, event, ctx.state('m.room.power_levels', ''), powerLevels);
  }

  // 11. (v1–v2) m.room.redaction
  if (rules.auth.specialCaseRedaction && event.type === 'm.room.redaction') {
    const rule = top('redaction');
    if (senderLevel >= powerLevels.redact) return ALLOW;
    const redactedServer = event.redacts === undefined ? undefined : serverNameOf(event.redacts);
    if (redactedServer !== undefined && redactedServer === serverNameOf(event.eventId)) return ALLOW;
    return deny(`${rule}.3`, 'the sender is below the redact level and the redacted event is from another server');
  }

  return ALLOW;
}

/** v12: `$hash` → `!hash` (content/appendices.md "Room IDs"). */
export function roomIdOfCreateEvent(createEventId: string): string | undefined {
  return createEventId.startsWith('$') ? `!${createEventId.slice(1)}` : undefined;
}
