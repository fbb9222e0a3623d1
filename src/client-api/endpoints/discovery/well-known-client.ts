// GET /.well-known/matrix/client (client-server § "Well-known URIs",
// data/api/client-server/wellknown.yaml): where clients find the client-server API.

import type { StoaConfig } from '../../../config/types.ts';
import { defineEndpoint, type Endpoint } from '../../../http/define-endpoint.ts';

export function wellKnownClientEndpoint(config: Pick<StoaConfig, 'public_baseurl'>): Endpoint {
  return defineEndpoint({
    method: 'GET',
    path: '/.well-known/matrix/client',
    auth: 'none',
    operationId: 'getWellknown',
    handler: () => ({ 'm.homeserver': { base_url: config.public_baseurl } }),
  });
}
