// GET /_matrix/client/v3/user/{userId}/filter/{filterId} (client-server § "Filtering",
// filter.yaml `getFilter`): the filter as uploaded; 404 for an unknown one.

import { defineEndpoint, type Endpoint } from '../../../http/define-endpoint.ts';
import { forbidden, notFound } from '../../../http/matrix-error.ts';
import type { JsonObject } from '../../../rooms/json.ts';
import type { FiltersRepository } from '../../../storage/index.ts';

export function getFilterEndpoint(filters: FiltersRepository): Endpoint {
  return defineEndpoint({
    method: 'GET',
    path: '/_matrix/client/v3/user/:userId/filter/:filterId',
    auth: 'required',
    operationId: 'getFilter',
    async handler({ params, auth }) {
      if (params['userId'] !== auth.userId) throw forbidden('Cannot read filters of other users');
      const json = await filters.get(auth.userId, params['filterId'] ?? '');
      if (json === undefined) throw notFound('No such filter');
      return JSON.parse(json) as JsonObject;
    },
  });
}
