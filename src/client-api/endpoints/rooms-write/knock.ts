// POST /_matrix/client/v3/knock/{roomIdOrAlias} (knocking.yaml `knockRoom`; § "Knocking on rooms").

import { defineEndpoint, type Endpoint } from '../../../http/define-endpoint.ts';
import { REASON_BODY } from './bodies.ts';
import type { RoomMembership } from './room-membership.ts';

export function knockEndpoint(membership: RoomMembership): Endpoint {
  return defineEndpoint({
    method: 'POST',
    path: '/_matrix/client/v3/knock/:roomIdOrAlias',
    auth: 'required',
    body: REASON_BODY,
    rateLimit: 'join',
    operationId: 'knockRoom',
    handler: async ({ params, query, body, auth }) => {
      const via = [...query.getAll('via'), ...query.getAll('server_name')];
      const request = { userId: auth.userId, deviceId: auth.deviceId, reason: body.reason };
      return { room_id: await membership.knock(request, params['roomIdOrAlias'] ?? '', via) };
    },
  });
}
