// POST /_matrix/client/v3/rooms/{roomId}/upgrade (room_upgrades.yaml `upgradeRoom`).

import { defineEndpoint, jsonBody, type Endpoint } from '../../../http/define-endpoint.ts';
import type { JsonObject } from '../../../rooms/json.ts';
import { roomIdParam } from '../rooms-read/params.ts';
import { RoomUpgrader, type RoomUpgraderDeps } from './room-upgrader.ts';

export { RoomUpgrader, type RoomListing, type RoomUpgraderDeps } from './room-upgrader.ts';
export { UpgradeFollower, type UpgradeFollowerDeps } from './upgrade-follower.ts';

interface UpgradeBody extends JsonObject {
  new_version: string;
  additional_creators?: string[];
}

const UPGRADE_BODY = jsonBody<UpgradeBody>({
  type: 'object',
  properties: {
    new_version: { type: 'string', minLength: 1 },
    additional_creators: { type: 'array', items: { type: 'string' } },
  },
  required: ['new_version'],
});

export function upgradeEndpoints(deps: RoomUpgraderDeps): Endpoint[] {
  const upgrader = new RoomUpgrader(deps);
  return [
    defineEndpoint({
      method: 'POST',
      path: '/_matrix/client/v3/rooms/:roomId/upgrade',
      auth: 'required',
      body: UPGRADE_BODY,
      rateLimit: 'create_room',
      operationId: 'upgradeRoom',
      handler: async ({ params, body, auth }) => {
        const replacement = await upgrader.upgrade({
          roomId: roomIdParam(params),
          upgrader: auth.userId,
          newVersion: body.new_version,
          ...(body.additional_creators === undefined ? {} : { additionalCreators: body.additional_creators }),
        });
        return { replacement_room: replacement };
      },
    }),
  ];
}
