// POST /_matrix/client/v3/user_directory/search (client-server § "User directory";
// users.yaml `searchUserDirectory`).

import { defineEndpoint, jsonBody, type Endpoint } from '../../../http/define-endpoint.ts';
import type { JsonObject } from '../../../rooms/json.ts';
import { DEFAULT_DIRECTORY_LIMIT, type UserDirectoryService } from '../../user-directory/user-directory-service.ts';

const BODY = {
  type: 'object',
  required: ['search_term'],
  properties: {
    search_term: { type: 'string' },
    limit: { type: 'integer', minimum: 0 },
  },
};

type Body = JsonObject & { search_term: string; limit?: number };

export function searchUserDirectoryEndpoint(directory: UserDirectoryService): Endpoint {
  return defineEndpoint({
    method: 'POST',
    path: '/_matrix/client/v3/user_directory/search',
    auth: 'required',
    operationId: 'searchUserDirectory',
    body: jsonBody<Body>(BODY),
    handler: async ({ body, auth }) => {
      const found = await directory.search(auth.userId, body.search_term, body.limit ?? DEFAULT_DIRECTORY_LIMIT);
      return {
        results: found.results.map((u) => ({
          user_id: u.userId,
          ...(u.displayName === undefined ? {} : { display_name: u.displayName }),
          ...(u.avatarUrl === undefined ? {} : { avatar_url: u.avatarUrl }),
        })),
        limited: found.limited,
      };
    },
  });
}
