// GET /.well-known/matrix/server (server-server § "Resolving server names",
// data/api/server-server/wellknown.yaml): delegation of federation traffic to another
// host:port. Served only when the operator configured `well_known_server`; otherwise 404,
// which tells peers to carry on with SRV and the server name itself.

import type { StoaConfig } from '../../config/types.ts';
import { defineEndpoint, type Endpoint } from '../../http/define-endpoint.ts';
import { notFound } from '../../http/matrix-error.ts';

export function wellKnownServerEndpoint(config: Pick<StoaConfig, 'well_known_server'>): Endpoint {
  return defineEndpoint({
    method: 'GET',
    path: '/.well-known/matrix/server',
    auth: 'none',
    operationId: 'getWellKnown',
    handler: () => {
      if (config.well_known_server === undefined) throw notFound('No server delegation is configured');
      return { 'm.server': config.well_known_server };
    },
  });
}
