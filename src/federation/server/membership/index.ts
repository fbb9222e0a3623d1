// The server side of membership over federation (server-server § "Joining Rooms",
// "Leaving Rooms (Rejecting Invites)", "Inviting to a room", "Knocking").

import type { Endpoint } from '../../../http/define-endpoint.ts';
import type { MembershipEndpointDeps } from './deps.ts';
import { inviteEndpoint } from './invite.ts';
import { makeJoinEndpoint } from './make-join.ts';
import { makeKnockEndpoint } from './make-knock.ts';
import { makeLeaveEndpoint } from './make-leave.ts';
import { sendJoinEndpoint } from './send-join.ts';
import { sendKnockEndpoint } from './send-knock.ts';
import { sendLeaveEndpoint } from './send-leave.ts';

export type { MembershipEndpointDeps } from './deps.ts';

export function membershipEndpoints(deps: MembershipEndpointDeps): Endpoint[] {
  return [
    makeJoinEndpoint(deps),
    sendJoinEndpoint(deps),
    makeLeaveEndpoint(deps),
    sendLeaveEndpoint(deps),
    inviteEndpoint(deps),
    makeKnockEndpoint(deps),
    sendKnockEndpoint(deps),
  ];
}
