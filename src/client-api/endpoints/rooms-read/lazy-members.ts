// Lazy-loading room members (client-server § "Lazy-loading room members"): with
// `lazy_load_members`, /messages and /context send the m.room.member events of the senders
// of the events they return, from the state at a given event. Redundant members are sent
// again (the spec allows it), so `include_redundant_members` needs no bookkeeping.

import { stateKeyOf, type StateMap } from '../../../rooms/event-view.ts';
import type { RoomEvent } from '../../../roomserver/index.ts';
import type { ClientReadQueries } from '../../../roomserver/queries-client.ts';

/** The member events, in `state`, of the senders of `events` (each sender once). */
export async function senderMemberEvents(
  queries: ClientReadQueries,
  state: StateMap,
  events: readonly RoomEvent[],
): Promise<RoomEvent[]> {
  const ids: string[] = [];
  for (const sender of new Set(events.map((e) => e.sender))) {
    const id = state.get(stateKeyOf('m.room.member', sender));
    if (id !== undefined) ids.push(id);
  }
  const loaded = await queries.events(ids);
  return ids.flatMap((id) => {
    const event = loaded.get(id);
    return event === undefined ? [] : [event];
  });
}
