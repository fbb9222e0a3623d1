// GET /_matrix/client/versions (client-server § "API Versions", data/api/client-server/versions.yaml).
// Unauthenticated here: Stoa has no per-user unstable features, so a token changes nothing.

import { defineEndpoint, type Endpoint } from '../../../http/define-endpoint.ts';

/**
 * The v1.x releases up to the one Stoa implements (v1.19). The r0 releases are not listed:
 * the `/r0/` paths are served only as aliases for old clients (endpoints/legacy-r0), and
 * Stoa does not promise r0's behaviour where v1.x changed it; every current client speaks v1.x.
 */
export const SUPPORTED_SPEC_VERSIONS: readonly string[] = Array.from({ length: 19 }, (_, i) => `v1.${i + 1}`);

/**
 * Unstable features clients probe for. `org.matrix.simplified_msc3575`: simplified sliding
 * sync (MSC4186), without which Element X refuses the server.
 */
export const UNSTABLE_FEATURES: Readonly<Record<string, boolean>> = { 'org.matrix.simplified_msc3575': true };

export const versionsEndpoint: Endpoint = defineEndpoint({
  method: 'GET',
  path: '/_matrix/client/versions',
  auth: 'none',
  operationId: 'getVersions',
  handler: () => ({ versions: [...SUPPORTED_SPEC_VERSIONS], unstable_features: { ...UNSTABLE_FEATURES } }),
});
