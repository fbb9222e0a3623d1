// GET /_matrix/client/v1/room_summary/{roomIdOrAlias} (room_summary.yaml `getRoomSummary`;
// client-server § "Room Summaries"). A room this server is in is summarised from its
// current state; another is asked of the `via` servers (and an alias's servers) through
// the federation hierarchy of that room, as Synapse does (and of the servers of the
// caller's pending invite or knock). The caller sees it when they
// are joined, invited or knocking, or when anyone could preview it (see
// RoomDirectoryQueries.userMayPreview); an anonymous caller only in the latter case.
// Anything else is 404 M_NOT_FOUND, so rooms cannot be probed.

import { defineEndpoint, type Endpoint, type EndpointRequest, type Requester } from '../../../http/define-endpoint.ts';
import { invalidParam, notFound } from '../../../http/matrix-error.ts';
import { isValidServerName } from '../../../rooms/identifiers.ts';
import type { JsonObject } from '../../../rooms/json.ts';
import type { RoomDirectoryQueries } from '../../../roomserver/directory/room-directory.ts';
import { roomSummaryJson, type RoomSummary } from '../../../roomserver/directory/summary.ts';
import type { RemoteRoomDirectory } from '../../directory/ports.ts';
import type { AliasDirectory } from '../aliases/alias-directory.ts';

export interface RoomSummaryDeps {
  readonly rooms: RoomDirectoryQueries;
  readonly aliases: AliasDirectory;
  readonly remote: RemoteRoomDirectory | undefined;
}

/** The stable path, and MSC3266's unstable one that matrix-js-sdk and Element still call. */
export function roomSummaryEndpoints(deps: RoomSummaryDeps): Endpoint[] {
  const handler = summaryHandler(deps);
  return [
    defineEndpoint({ method: 'GET', path: '/_matrix/client/v1/room_summary/:roomIdOrAlias', auth: 'optional', operationId: 'getRoomSummary', rateLimit: 'room_directory', handler }),
    defineEndpoint({ method: 'GET', path: '/_matrix/client/unstable/im.nheko.summary/summary/:roomIdOrAlias', auth: 'optional', rateLimit: 'room_directory', handler }),
  ];
}

function summaryHandler(deps: RoomSummaryDeps) {
  return async ({ params, query, auth }: EndpointRequest<Requester | undefined, undefined>): Promise<JsonObject> => {
    const target = params['roomIdOrAlias'] ?? '';
    const via = query.getAll('via');
    if (!via.every(isValidServerName)) throw invalidParam('via must hold server names');
    let roomId: string;
    if (target.startsWith('#')) {
      deps.aliases.checkSyntax(target);
      const resolved = deps.aliases.canResolve(target) ? await deps.aliases.resolve(target) : undefined;
      if (resolved === undefined) throw notFound('Room not found');
      roomId = resolved.roomId;
      for (const server of resolved.servers) if (!via.includes(server)) via.push(server);
    } else if (target.startsWith('!')) {
      roomId = target;
    } else {
      throw invalidParam('Expected a room ID or a room alias');
    }

    if (auth !== undefined) {
      for (const server of await deps.rooms.serversForPendingMembership(roomId, auth.userId)) if (!via.includes(server)) via.push(server);
    }
    const summary = await summarise(deps, roomId, via);
    const membership = auth === undefined ? undefined : await deps.rooms.membership(roomId, auth.userId);
    const member = membership === 'join' || membership === 'invite' || membership === 'knock';
    if (summary === undefined || !(member || (await deps.rooms.userMayPreview(summary, auth?.userId)))) {
      throw notFound('Room not found');
    }
    const body = roomSummaryJson(summary);
    if (auth !== undefined) body['membership'] = membership ?? 'leave';
    return body;
  };
}

async function summarise(deps: RoomSummaryDeps, roomId: string, via: readonly string[]): Promise<RoomSummary | undefined> {
  if (await deps.rooms.isResident(roomId)) return deps.rooms.summary(roomId);
  const servers = via.filter((server) => server !== deps.rooms.serverName);
  if (deps.remote !== undefined && servers.length > 0) {
    const answer = await deps.remote.hierarchy(roomId, servers, false);
    if (answer !== undefined && answer.room.summary.roomId === roomId) return answer.room.summary;
  }
  // Rooms we left or were invited to over federation: what state we hold is better than nothing.
  return deps.rooms.summary(roomId);
}
