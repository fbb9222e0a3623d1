// POST /_matrix/client/v3/rooms/{roomId}/leave and /forget (leaving.yaml `leaveRoom`,
// `forgetRoom`; § "Leaving rooms"). Leaving does not forget: the server does not advertise
// `m.forget_forced_upon_leave`.

import { defineEndpoint, type Endpoint } from '../../../http/define-endpoint.ts';
import { REASON_BODY } from './bodies.ts';
import type { RoomMembership } from './room-membership.ts';

export function leaveEndpoints(membership: RoomMembership): Endpoint[] {
  return [
    defineEndpoint({
      method: 'POST',
      path: '/_matrix/client/v3/rooms/:roomId/leave',
      auth: 'required',
      body: REASON_BODY,
      operationId: 'leaveRoom',
      handler: async ({ params, body, auth }) => {
        await membership.leave({ userId: auth.userId, deviceId: auth.deviceId, reason: body.reason }, params['roomId'] ?? '');
        return {};
      },
    }),
    defineEndpoint({
      method: 'POST',
      path: '/_matrix/client/v3/rooms/:roomId/forget',
      auth: 'required',
      operationId: 'forgetRoom',
      handler: async ({ params, auth }) => {
        await membership.forget(auth.userId, params['roomId'] ?? '');
        return {};
      },
    }),
  ];
}
