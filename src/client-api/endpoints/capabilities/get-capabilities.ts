// GET /_matrix/client/v3/capabilities (client-server § "Capabilities negotiation",
// capabilities.yaml `getCapabilities`). Every room version Stoa implements is stable.

import { defineEndpoint, type Endpoint } from '../../../http/define-endpoint.ts';
import type { JsonObject } from '../../../rooms/json.ts';
import { DEFAULT_ROOM_VERSION, ROOM_VERSIONS } from '../../../rooms/room-versions.ts';

export function capabilities(): JsonObject {
  const available: JsonObject = {};
  for (const version of ROOM_VERSIONS.keys()) available[version] = 'stable';
  return {
    'm.change_password': { enabled: true },
    'm.room_versions': { default: DEFAULT_ROOM_VERSION, available },
    // Deprecated in favour of m.profile_fields, which must agree with them.
    'm.set_displayname': { enabled: true },
    'm.set_avatar_url': { enabled: true },
    'm.profile_fields': { enabled: true },
    // No third-party identifiers, no login-token flow, no forced forgetting.
    'm.3pid_changes': { enabled: false },
    'm.get_login_token': { enabled: false },
    'm.forget_forced_upon_leave': { enabled: false },
  };
}

export const getCapabilitiesEndpoint: Endpoint = defineEndpoint({
  method: 'GET',
  path: '/_matrix/client/v3/capabilities',
  auth: 'required',
  operationId: 'getCapabilities',
  handler: () => ({ capabilities: capabilities() }),
});
