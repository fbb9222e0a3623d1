// Enforces admin room blocks (PUT /_synapse/admin/v1/rooms/{roomId}/block, DELETE with
// `block`): as in Synapse, nobody of this server may join, knock on or be invited to a
// blocked room. The client API's membership endpoints are wrapped here rather than each
// taught about blocks; leaving, kicking and banning stay allowed.
//
// Only the client API is guarded: a remote server's join through federation (make_join /
// send_join) into a blocked room is not refused yet.

import type { Endpoint } from '../../http/define-endpoint.ts';
import { forbidden } from '../../http/matrix-error.ts';
import type { AdminRepository } from '../../storage/admin-repository.ts';
import type { AliasesRepository } from '../../storage/aliases-repository.ts';

const GUARDED: ReadonlyMap<string, string> = new Map([
  ['/_matrix/client/v3/rooms/:roomId/join', 'roomId'],
  ['/_matrix/client/v3/join/:roomIdOrAlias', 'roomIdOrAlias'],
  ['/_matrix/client/v3/knock/:roomIdOrAlias', 'roomIdOrAlias'],
  ['/_matrix/client/v3/rooms/:roomId/invite', 'roomId'],
]);

export function guardBlockedRooms(
  endpoints: readonly Endpoint[],
  deps: { readonly repository: Pick<AdminRepository, 'roomBlock'>; readonly aliases: Pick<AliasesRepository, 'find'> },
): Endpoint[] {
  return endpoints.map((endpoint) => {
    // The legacy r0 aliases of these endpoints are guarded alike.
    const param = endpoint.method === 'POST' ? GUARDED.get(endpoint.path.replace(/^\/_matrix\/client\/r0\//, '/_matrix/client/v3/')) : undefined;
    if (param === undefined) return endpoint;
    return {
      ...endpoint,
      handler: async (request) => {
        const target = request.params[param] ?? '';
        // Remote aliases resolve over federation inside the handler; a blocked room reached
        // that way is caught only by its room ID.
        const roomId = target.startsWith('#') ? (await deps.aliases.find(target))?.roomId : target;
        if (roomId !== undefined && (await deps.repository.roomBlock(roomId)) !== undefined) {
          throw forbidden('This room has been blocked on this server');
        }
        return endpoint.handler(request);
      },
    };
  });
}
