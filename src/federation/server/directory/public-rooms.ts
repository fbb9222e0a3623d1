// GET and POST /_matrix/federation/v1/publicRooms (server-server § "Public Room Directory",
// public_rooms.yaml): this server's published rooms, for other servers' users. The same
// page, filters and tokens as the Client-Server API's /publicRooms.

import { ANY_JSON_OBJECT, defineEndpoint, type Endpoint } from '../../../http/define-endpoint.ts';
import { invalidParam } from '../../../http/matrix-error.ts';
import { getField } from '../../../rooms/json.ts';
import { parsePublicRoomsRequest, type PublicRoomsRequest } from '../../../roomserver/directory/public-rooms.ts';
import type { RoomDirectoryQueries } from '../../../roomserver/directory/room-directory.ts';

const PATH = '/_matrix/federation/v1/publicRooms';

export function federationPublicRoomsEndpoints(rooms: RoomDirectoryQueries): Endpoint[] {
  const answer = async (request: PublicRoomsRequest) => {
    const parsed = parsePublicRoomsRequest(request);
    if (!parsed.ok) throw invalidParam(parsed.error);
    return rooms.publicRooms(parsed.query, parsed.thirdPartyNetwork);
  };
  return [
    defineEndpoint({
      method: 'GET',
      path: PATH,
      auth: 'federation',
      operationId: 'getPublicRooms',
      handler: ({ query }) =>
        answer({
          limit: query.get('limit') ?? undefined,
          since: query.get('since') ?? undefined,
          filter: undefined,
          includeAllNetworks: query.get('include_all_networks') ?? undefined,
          thirdPartyInstanceId: query.get('third_party_instance_id') ?? undefined,
        }),
    }),
    defineEndpoint({
      method: 'POST',
      path: PATH,
      auth: 'federation',
      body: ANY_JSON_OBJECT,
      operationId: 'queryPublicRooms',
      handler: ({ body }) =>
        answer({
          limit: getField(body, 'limit'),
          since: getField(body, 'since'),
          filter: getField(body, 'filter'),
          includeAllNetworks: getField(body, 'include_all_networks'),
          thirdPartyInstanceId: getField(body, 'third_party_instance_id'),
        }),
    }),
  ];
}
