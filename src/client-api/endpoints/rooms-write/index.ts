// The room-writing endpoints (client-server § "Rooms", § "Events" — the sending half):
// createRoom, membership, state, send and redact.

import type { Endpoint } from '../../../http/define-endpoint.ts';
import { createRoomEndpoint } from './create-room.ts';
import type { RoomsWriteDeps } from './deps.ts';
import { joinEndpoints } from './join.ts';
import { knockEndpoint } from './knock.ts';
import { leaveEndpoints } from './leave.ts';
import { moderationEndpoints } from './moderation.ts';
import { redactEventEndpoint } from './redact-event.ts';
import { RoomMembership } from './room-membership.ts';
import { sendEventEndpoint } from './send-event.ts';
import { setStateEndpoints } from './set-state.ts';

export type { MemberProfiles, RelationGuard, RoomPublisher, RoomsWriteDeps } from './deps.ts';
export type { RemoteInviteRequest, RemoteMembershipRequest, RemoteRoomMembership } from './remote.ts';
export { RoomMembership } from './room-membership.ts';

export function roomsWriteEndpoints(deps: RoomsWriteDeps): Endpoint[] {
  const membership = new RoomMembership(deps);
  return [
    createRoomEndpoint({
      roomserver: deps.roomserver,
      aliases: deps.aliases,
      membership,
      serverName: deps.serverName,
      profiles: deps.profiles,
      publisher: deps.publisher,
    }),
    ...joinEndpoints(membership),
    knockEndpoint(membership),
    ...leaveEndpoints(membership),
    ...moderationEndpoints(membership),
    ...setStateEndpoints(deps.roomserver, deps.aliases, membership),
    sendEventEndpoint(deps.roomserver, deps.relationGuard),
    redactEventEndpoint(deps.roomserver),
  ];
}
