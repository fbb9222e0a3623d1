// PUT /_matrix/client/v3/directory/room/{roomAlias} (client-server § "Room aliases",
// directory.yaml `setRoomAlias`). Only aliases of this server, only for rooms the caller is
// joined to (Synapse's rule too: otherwise anyone could squat aliases on any room).

import { defineEndpoint, jsonBody, type Endpoint } from '../../../http/define-endpoint.ts';
import { MatrixError, forbidden, notFound } from '../../../http/matrix-error.ts';
import type { JsonObject } from '../../../rooms/json.ts';
import type { Roomserver } from '../../../roomserver/index.ts';
import type { AliasDirectory } from './alias-directory.ts';

interface SetAliasBody extends JsonObject {
  room_id: string;
}

const SET_ALIAS_BODY = jsonBody<SetAliasBody>({
  type: 'object',
  properties: { room_id: { type: 'string', pattern: '^!' } },
  required: ['room_id'],
});

export function setRoomAliasEndpoint(aliases: AliasDirectory, roomserver: Roomserver): Endpoint {
  return defineEndpoint({
    method: 'PUT',
    path: '/_matrix/client/v3/directory/room/:roomAlias',
    auth: 'required',
    body: SET_ALIAS_BODY,
    operationId: 'setRoomAlias',
    handler: async ({ params, body, auth }) => {
      const alias = params['roomAlias'] ?? '';
      aliases.checkLocal(alias);
      const roomId = body.room_id;
      if ((await roomserver.roomVersion(roomId)) === undefined) throw notFound('Room not found');
      if ((await roomserver.membership(roomId, auth.userId)) !== 'join') {
        throw forbidden('You must be joined to the room to give it an alias');
      }
      if (!(await aliases.create(alias, roomId, auth.userId))) {
        // directory.yaml: 409 "A room alias with that name already exists".
        throw new MatrixError(409, 'M_ROOM_IN_USE', `Room alias ${alias} already exists`);
      }
      return {};
    },
  });
}
