// GET /_matrix/federation/v1/backfill/{roomId}?v=…&limit=… (server-server § "Backfilling and
// retrieving missing events", backfill.yaml backfillRoom): the events in `v` and those
// before them, up to `limit`, in a transaction envelope, for a server in the room.

import { defineEndpoint, type Endpoint } from '../../../http/define-endpoint.ts';
import { invalidParam, missingParam } from '../../../http/matrix-error.ts';
import { transactionOf, type ReadDeps } from './common.ts';
import { asVisibleTo, walkBackwards } from './dag-walk.ts';

/** More than this per request is capped, not refused: the requester asks again from where we stopped. */
export const MAX_BACKFILL_LIMIT = 100;

export function backfillEndpoint(deps: ReadDeps): Endpoint {
  return defineEndpoint({
    method: 'GET',
    path: '/_matrix/federation/v1/backfill/:roomId',
    auth: 'federation',
    operationId: 'backfillRoom',
    handler: async ({ params, query, auth }) => {
      const roomId = params['roomId'] ?? '';
      const from = query.getAll('v').filter((v) => v !== '');
      if (from.length === 0) throw missingParam('v (the event IDs to backfill from) is required');
      const limitText = query.get('limit');
      if (limitText === null) throw missingParam('limit is required');
      if (!/^\d{1,9}$/.test(limitText)) throw invalidParam('limit must be a non-negative integer');
      await deps.access.assertMayReadRoom(roomId, auth.serverName);
      const events = await walkBackwards(deps, {
        roomId,
        from,
        includeStart: true,
        limit: Math.min(Number(limitText), MAX_BACKFILL_LIMIT),
      });
      return transactionOf(deps, await asVisibleTo(deps, events, auth.serverName));
    },
  });
}
