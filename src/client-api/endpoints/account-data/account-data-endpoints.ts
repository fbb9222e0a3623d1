// GET/PUT /_matrix/client/v3/user/{userId}/account_data/{type} and the per-room variants
// under /user/{userId}/rooms/{roomId}/account_data/{type} (account-data.yaml: operations
// `getAccountData`, `setAccountData`, `getAccountDataPerRoom`, `setAccountDataPerRoom`).
// Four thin handlers over one service; the room ID is the only difference between them.

import { ANY_JSON_OBJECT, defineEndpoint, type Endpoint } from '../../../http/define-endpoint.ts';
import { notFound } from '../../../http/matrix-error.ts';
import type { AccountDataService } from '../../ephemeral/account-data.ts';

const GLOBAL_PATH = '/_matrix/client/v3/user/:userId/account_data/:type';
const ROOM_PATH = '/_matrix/client/v3/user/:userId/rooms/:roomId/account_data/:type';

export function getAccountDataEndpoint(accountData: AccountDataService, perRoom: boolean): Endpoint {
  return defineEndpoint({
    method: 'GET',
    path: perRoom ? ROOM_PATH : GLOBAL_PATH,
    auth: 'required',
    operationId: perRoom ? 'getAccountDataPerRoom' : 'getAccountData',
    handler: async ({ params, auth }) => {
      const content = await accountData.getByClient(auth.userId, params['userId'] ?? '', perRoom ? (params['roomId'] ?? '') : undefined, params['type'] ?? '');
      if (content === undefined) throw notFound('Account data not found');
      return content;
    },
  });
}

export function setAccountDataEndpoint(accountData: AccountDataService, perRoom: boolean): Endpoint {
  return defineEndpoint({
    method: 'PUT',
    path: perRoom ? ROOM_PATH : GLOBAL_PATH,
    auth: 'required',
    body: ANY_JSON_OBJECT,
    rateLimit: 'account_data',
    operationId: perRoom ? 'setAccountDataPerRoom' : 'setAccountData',
    handler: async ({ params, body, auth }) => {
      await accountData.putByClient(auth.userId, params['userId'] ?? '', perRoom ? (params['roomId'] ?? '') : undefined, params['type'] ?? '', body);
      return {};
    },
  });
}
