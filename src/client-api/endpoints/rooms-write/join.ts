// POST /_matrix/client/v3/rooms/{roomId}/join and /join/{roomIdOrAlias} (joining.yaml
// `joinRoomById`, `joinRoom`; client-server § "Joining rooms").

import { defineEndpoint, type Endpoint } from '../../../http/define-endpoint.ts';
import { invalidParam } from '../../../http/matrix-error.ts';
import { JOIN_BODY, type JoinBody } from './bodies.ts';
import type { RoomMembership } from './room-membership.ts';

export function joinEndpoints(membership: RoomMembership): Endpoint[] {
  const handler = async (roomIdOrAlias: string, query: URLSearchParams, body: JoinBody, auth: { userId: string; deviceId: string | undefined }) => {
    if (body['third_party_signed'] !== undefined) {
      throw invalidParam('third_party_signed is not supported: this server has no third-party invites');
    }
    // `via` (v1.12); `server_name` is its deprecated spelling, still sent by older clients.
    const via = [...query.getAll('via'), ...query.getAll('server_name')];
    const roomId = await membership.join({ userId: auth.userId, deviceId: auth.deviceId, reason: body.reason }, roomIdOrAlias, via);
    return { room_id: roomId };
  };
  return [
    defineEndpoint({
      method: 'POST',
      path: '/_matrix/client/v3/rooms/:roomId/join',
      auth: 'required',
      body: JOIN_BODY,
      rateLimit: 'join',
      operationId: 'joinRoomById',
      handler: ({ params, query, body, auth }) => {
        const roomId = params['roomId'] ?? '';
        if (!roomId.startsWith('!')) throw invalidParam('Not a room ID');
        return handler(roomId, query, body, auth);
      },
    }),
    defineEndpoint({
      method: 'POST',
      path: '/_matrix/client/v3/join/:roomIdOrAlias',
      auth: 'required',
      body: JOIN_BODY,
      rateLimit: 'join',
      operationId: 'joinRoom',
      handler: ({ params, query, body, auth }) => handler(params['roomIdOrAlias'] ?? '', query, body, auth),
    }),
  ];
}
