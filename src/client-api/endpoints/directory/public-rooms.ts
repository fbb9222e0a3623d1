// GET and POST /_matrix/client/v3/publicRooms (list_public_rooms.yaml `getPublicRooms`,
// `queryPublicRooms`; client-server § "Published room directory"). `server` names another
// server: its directory is asked over federation with the same method (server-server
// § "Public Room Directory"), and its answer passed on.

import { ANY_JSON_OBJECT, defineEndpoint, type Endpoint } from '../../../http/define-endpoint.ts';
import { invalidParam, MatrixError } from '../../../http/matrix-error.ts';
import { isValidServerName } from '../../../rooms/identifiers.ts';
import { getField, type JsonObject } from '../../../rooms/json.ts';
import { parsePublicRoomsRequest, type PublicRoomsRequest } from '../../../roomserver/directory/public-rooms.ts';
import type { RoomDirectoryQueries } from '../../../roomserver/directory/room-directory.ts';
import type { RemotePublicRoomsRequest, RemoteRoomDirectory } from '../../directory/ports.ts';

const PATH = '/_matrix/client/v3/publicRooms';

export interface PublicRoomsDeps {
  readonly rooms: RoomDirectoryQueries;
  readonly remote: RemoteRoomDirectory | undefined;
}

export function getPublicRoomsEndpoint(deps: PublicRoomsDeps): Endpoint {
  return defineEndpoint({
    method: 'GET',
    path: PATH,
    // The spec lists no security for GET: the directory is public.
    auth: 'optional',
    rateLimit: 'room_directory',
    operationId: 'getPublicRooms',
    handler: async ({ query }) =>
      answer(deps, 'GET', query.get('server'), {
        limit: query.get('limit') ?? undefined,
        since: query.get('since') ?? undefined,
        filter: undefined,
        includeAllNetworks: query.get('include_all_networks') ?? undefined,
        thirdPartyInstanceId: query.get('third_party_instance_id') ?? undefined,
      }),
  });
}

export function queryPublicRoomsEndpoint(deps: PublicRoomsDeps): Endpoint {
  return defineEndpoint({
    method: 'POST',
    path: PATH,
    auth: 'required',
    body: ANY_JSON_OBJECT,
    rateLimit: 'room_directory',
    operationId: 'queryPublicRooms',
    handler: async ({ query, body }) =>
      answer(deps, 'POST', query.get('server'), {
        limit: getField(body, 'limit'),
        since: getField(body, 'since'),
        filter: getField(body, 'filter'),
        includeAllNetworks: getField(body, 'include_all_networks'),
        thirdPartyInstanceId: getField(body, 'third_party_instance_id'),
      }),
  });
}

async function answer(deps: PublicRoomsDeps, method: 'GET' | 'POST', server: string | null, request: PublicRoomsRequest): Promise<JsonObject> {
  if (server !== null && server !== deps.rooms.serverName) {
    if (!isValidServerName(server)) throw invalidParam('server is not a server name');
    // The remote server's pagination tokens are its own; the rest is checked here.
    const checked = parsePublicRoomsRequest({ ...request, since: undefined });
    if (!checked.ok) throw invalidParam(checked.error);
    if (deps.remote === undefined) throw new MatrixError(400, 'M_INVALID_PARAM', 'Federation is disabled on this server');
    return deps.remote.publicRooms(server, method, remoteRequest(request));
  }
  const parsed = parsePublicRoomsRequest(request);
  if (!parsed.ok) throw invalidParam(parsed.error);
  return deps.rooms.publicRooms(parsed.query, parsed.thirdPartyNetwork);
}

/** What to forward: the client's own values (the remote's tokens are opaque to us). */
function remoteRequest(request: PublicRoomsRequest): RemotePublicRoomsRequest {
  const out: { -readonly [K in keyof RemotePublicRoomsRequest]: RemotePublicRoomsRequest[K] } = {};
  const limit = typeof request.limit === 'string' ? Number(request.limit) : request.limit;
  if (typeof limit === 'number' && Number.isSafeInteger(limit) && limit >= 0) out.limit = limit;
  if (typeof request.since === 'string' && request.since !== '') out.since = request.since;
  if (typeof request.filter === 'object' && request.filter !== null && !Array.isArray(request.filter)) out.filter = request.filter as JsonObject;
  if (request.includeAllNetworks === true || request.includeAllNetworks === 'true') out.includeAllNetworks = true;
  if (typeof request.thirdPartyInstanceId === 'string') out.thirdPartyInstanceId = request.thirdPartyInstanceId;
  return out;
}
