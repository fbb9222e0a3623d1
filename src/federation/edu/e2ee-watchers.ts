// Who on this server cares about a remote user's devices and keys: the local users sharing
// a room with them. A device-list or signing-key EDU about a user nobody here shares a room
// with is ignored (as Synapse does: we would never be asked about them, and a peer could
// otherwise fill our cache with users of its choosing). When something changed, the remote
// user gets a position in the device-list stream so those local users' /sync lists them in
// `device_lists.changed` and their clients query the keys again.

import { serverNameOf } from '../../rooms/identifiers.ts';
import type { StoaDatabase } from '../../storage/database.ts';
import { E2eeDeviceListsRepository } from '../../storage/e2ee-device-lists-repository.ts';
import type { E2eeStream } from '../../storage/e2ee-streams.ts';
import { SyncRepository } from '../../storage/sync-repository.ts';

export class RemoteUserWatchers {
  readonly #serverName: string;
  readonly #sync: SyncRepository;
  readonly #deviceLists: E2eeDeviceListsRepository;
  readonly #stream: E2eeStream;
  readonly #clock: () => number;

  constructor(deps: { readonly serverName: string; readonly db: StoaDatabase; readonly stream: E2eeStream; readonly clock: () => number }) {
    this.#serverName = deps.serverName;
    this.#sync = new SyncRepository(deps.db);
    this.#deviceLists = new E2eeDeviceListsRepository(deps.db.kysely);
    this.#stream = deps.stream;
    this.#clock = deps.clock;
  }

  /** Local users sharing a room with `userId`. */
  async of(userId: string): Promise<string[]> {
    const sharing = await this.#sync.usersSharingRooms(userId);
    return [...sharing].filter((user) => serverNameOf(user) === this.#serverName);
  }

  /** Appends "`userId` changed" to the device-list stream and wakes the watchers' syncs. */
  async announce(userId: string): Promise<number> {
    const watchers = await this.of(userId);
    return this.#stream.write(async () => {
      const position = await this.#deviceLists.appendChanges([userId], this.#clock());
      return { position, scope: { users: watchers }, result: position };
    });
  }
}
