// The discovery endpoints of the client listener.
import type { StoaConfig } from '../../../config/types.ts';
import type { Endpoint } from '../../../http/define-endpoint.ts';
import { versionsEndpoint } from './versions.ts';
import { wellKnownClientEndpoint } from './well-known-client.ts';

export { SUPPORTED_SPEC_VERSIONS, versionsEndpoint } from './versions.ts';
export { wellKnownClientEndpoint } from './well-known-client.ts';

export function discoveryEndpoints(config: Pick<StoaConfig, 'public_baseurl'>): Endpoint[] {
  return [versionsEndpoint, wellKnownClientEndpoint(config)];
}
