// GET /_matrix/client/v3/rooms/{roomId}/aliases (directory.yaml `getLocalAliases`): members
// of the room, or anyone when its history is world_readable; everyone else M_FORBIDDEN,
// including for rooms this server does not know (so the answer reveals nothing).

import { defineEndpoint, type Endpoint } from '../../../http/define-endpoint.ts';
import { forbidden } from '../../../http/matrix-error.ts';
import type { Roomserver } from '../../../roomserver/index.ts';
import type { AliasDirectory } from './alias-directory.ts';

export function localAliasesEndpoint(aliases: AliasDirectory, roomserver: Roomserver): Endpoint {
  return defineEndpoint({
    method: 'GET',
    path: '/_matrix/client/v3/rooms/:roomId/aliases',
    auth: 'required',
    operationId: 'getLocalAliases',
    handler: async ({ params, auth }) => {
      const roomId = params['roomId'] ?? '';
      if (!(await mayView(roomserver, roomId, auth.userId))) throw forbidden('You are not a member of the room');
      return { aliases: await aliases.localAliases(roomId) };
    },
  });
}

async function mayView(roomserver: Roomserver, roomId: string, userId: string): Promise<boolean> {
  if ((await roomserver.membership(roomId, userId)) === 'join') return true;
  const visibility = await roomserver.stateEvent(roomId, 'm.room.history_visibility', '');
  const content = visibility?.json['content'];
  return typeof content === 'object' && content !== null && !Array.isArray(content) && content['history_visibility'] === 'world_readable';
}
