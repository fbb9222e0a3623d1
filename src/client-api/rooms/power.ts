// The room's current power levels, read the way the auth rules read them (defaults, v12
// creators with infinite power), for checks the auth rules leave to the server: who may
// redact others' events, delete an alias, or authorise a restricted join.

import { powerLevelsFrom, type PowerLevels } from '../../rooms/auth/power-levels.ts';
import type { EventView } from '../../rooms/event-view.ts';
import { toEventView } from '../../rooms/pdu/view.ts';
import { roomVersionRules } from '../../rooms/room-versions.ts';
import type { Roomserver } from '../../roomserver/index.ts';

/** The current power levels of `roomId`, or undefined when the room is unknown. */
export async function currentPowerLevels(roomserver: Roomserver, roomId: string): Promise<PowerLevels | undefined> {
  const version = await roomserver.roomVersion(roomId);
  const rules = version === undefined ? undefined : roomVersionRules(version);
  if (rules === undefined) return undefined;
  const [powerLevels, create] = await Promise.all([
    roomserver.stateEvent(roomId, 'm.room.power_levels', ''),
    roomserver.stateEvent(roomId, 'm.room.create', ''),
  ]);
  const view = (event: typeof create): EventView | undefined =>
    event === undefined ? undefined : toEventView(event.json, rules, event.eventId);
  return powerLevelsFrom(rules, view(powerLevels), view(create));
}

/** Whether `userId` may send a state event of `type` under `levels` (auth rule "power levels"). */
export function maySendState(levels: PowerLevels, userId: string, type: string): boolean {
  return levels.userLevel(userId) >= levels.eventLevel(type, true);
}
