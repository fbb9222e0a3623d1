// The federation endpoints that need no room state: version, keys, delegation. main.ts puts
// these on the federation listener, and the key and delegation ones on the client listener
// too (peers and tools ask either port).

import type { StoaConfig } from '../../config/types.ts';
import type { SigningKey } from '../../crypto/signing-key.ts';
import type { Endpoint } from '../../http/define-endpoint.ts';
import { keyServerEndpoints } from './key-server.ts';
import { federationVersionEndpoint } from './version.ts';
import { wellKnownServerEndpoint } from './well-known-server.ts';

export { keyServerEndpoints, serverKeysDocument, type KeyServerDeps } from './key-server.ts';
export { federationVersionEndpoint } from './version.ts';
export { wellKnownServerEndpoint } from './well-known-server.ts';

export interface FoundationDeps {
  readonly config: StoaConfig;
  readonly signingKey: SigningKey;
  readonly now?: () => number;
}

/** For the federation listener. */
export function federationFoundationEndpoints(deps: FoundationDeps): Endpoint[] {
  return [federationVersionEndpoint, ...keyServerEndpoints(deps)];
}

/** The federation-side endpoints the client listener also serves. */
export function clientListenerFederationEndpoints(deps: FoundationDeps): Endpoint[] {
  return [wellKnownServerEndpoint(deps.config), ...keyServerEndpoints(deps)];
}
