// POST /_matrix/client/v3/search (client-server § "Server Side Search"; search.yaml `search`).
// The body schema follows search.yaml, with integers and enums enforced so a malformed
// request is M_BAD_JSON rather than a server error. `room_events` is the only category; a
// request without it gets an empty `search_categories`.

import { defineEndpoint, jsonBody, type Endpoint } from '../../../http/define-endpoint.ts';
import type { JsonObject } from '../../../rooms/json.ts';
import type { RoomEventsCriteria, SearchService } from '../../search/search-service.ts';

const nonNegativeInteger = { type: 'integer', minimum: 0 };

const SEARCH_BODY = {
  type: 'object',
  required: ['search_categories'],
  properties: {
    search_categories: {
      type: 'object',
      properties: {
        room_events: {
          type: 'object',
          required: ['search_term'],
          properties: {
            search_term: { type: 'string' },
            keys: { type: 'array', items: { enum: ['content.body', 'content.name', 'content.topic'] } },
            filter: { type: 'object' },
            order_by: { enum: ['recent', 'rank'] },
            event_context: {
              type: 'object',
              properties: {
                before_limit: nonNegativeInteger,
                after_limit: nonNegativeInteger,
                include_profile: { type: 'boolean' },
              },
            },
            include_state: { type: 'boolean' },
            groupings: {
              type: 'object',
              properties: {
                group_by: {
                  type: 'array',
                  items: { type: 'object', properties: { key: { enum: ['room_id', 'sender'] } } },
                },
              },
            },
          },
        },
      },
    },
  },
};

type SearchBody = JsonObject & { search_categories: { room_events?: RoomEventsCriteria } };

export function searchEndpoint(search: SearchService): Endpoint {
  return defineEndpoint({
    method: 'POST',
    path: '/_matrix/client/v3/search',
    auth: 'required',
    operationId: 'search',
    body: jsonBody<SearchBody>(SEARCH_BODY),
    handler: async ({ body, query, auth }) => {
      const criteria = body.search_categories.room_events;
      if (criteria === undefined) return { search_categories: {} };
      const nextBatch = query.get('next_batch') ?? undefined;
      return search.searchRoomEvents({ userId: auth.userId, deviceId: auth.deviceId }, criteria, nextBatch);
    },
  });
}
