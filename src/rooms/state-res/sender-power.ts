// The sender's power level "when looking at their respective auth_events", which orders
// power events (v2-state-res.md "Reverse topological power ordering"). Read through the
// auth rules' own power levels view, so defaults, stringy values (v1–v9) and v12's
// infinitely powerful creators mean here exactly what they mean to the auth rules.

import type { EventView } from '../event-view.ts';
import { powerLevelsFrom } from '../auth/power-levels.ts';
import type { RoomVersionRules } from '../room-versions.ts';
import type { EventCache } from './event-cache.ts';
import { isPowerLevelsEvent } from './power-events.ts';
import { findCreateEvent } from './room-create.ts';

export function senderPowerLevel(event: EventView, rules: RoomVersionRules, events: EventCache): number {
  let powerLevels: EventView | undefined;
  for (const authId of event.authEvents) {
    const authEvent = events.get(authId);
    if (authEvent !== undefined && isPowerLevelsEvent(authEvent)) {
      powerLevels = authEvent;
      break;
    }
  }
  return powerLevelsFrom(rules, powerLevels, findCreateEvent(event, rules, events)).userLevel(event.sender);
}
