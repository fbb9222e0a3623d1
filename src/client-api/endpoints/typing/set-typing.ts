// PUT /_matrix/client/v3/rooms/{roomId}/typing/{userId} (typing.yaml `setTyping`).
// Only for yourself, and only in a room you are joined to.

import { defineEndpoint, jsonBody, type Endpoint } from '../../../http/define-endpoint.ts';
import { forbidden } from '../../../http/matrix-error.ts';
import type { JsonObject } from '../../../rooms/json.ts';
import type { Roomserver } from '../../../roomserver/index.ts';
import type { TypingService } from '../../ephemeral/typing.ts';

interface SetTypingBody extends JsonObject {
  typing: boolean;
  timeout?: number;
}

const body = jsonBody<SetTypingBody>({
  type: 'object',
  required: ['typing'],
  properties: { typing: { type: 'boolean' }, timeout: { type: 'integer', minimum: 0 } },
});

export function setTypingEndpoint(typing: TypingService, roomserver: Roomserver): Endpoint {
  return defineEndpoint({
    method: 'PUT',
    path: '/_matrix/client/v3/rooms/:roomId/typing/:userId',
    auth: 'required',
    body,
    rateLimit: 'typing',
    operationId: 'setTyping',
    handler: async ({ params, body, auth }) => {
      const roomId = params['roomId'] ?? '';
      if (params['userId'] !== auth.userId) throw forbidden('Cannot set the typing state of another user');
      if ((await roomserver.membership(roomId, auth.userId)) !== 'join') throw forbidden('You are not joined to this room');
      typing.setTyping(roomId, auth.userId, body.typing, body.timeout);
      return {};
    },
  });
}
