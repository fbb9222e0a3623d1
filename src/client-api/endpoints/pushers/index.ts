// GET /_matrix/client/v3/pushers and POST /_matrix/client/v3/pushers/set (pusher.yaml
// getPushers, postPusher).

import { ANY_JSON_OBJECT, defineEndpoint, type Endpoint } from '../../../http/define-endpoint.ts';
import type { PushersService } from '../../push/pushers-service.ts';

export function pushersEndpoints(pushers: PushersService): Endpoint[] {
  return [
    defineEndpoint({
      method: 'GET',
      path: '/_matrix/client/v3/pushers',
      auth: 'required',
      operationId: 'getPushers',
      handler: async ({ auth }) => ({ pushers: await pushers.list(auth.userId) }),
    }),
    defineEndpoint({
      method: 'POST',
      path: '/_matrix/client/v3/pushers/set',
      auth: 'required',
      body: ANY_JSON_OBJECT,
      rateLimit: 'message',
      operationId: 'postPusher',
      handler: async ({ body, auth }) => {
        await pushers.set(auth.userId, body);
        return {};
      },
    }),
  ];
}
