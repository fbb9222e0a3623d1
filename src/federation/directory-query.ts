// Room alias lookups between servers (server-server § "Querying for information",
// query.yaml `queryRoomDirectory`): GET /_matrix/federation/v1/query/directory
// answers for our own aliases with the room ID and the servers in the room; the client half
// asks an alias's server, for joins by a remote alias.

import { defineEndpoint, type Endpoint } from '../http/define-endpoint.ts';
import { invalidParam, MatrixError, missingParam, notFound } from '../http/matrix-error.ts';
import { isValidRoomAlias, serverNameOf } from '../rooms/identifiers.ts';
import { getField } from '../rooms/json.ts';
import type { Roomserver } from '../roomserver/index.ts';
import type { AliasesRepository } from '../storage/aliases-repository.ts';
import { FederationRequestError, RemoteMatrixError } from './client/errors.ts';
import type { FederationClient } from './client/federation-client.ts';

export interface DirectoryQueryDeps {
  readonly serverName: string;
  readonly aliases: Pick<AliasesRepository, 'find'>;
  readonly roomserver: Pick<Roomserver, 'members'>;
}

/** The servers with joined members, ours first (we certainly hold the room). */
async function residentServers(roomserver: Pick<Roomserver, 'members'>, roomId: string, ours: string): Promise<string[]> {
  const servers = new Set<string>([ours]);
  for (const member of await roomserver.members(roomId, 'join')) {
    const server = serverNameOf(member);
    if (server !== undefined && server !== '') servers.add(server);
  }
  return [...servers];
}

export function directoryQueryEndpoint(deps: DirectoryQueryDeps): Endpoint {
  return defineEndpoint({
    method: 'GET',
    path: '/_matrix/federation/v1/query/directory',
    auth: 'federation',
    operationId: 'queryRoomDirectory',
    handler: async ({ query }) => {
      const alias = query.get('room_alias');
      if (alias === null) throw missingParam('room_alias is required');
      if (!isValidRoomAlias(alias)) throw invalidParam('room_alias is not a room alias');
      const found = serverNameOf(alias) === deps.serverName ? await deps.aliases.find(alias) : undefined;
      if (found === undefined) throw notFound('Room alias not found');
      return { room_id: found.roomId, servers: await residentServers(deps.roomserver, found.roomId, deps.serverName) };
    },
  });
}

export interface ResolvedRemoteAlias {
  readonly roomId: string;
  readonly servers: readonly string[];
}

/** The client half: asks the alias's server. Matches the client API's `RemoteAliasResolver`. */
export class RemoteDirectory {
  readonly #client: Pick<FederationClient, 'get'>;
  readonly #serverName: string;

  constructor(client: Pick<FederationClient, 'get'>, serverName: string) {
    this.#client = client;
    this.#serverName = serverName;
  }

  /**
   * undefined when the alias's server has no such alias. When that server cannot be asked
   * (unreachable, or an answer we cannot use), a 502 M_UNKNOWN MatrixError, as Synapse
   * answers: the client's request was fine, the remote was not.
   */
  async resolve(alias: string): Promise<ResolvedRemoteAlias | undefined> {
    const server = serverNameOf(alias);
    if (server === undefined || server === '' || server === this.#serverName) return undefined;
    let response;
    try {
      response = await this.#client.get(server, '/_matrix/federation/v1/query/directory', { room_alias: alias });
    } catch (err) {
      if (err instanceof RemoteMatrixError && err.status === 404) return undefined;
      if (err instanceof FederationRequestError) throw new MatrixError(502, 'M_UNKNOWN', `Could not ask ${server} about ${alias}: ${err.message}`);
      throw err;
    }
    const roomId = getField(response, 'room_id');
    const servers = getField(response, 'servers');
    if (typeof roomId !== 'string' || !roomId.startsWith('!')) return undefined;
    const list = Array.isArray(servers) ? servers.filter((s): s is string => typeof s === 'string') : [];
    return { roomId, servers: list.includes(server) ? list : [...list, server] };
  }
}
