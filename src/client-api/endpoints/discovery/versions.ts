// GET /_matrix/client/versions (client-server § "API Versions", data/api/client-server/versions.yaml).
// Unauthenticated here: Stoa has no per-user unstable features, so a token changes nothing.

import { defineEndpoint, type Endpoint } from '../../../http/define-endpoint.ts';

/**
 * The v1.x releases up to the one Stoa implements (v1.19). The r0 releases are not listed:
 * they name `/r0/` paths, which Stoa does not serve; every current client speaks v1.x.
 */
export const SUPPORTED_SPEC_VERSIONS: readonly string[] = Array.from({ length: 19 }, (_, i) => `v1.${i + 1}`);

export const versionsEndpoint: Endpoint = defineEndpoint({
  method: 'GET',
  path: '/_matrix/client/versions',
  auth: 'none',
  operationId: 'getVersions',
  handler: () => ({ versions: [...SUPPORTED_SPEC_VERSIONS], unstable_features: {} }),
});
