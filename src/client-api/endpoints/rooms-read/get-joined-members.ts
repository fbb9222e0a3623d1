// GET /_matrix/client/v3/rooms/{roomId}/joined_members (client-server § "Getting events for a
// room"; rooms.yaml getJoinedMembersByRoom): "The current user must be in the room".

import { defineEndpoint, type Endpoint } from '../../../http/define-endpoint.ts';
import { forbidden } from '../../../http/matrix-error.ts';
import { getField, isJsonObject, type JsonObject } from '../../../rooms/json.ts';
import type { RoomsReadDeps } from './deps.ts';
import { roomIdParam } from './params.ts';

export function getJoinedMembersEndpoint(deps: RoomsReadDeps): Endpoint {
  const { queries } = deps;
  return defineEndpoint({
    method: 'GET',
    path: '/_matrix/client/v3/rooms/:roomId/joined_members',
    auth: 'required',
    operationId: 'getJoinedMembersByRoom',
    handler: async ({ params, auth }) => {
      const roomId = roomIdParam(params);
      if ((await queries.roomserver.membership(roomId, auth.userId)) !== 'join') {
        throw forbidden('You are not a member of this room');
      }
      const entries = (await queries.roomserver.currentStateOfType(roomId, 'm.room.member')).filter(
        (e) => e.membership === 'join',
      );
      const loaded = await queries.events(entries.map((e) => e.eventId));
      const joined: JsonObject = {};
      for (const entry of entries) {
        const member: JsonObject = {};
        const content = loaded.get(entry.eventId)?.json['content'];
        if (isJsonObject(content)) {
          const displayName = getField(content, 'displayname');
          const avatarUrl = getField(content, 'avatar_url');
          if (typeof displayName === 'string') member['display_name'] = displayName;
          if (typeof avatarUrl === 'string' && avatarUrl.startsWith('mxc://')) member['avatar_url'] = avatarUrl;
        }
        joined[entry.stateKey] = member;
      }
      return { joined };
    },
  });
}
