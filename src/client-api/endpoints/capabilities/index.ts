// Capabilities negotiation (client-server § "Capabilities negotiation").
import type { Endpoint } from '../../../http/define-endpoint.ts';
import { getCapabilitiesEndpoint } from './get-capabilities.ts';

export { capabilities } from './get-capabilities.ts';

export function capabilitiesEndpoints(): Endpoint[] {
  return [getCapabilitiesEndpoint];
}
