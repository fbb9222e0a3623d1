// GET /_matrix/federation/v1/user/devices/{userId} (server-server § "Device Management",
// user_devices.yaml): one of our users' whole device list, with the position in our
// device-list stream it describes. A server that noticed a gap in our `m.device_list_update`
// EDUs (a `prev_id` it never saw) resynchronises from here and resumes from `stream_id`.
//
// The position is read before the devices: a change that lands in between makes the list
// newer than `stream_id`, never older, and the change's EDU (whose `prev_id` the receiver
// has then not seen) makes it resync again rather than miss something.

import { defineEndpoint, type Endpoint } from '../../../http/define-endpoint.ts';
import { invalidParam } from '../../../http/matrix-error.ts';
import { isValidUserId, serverNameOf } from '../../../rooms/identifiers.ts';
import type { JsonObject } from '../../../rooms/json.ts';
import type { E2eeDeviceListsRepository } from '../../../storage/e2ee-device-lists-repository.ts';
import type { E2eeKeyDirectory } from '../../../storage/e2ee-key-directory.ts';

export interface UserDevicesDeps {
  readonly serverName: string;
  readonly directory: Pick<E2eeKeyDirectory, 'query'>;
  readonly deviceLists: Pick<E2eeDeviceListsRepository, 'latestFor'>;
}

export function userDevicesEndpoint(deps: UserDevicesDeps): Endpoint {
  return defineEndpoint({
    method: 'GET',
    path: '/_matrix/federation/v1/user/devices/:userId',
    auth: 'federation',
    operationId: 'getUserDevices',
    handler: async ({ params }) => {
      const userId = params['userId'] ?? '';
      if (!isValidUserId(userId, { historical: true }) || serverNameOf(userId) !== deps.serverName) {
        throw invalidParam('userId is not a user of this server');
      }
      const streamId = await deps.deviceLists.latestFor(userId);
      const answer = await deps.directory.query(new Map([[userId, []]]), undefined);
      // A device that never uploaded keys is left out: the list is for encryption, and the
      // spec's device entry requires `keys`.
      const devices = Object.entries(answer.deviceKeys[userId] ?? {}).map(([deviceId, keys]) => deviceEntry(deviceId, keys));
      const response: JsonObject = { user_id: userId, stream_id: streamId, devices };
      const master = answer.masterKeys[userId];
      const selfSigning = answer.selfSigningKeys[userId];
      if (master !== undefined) response['master_key'] = master as JsonObject;
      if (selfSigning !== undefined) response['self_signing_key'] = selfSigning as JsonObject;
      return response;
    },
  });
}

/** The directory puts the display name into the keys' `unsigned`; here it has its own field. */
function deviceEntry(deviceId: string, keys: Record<string, unknown>): JsonObject {
  const { unsigned, ...signed } = keys;
  const entry: JsonObject = { device_id: deviceId, keys: signed as JsonObject };
  if (typeof unsigned === 'object' && unsigned !== null && !Array.isArray(unsigned)) {
    const { device_display_name: name, ...rest } = unsigned as Record<string, unknown>;
    if (typeof name === 'string') entry['device_display_name'] = name;
    if (Object.keys(rest).length > 0) (entry['keys'] as JsonObject)['unsigned'] = rest as JsonObject;
  }
  return entry;
}
