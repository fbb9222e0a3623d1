// The room state a user may read (see ./access.ts): current state, or the state right after
// the event that ended their membership.

import { stateKeyOf, type StateMap } from '../../../rooms/event-view.ts';
import type { ClientReadQueries } from '../../../roomserver/queries-client.ts';
import type { StateAccess } from './access.ts';

export async function readableState(queries: ClientReadQueries, roomId: string, access: StateAccess): Promise<StateMap> {
  if (access.kind === 'departed') return (await queries.roomserver.stateAt(access.eventId, 'after')) ?? new Map();
  const map = new Map<string, string>();
  for (const entry of await queries.roomserver.currentState(roomId)) map.set(stateKeyOf(entry.type, entry.stateKey), entry.eventId);
  return map;
}
