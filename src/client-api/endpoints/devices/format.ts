// A device as the spec's Device object (OpenAPI definitions/client_device.yaml): absent, not
// null, for what is unknown.

import type { JsonObject } from '../../../rooms/json.ts';
import type { StoredDevice } from '../../../storage/index.ts';

export function formatDevice(device: StoredDevice): JsonObject {
  const body: JsonObject = { device_id: device.deviceId };
  if (device.displayName !== null) body['display_name'] = device.displayName;
  if (device.lastSeenIp !== null) body['last_seen_ip'] = device.lastSeenIp;
  if (device.lastSeenTs !== null) body['last_seen_ts'] = device.lastSeenTs;
  return body;
}
