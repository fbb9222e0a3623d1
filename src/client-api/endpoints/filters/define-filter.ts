// POST /_matrix/client/v3/user/{userId}/filter (client-server § "Filtering", filter.yaml
// `defineFilter`): validates the filter, stores it once per user and content, returns its ID.

import { ANY_JSON_OBJECT, defineEndpoint, type Endpoint } from '../../../http/define-endpoint.ts';
import { forbidden } from '../../../http/matrix-error.ts';
import { canonicalJson } from '../../../rooms/canonical-json.ts';
import type { FiltersRepository } from '../../../storage/index.ts';
import { parseSyncFilter } from '../../filters/sync-filter.ts';

export function defineFilterEndpoint(filters: FiltersRepository, clock: () => number): Endpoint {
  return defineEndpoint({
    method: 'POST',
    path: '/_matrix/client/v3/user/:userId/filter',
    auth: 'required',
    body: ANY_JSON_OBJECT,
    operationId: 'defineFilter',
    async handler({ params, body, auth }) {
      // "The access token must be authorised to make requests for this user id."
      if (params['userId'] !== auth.userId) throw forbidden('Cannot create filters for other users');
      parseSyncFilter(body);
      return { filter_id: await filters.save(auth.userId, canonicalJson(body), clock()) };
    },
  });
}
