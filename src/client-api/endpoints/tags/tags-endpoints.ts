// Room tags (client-server § "Room Tagging", tags.yaml): GET /user/{userId}/rooms/{roomId}/tags
// (`getRoomTags`), PUT and DELETE .../tags/{tag} (`setRoomTag`, `deleteRoomTag`). Tags are the
// room account data `m.tag`, so /sync delivers changes through the account-data stream.

import { defineEndpoint, jsonBody, type Endpoint } from '../../../http/define-endpoint.ts';
import type { JsonObject } from '../../../rooms/json.ts';
import type { AccountDataService } from '../../ephemeral/account-data.ts';

const TAGS_PATH = '/_matrix/client/v3/user/:userId/rooms/:roomId/tags';
const TAG_PATH = `${TAGS_PATH}/:tag`;

interface TagBody extends JsonObject {
  order?: number;
}

// definitions/tag.yaml: `order` is a number in [0, 1]; other keys are kept as sent.
const tagBody = jsonBody<TagBody>({
  type: 'object',
  properties: { order: { type: 'number', minimum: 0, maximum: 1 } },
});

export function getRoomTagsEndpoint(accountData: AccountDataService): Endpoint {
  return defineEndpoint({
    method: 'GET',
    path: TAGS_PATH,
    auth: 'required',
    operationId: 'getRoomTags',
    handler: async ({ params, auth }) => ({
      tags: await accountData.tags(auth.userId, params['userId'] ?? '', params['roomId'] ?? ''),
    }),
  });
}

export function setRoomTagEndpoint(accountData: AccountDataService): Endpoint {
  return defineEndpoint({
    method: 'PUT',
    path: TAG_PATH,
    auth: 'required',
    body: tagBody,
    rateLimit: 'account_data',
    operationId: 'setRoomTag',
    handler: async ({ params, body, auth }) => {
      await accountData.setTag(auth.userId, params['userId'] ?? '', params['roomId'] ?? '', params['tag'] ?? '', body);
      return {};
    },
  });
}

export function deleteRoomTagEndpoint(accountData: AccountDataService): Endpoint {
  return defineEndpoint({
    method: 'DELETE',
    path: TAG_PATH,
    auth: 'required',
    rateLimit: 'account_data',
    operationId: 'deleteRoomTag',
    handler: async ({ params, auth }) => {
      await accountData.deleteTag(auth.userId, params['userId'] ?? '', params['roomId'] ?? '', params['tag'] ?? '');
      return {};
    },
  });
}
