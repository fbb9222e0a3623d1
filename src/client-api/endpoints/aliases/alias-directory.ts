// Room aliases as one service for the alias endpoints, joins and knocks by alias, createRoom
// and the canonical-alias check on state sends (client-server § "Room aliases").
//
// Aliases of this server live in `room_aliases`; aliases of other servers are resolved over
// federation (`GET /_matrix/federation/v1/query/directory`) through an injected resolver,
// which the federation side provides. Without one, remote aliases are "not found".

import type { AppServices } from '../../../appservice/service.ts';
import { invalidParam } from '../../../http/matrix-error.ts';
import { isValidRoomAlias, serverNameOf } from '../../../rooms/identifiers.ts';
import type { Roomserver } from '../../../roomserver/index.ts';
import { AliasesRepository } from '../../../storage/aliases-repository.ts';
import type { StoaDatabase } from '../../../storage/index.ts';

export interface ResolvedAlias {
  readonly roomId: string;
  /** Servers that know the room, to join through. */
  readonly servers: readonly string[];
}

/** Extension point: the federation directory query for aliases of other servers. */
export interface RemoteAliasResolver {
  /** undefined when the alias's server answers that it has no such alias. */
  resolve(alias: string): Promise<ResolvedAlias | undefined>;
}

export interface AliasDirectoryOptions {
  readonly db: StoaDatabase;
  readonly roomserver: Roomserver;
  readonly serverName: string;
  readonly clock: () => number;
  readonly remote?: RemoteAliasResolver;
  /** Application services: exclusive alias namespaces, and the alias query for unknown ones. */
  readonly appServices?: AppServices | undefined;
}

export class AliasDirectory {
  readonly #repo: AliasesRepository;
  readonly #roomserver: Roomserver;
  readonly #serverName: string;
  readonly #clock: () => number;
  readonly #remote: RemoteAliasResolver | undefined;
  readonly #appServices: AppServices | undefined;

  constructor(options: AliasDirectoryOptions) {
    this.#repo = new AliasesRepository(options.db.kysely);
    this.#roomserver = options.roomserver;
    this.#serverName = options.serverName;
    this.#clock = options.clock;
    this.#remote = options.remote;
    this.#appServices = options.appServices;
  }

  get serverName(): string {
    return this.#serverName;
  }

  /** Throws 400 M_INVALID_PARAM unless `alias` follows "Room Aliases" grammar. */
  checkSyntax(alias: string): void {
    if (!isValidRoomAlias(alias)) throw invalidParam(`Invalid room alias: ${JSON.stringify(alias)}`);
  }

  isLocal(alias: string): boolean {
    return serverNameOf(alias) === this.#serverName;
  }

  /** Throws 400 M_INVALID_PARAM unless `alias` is valid and belongs to this server. */
  checkLocal(alias: string): void {
    this.checkSyntax(alias);
    if (!this.isLocal(alias)) throw invalidParam('Room alias must be on this server');
  }

  /** Whether `resolve` can answer for `alias` (remote aliases need the federation resolver). */
  canResolve(alias: string): boolean {
    return this.isLocal(alias) || this.#remote !== undefined;
  }

  /** The room an alias points to, here or (through the resolver) on its own server. */
  async resolve(alias: string): Promise<ResolvedAlias | undefined> {
    if (!this.isLocal(alias)) return this.#remote?.resolve(alias);
    let stored = await this.#repo.find(alias);
    // An application service may create an alias in its namespace when asked (§ "Querying").
    if (stored === undefined && (await this.#appServices?.queryAlias(alias)) === true) stored = await this.#repo.find(alias);
    if (stored === undefined) return undefined;
    return { roomId: stored.roomId, servers: await this.#serversIn(stored.roomId) };
  }

  /** The local mapping with its creator, undefined when none. */
  find(alias: string): ReturnType<AliasesRepository['find']> {
    return this.#repo.find(alias);
  }

  /** 400 M_EXCLUSIVE when `alias` is in an application service's exclusive namespace and `creator` is not its user. */
  checkExclusive(alias: string, creator: string): void {
    this.#appServices?.checkAliasAllowed(alias, creator, undefined);
  }

  /** false when the alias is taken; M_EXCLUSIVE as checkExclusive. */
  async create(alias: string, roomId: string, creator: string): Promise<boolean> {
    this.checkExclusive(alias, creator);
    return this.#repo.create({ alias, roomId, creator, createdTs: this.#clock() });
  }

  delete(alias: string): Promise<boolean> {
    return this.#repo.delete(alias);
  }

  localAliases(roomId: string): Promise<string[]> {
    return this.#repo.aliasesOf(roomId);
  }

  /** This server first, then every other server with a joined member. */
  async #serversIn(roomId: string): Promise<string[]> {
    const servers = new Set<string>([this.#serverName]);
    for (const member of await this.#roomserver.members(roomId, 'join')) {
      const server = serverNameOf(member);
      if (server !== undefined) servers.add(server);
    }
    return [...servers];
  }
}
