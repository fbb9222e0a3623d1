// POST /_matrix/client/v3/rooms/{roomId}/invite, /kick, /ban, /unban (inviting.yaml
// `inviteUser`, kicking.yaml `kick`, banning.yaml `ban`, `unban`). Each sets the target's
// membership; the auth rules check the caller's power level.

import { defineEndpoint, type Endpoint } from '../../../http/define-endpoint.ts';
import { TARGET_BODY } from './bodies.ts';
import type { MembershipRequest, RoomMembership } from './room-membership.ts';

type Action = 'invite' | 'kick' | 'ban' | 'unban';

const OPERATIONS: Readonly<Record<Action, string>> = { invite: 'inviteUser', kick: 'kick', ban: 'ban', unban: 'unban' };

export function moderationEndpoints(membership: RoomMembership): Endpoint[] {
  const run: Readonly<Record<Action, (request: MembershipRequest, roomId: string, target: string) => Promise<void>>> = {
    invite: (r, room, target) => membership.invite(r, room, target),
    kick: (r, room, target) => membership.kick(r, room, target),
    ban: (r, room, target) => membership.ban(r, room, target),
    unban: (r, room, target) => membership.unban(r, room, target),
  };
  return (Object.keys(OPERATIONS) as Action[]).map((action) =>
    defineEndpoint({
      method: 'POST',
      path: `/_matrix/client/v3/rooms/:roomId/${action}`,
      auth: 'required',
      body: TARGET_BODY,
      ...(action === 'invite' ? { rateLimit: 'invite' } : {}),
      operationId: OPERATIONS[action],
      handler: async ({ params, body, auth }) => {
        await run[action]({ userId: auth.userId, deviceId: auth.deviceId, reason: body.reason }, params['roomId'] ?? '', body.user_id);
        return {};
      },
    }),
  );
}
