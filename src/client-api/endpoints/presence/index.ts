// Presence (client-server § "Presence").
import type { Endpoint } from '../../../http/define-endpoint.ts';
import type { PresenceService } from '../../ephemeral/presence.ts';
import { getPresenceEndpoint, setPresenceEndpoint } from './presence-endpoints.ts';

export function presenceEndpoints(presence: PresenceService): Endpoint[] {
  return [getPresenceEndpoint(presence), setPresenceEndpoint(presence)];
}
