// After a remote server's join, leave or knock entered the room through us, the other
// resident servers must hear of it: the sender that made it has it, we have it, everyone
// else with joined members gets it from us (server-server § "Joining Rooms": the resident
// server "will then send the event to the other servers in the room").

import { serverNameOf } from '../../../rooms/identifiers.ts';
import type { MembershipEndpointDeps } from './deps.ts';

export async function joinedServers(deps: Pick<MembershipEndpointDeps, 'roomserver'>, roomId: string): Promise<string[]> {
  const servers = new Set<string>();
  for (const member of await deps.roomserver.members(roomId, 'join')) {
    const server = serverNameOf(member);
    if (server !== undefined) servers.add(server);
  }
  return [...servers].sort();
}

export async function passOn(
  deps: Pick<MembershipEndpointDeps, 'roomserver' | 'forward' | 'serverName' | 'logger'>,
  roomId: string,
  eventId: string,
  origin: string,
): Promise<void> {
  const targets = (await joinedServers(deps, roomId)).filter((s) => s !== deps.serverName && s !== origin);
  try {
    await deps.forward(eventId, targets);
  } catch (err) {
    // The event is stored; the other servers fetch it when they see it as a prev event.
    deps.logger.warn({ err, event_id: eventId }, 'could not queue a membership event for the other servers');
  }
}
