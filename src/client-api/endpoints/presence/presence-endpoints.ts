// GET/PUT /_matrix/client/v3/presence/{userId}/status (presence.yaml `getPresence`,
// `setPresence`).

import { defineEndpoint, jsonBody, type Endpoint } from '../../../http/define-endpoint.ts';
import type { JsonObject } from '../../../rooms/json.ts';
import type { PresenceService } from '../../ephemeral/presence.ts';

const PATH = '/_matrix/client/v3/presence/:userId/status';

interface SetPresenceBody extends JsonObject {
  presence: string;
  status_msg?: string;
}

const body = jsonBody<SetPresenceBody>({
  type: 'object',
  required: ['presence'],
  properties: {
    presence: { type: 'string', enum: ['online', 'offline', 'unavailable'] },
    status_msg: { type: 'string' },
  },
});

export function getPresenceEndpoint(presence: PresenceService): Endpoint {
  return defineEndpoint({
    method: 'GET',
    path: PATH,
    auth: 'required',
    operationId: 'getPresence',
    handler: async ({ params, auth }) => {
      const view = await presence.getForViewer(auth.userId, params['userId'] ?? '');
      return { ...view };
    },
  });
}

export function setPresenceEndpoint(presence: PresenceService): Endpoint {
  return defineEndpoint({
    method: 'PUT',
    path: PATH,
    auth: 'required',
    body,
    rateLimit: 'presence',
    operationId: 'setPresence',
    handler: async ({ params, body, auth }) => {
      await presence.setByClient(auth.userId, params['userId'] ?? '', body.presence, body.status_msg);
      return {};
    },
  });
}
