// GET /_matrix/federation/v1/version (data/api/server-server/version.yaml). Unauthenticated:
// peers and federation testers call it without signing.

import { defineEndpoint, type Endpoint } from '../../http/define-endpoint.ts';
import { SOFTWARE_NAME, SOFTWARE_VERSION } from '../../http/server-info.ts';

export const federationVersionEndpoint: Endpoint = defineEndpoint({
  method: 'GET',
  path: '/_matrix/federation/v1/version',
  auth: 'none',
  operationId: 'getVersion',
  handler: () => ({ server: { name: SOFTWARE_NAME, version: SOFTWARE_VERSION } }),
});
