// v2-state-res.md "Power events": events that might remove someone's ability to act.

import type { EventView } from '../event-view.ts';
import { getField } from '../json.ts';

export function isPowerEvent(event: EventView): boolean {
  if (event.stateKey === undefined) return false;
  if (event.stateKey === '' && (event.type === 'm.room.power_levels' || event.type === 'm.room.join_rules')) {
    return true;
  }
  if (event.type === 'm.room.member') {
    const membership = getField(event.content, 'membership');
    return (membership === 'leave' || membership === 'ban') && event.sender !== event.stateKey;
  }
  return false;
}

export function isPowerLevelsEvent(event: EventView): boolean {
  return event.type === 'm.room.power_levels' && event.stateKey === '';
}
