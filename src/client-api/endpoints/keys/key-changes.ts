// GET /_matrix/client/v3/keys/changes (keys.yaml `getKeysChanges`): users whose device lists
// changed, or who stopped sharing rooms with the requester, between two sync tokens.

import { defineEndpoint, type Endpoint } from '../../../http/define-endpoint.ts';
import { missingParam } from '../../../http/matrix-error.ts';
import type { DeviceListService } from '../../e2ee/device-lists.ts';
import { parseSyncToken } from '../../sync/sync-token.ts';

export function keyChangesEndpoint(deviceLists: DeviceListService): Endpoint {
  return defineEndpoint({
    method: 'GET',
    path: '/_matrix/client/v3/keys/changes',
    auth: 'required',
    operationId: 'getKeysChanges',
    async handler({ auth, query }) {
      const from = query.get('from');
      const to = query.get('to');
      if (from === null || from === '') throw missingParam('from is required');
      if (to === null || to === '') throw missingParam('to is required');
      const changes = await deviceLists.changes(auth.userId, parseSyncToken(from, 'from'), parseSyncToken(to, 'to'));
      return { changed: changes.changed, left: changes.left };
    },
  });
}
