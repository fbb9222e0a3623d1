// Device-list tracking (client-server § "Tracking the device list for a user"; server-server
// § "Device Management"). A change to a local user's devices or keys becomes one position of
// the device-list stream (`l`), wakes the syncs of everyone sharing a room with them, and
// goes to every other server sharing a room as an `m.device_list_update` EDU whose
// `prev_id` is the user's previous position, so receivers notice gaps.
//
// /sync's `device_lists` (and /keys/changes) between two tokens:
// - `changed`: users sharing a room now whose devices or keys changed, users who started to
//   share a room (they joined one of ours, or we joined one of theirs);
// - `left`: users who stopped sharing every room with us.

import type { Logger } from '../../logger.ts';
import { serverNameOf } from '../../rooms/identifiers.ts';
import type { JsonObject } from '../../rooms/json.ts';
import type { Roomserver } from '../../roomserver/index.ts';
import { SyncRepository, type StoaDatabase } from '../../storage/index.ts';
import { E2eeDeviceListsRepository } from '../../storage/e2ee-device-lists-repository.ts';
import { E2eeKeysRepository } from '../../storage/e2ee-keys-repository.ts';
import type { E2eeStream } from '../../storage/e2ee-streams.ts';
import type { SyncPosition } from '../sync/sync-token.ts';
import { streamPosition } from '../sync/sync-token.ts';
import type { E2eeFederation } from './federation-port.ts';

export interface DeviceListChanges {
  readonly changed: string[];
  readonly left: string[];
}

export interface DeviceListDeps {
  readonly db: StoaDatabase;
  readonly roomserver: Pick<Roomserver, 'roomsForUser' | 'members'>;
  readonly stream: E2eeStream;
  readonly serverName: string;
  readonly federation: E2eeFederation | undefined;
  readonly logger: Logger;
  readonly clock: () => number;
}

/** What changed about one device, for the EDU. */
export interface DeviceUpdate {
  readonly deviceId: string;
  readonly deleted: boolean;
  readonly displayName?: string | null;
}

export class DeviceListService {
  readonly #deps: DeviceListDeps;
  readonly #repo: E2eeDeviceListsRepository;
  readonly #keys: E2eeKeysRepository;
  readonly #sync: SyncRepository;

  constructor(deps: DeviceListDeps) {
    this.#deps = deps;
    this.#repo = new E2eeDeviceListsRepository(deps.db.kysely);
    this.#keys = new E2eeKeysRepository(deps.db.kysely);
    this.#sync = new SyncRepository(deps.db);
  }

  get streamKey(): string {
    return this.#deps.stream.streamKey;
  }

  currentPosition(): number {
    return this.#deps.stream.currentPosition();
  }

  onAdvance(listener: (position: number, scope?: { users?: readonly string[] }) => void): () => void {
    return this.#deps.stream.onAdvance(listener);
  }

  /**
   * Records that `userId`'s devices or keys changed and tells who needs to know: local
   * syncs through the stream, other servers through `m.device_list_update` (one per device
   * in `devices`) or `m.signing_key_update` (`signingKeys`).
   */
  async userChanged(userId: string, devices: readonly DeviceUpdate[] = [], signingKeys?: JsonObject): Promise<number> {
    const sharing = await this.#sync.usersSharingRooms(userId);
    const position = await this.#deps.stream.write(async () => {
      const written = await this.#repo.appendChanges([userId], this.#deps.clock());
      return { position: written, scope: { users: [...sharing] }, result: written };
    });
    if (this.#deps.federation !== undefined && serverNameOf(userId) === this.#deps.serverName) {
      await this.#notifyServers(userId, position, sharing, devices, signingKeys).catch((err: unknown) => {
        this.#deps.logger.warn({ err, user_id: userId }, 'could not queue device list updates');
      });
    }
    return position;
  }

  async #notifyServers(userId: string, position: number, sharing: ReadonlySet<string>, devices: readonly DeviceUpdate[], signingKeys: JsonObject | undefined): Promise<void> {
    const federation = this.#deps.federation;
    if (federation === undefined) return;
    const servers = new Set<string>();
    for (const user of sharing) {
      const server = serverNameOf(user);
      if (server !== undefined && server !== this.#deps.serverName) servers.add(server);
    }
    if (servers.size === 0) return;
    const previous = await this.#repo.latestFor(userId, position - 1);
    const edus: Array<{ type: string; content: JsonObject }> = [];
    for (const device of devices) {
      const content: JsonObject = { user_id: userId, device_id: device.deviceId, stream_id: position, prev_id: previous > 0 ? [previous] : [] };
      if (device.deleted) {
        content['deleted'] = true;
      } else {
        const keys = await this.#keys.findDeviceKeys(userId, device.deviceId);
        if (keys !== undefined) content['keys'] = JSON.parse(keys.keyJson) as JsonObject;
        if (typeof device.displayName === 'string') content['device_display_name'] = device.displayName;
      }
      edus.push({ type: 'm.device_list_update', content });
    }
    if (signingKeys !== undefined) edus.push({ type: 'm.signing_key_update', content: { user_id: userId, ...signingKeys } });
    for (const server of servers) {
      for (const edu of edus) await federation.sendEdu(server, edu.type, edu.content);
    }
  }

  /** `device_lists` between two sync positions (`since` undefined: an initial sync, nothing). */
  async changes(userId: string, since: SyncPosition | undefined, to: SyncPosition): Promise<DeviceListChanges> {
    if (since === undefined) return { changed: [], left: [] };
    const sharing = await this.#sync.usersSharingRooms(userId);
    const changed = new Set(
      await this.#repo.changedUsers(streamPosition(since, this.streamKey), streamPosition(to, this.streamKey), sharing),
    );
    const left = new Set<string>();

    // Membership changes in the rooms we are in, or were in during the window.
    const myChanges = await this.#sync.membershipChanges(userId, since.events, to.events);
    const rooms = new Set([...(await this.#deps.roomserver.roomsForUser(userId, 'join')), ...myChanges.map((c) => c.roomId)]);
    for (const event of await this.#repo.memberEventsInRooms([...rooms], since.events, to.events)) {
      const affected = event.userId === userId ? await this.#deps.roomserver.members(event.roomId, 'join') : [event.userId];
      for (const other of affected) {
        if (other === userId) continue;
        if (sharing.has(other)) {
          if (event.membership === 'join') changed.add(other);
        } else {
          left.add(other);
        }
      }
    }
    for (const user of left) changed.delete(user);
    return { changed: [...changed].sort(), left: [...left].sort() };
  }
}
