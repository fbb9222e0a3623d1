// POST /_matrix/federation/v1/get_missing_events/{roomId} (server-server § "Backfilling and
// retrieving missing events", backfill.yaml getMissingPreviousEvents): a walk back from the
// prev_events of `latest_events`, skipping `earliest_events` and events below `min_depth`,
// up to `limit` (default 10), for a server in the room.

import { defineEndpoint, jsonBody, type Endpoint } from '../../../http/define-endpoint.ts';
import type { JsonObject } from '../../../rooms/json.ts';
import type { ReadDeps } from './common.ts';
import { asVisibleTo, walkBackwards } from './dag-walk.ts';

export const DEFAULT_MISSING_EVENTS_LIMIT = 10;
/** Larger limits are capped: each event costs a lookup, and the requester can ask again. */
export const MAX_MISSING_EVENTS_LIMIT = 50;

interface MissingEventsBody extends JsonObject {
  earliest_events: string[];
  latest_events: string[];
  limit?: number;
  min_depth?: number;
}

const bodySchema = {
  type: 'object',
  required: ['earliest_events', 'latest_events'],
  properties: {
    earliest_events: { type: 'array', items: { type: 'string' }, maxItems: 1000 },
    latest_events: { type: 'array', items: { type: 'string' }, maxItems: 100 },
    limit: { type: 'integer' },
    min_depth: { type: 'integer' },
  },
};

export function getMissingEventsEndpoint(deps: ReadDeps): Endpoint {
  return defineEndpoint({
    method: 'POST',
    path: '/_matrix/federation/v1/get_missing_events/:roomId',
    auth: 'federation',
    operationId: 'getMissingPreviousEvents',
    body: jsonBody<MissingEventsBody>(bodySchema),
    handler: async ({ params, body, auth }) => {
      const roomId = params['roomId'] ?? '';
      await deps.access.assertMayReadRoom(roomId, auth.serverName);
      const limit = Math.max(0, Math.min(body.limit ?? DEFAULT_MISSING_EVENTS_LIMIT, MAX_MISSING_EVENTS_LIMIT));
      const events = await walkBackwards(deps, {
        roomId,
        from: body.latest_events,
        includeStart: false,
        stopAt: new Set(body.earliest_events),
        minDepth: body.min_depth ?? 0,
        limit,
      });
      return { events: await asVisibleTo(deps, events, auth.serverName) };
    },
  });
}
