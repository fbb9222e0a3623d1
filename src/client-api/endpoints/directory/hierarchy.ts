// GET /_matrix/client/v1/rooms/{roomId}/hierarchy (space_hierarchy.yaml `getSpaceHierarchy`;
// client-server § "Spaces"). The walk and its pagination are SpaceHierarchy's.

import { defineEndpoint, type Endpoint } from '../../../http/define-endpoint.ts';
import { invalidParam } from '../../../http/matrix-error.ts';
import type { SpaceHierarchy } from '../../directory/space-hierarchy.ts';

export function spaceHierarchyEndpoint(hierarchy: SpaceHierarchy): Endpoint {
  return defineEndpoint({
    method: 'GET',
    path: '/_matrix/client/v1/rooms/:roomId/hierarchy',
    auth: 'required',
    // Walks may ask other servers (client-server § "Spaces": servers should rate limit).
    rateLimit: 'room_directory',
    operationId: 'getSpaceHierarchy',
    handler: async ({ params, query, auth }) => {
      const suggested = query.get('suggested_only');
      if (suggested !== null && suggested !== 'true' && suggested !== 'false') throw invalidParam('suggested_only must be true or false');
      const limit = integerParam(query.get('limit'), 'limit', 1);
      const maxDepth = integerParam(query.get('max_depth'), 'max_depth', 0);
      return hierarchy.page({
        userId: auth.userId,
        roomId: params['roomId'] ?? '',
        suggestedOnly: suggested === 'true',
        maxDepth,
        limit,
        from: query.get('from') ?? undefined,
      });
    },
  });
}

function integerParam(value: string | null, name: string, minimum: number): number | undefined {
  if (value === null) return undefined;
  const n = /^[0-9]{1,9}$/.test(value) ? Number(value) : Number.NaN;
  if (!(n >= minimum)) throw invalidParam(`${name} must be an integer of at least ${minimum}`);
  return n;
}
