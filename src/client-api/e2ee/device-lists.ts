// Device-list tracking (client-server § "Tracking the device list for a user"; server-server
// § "Device Management"). A change to a local user's devices or keys becomes one position of
// the device-list stream (`l`), wakes the syncs of everyone sharing a room with them, and
// goes to every other server sharing a room as an `m.device_list_update` EDU whose
// `prev_id` is the user's previous position, so receivers notice gaps. A server that starts
// to share a room with a local user (the user joins a room it is in, or one of its users
// joins a room of ours) gets the user's devices too, as the spec asks, at the user's
// current position with no `prev_id`: it had nothing from us to follow on from.
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
import { E2eeKeyDirectory } from '../../storage/e2ee-key-directory.ts';
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
  readonly #directory: E2eeKeyDirectory;
  readonly #sync: SyncRepository;

  constructor(deps: DeviceListDeps) {
    this.#deps = deps;
    this.#repo = new E2eeDeviceListsRepository(deps.db.kysely);
    this.#directory = new E2eeKeyDirectory(deps.db.kysely);
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
    // The keys as other servers see them (signatures uploaded since merged in), so a server
    // answering from its cache hands out what we would.
    const current = devices.some((d) => !d.deleted)
      ? ((await this.#directory.query(new Map([[userId, devices.map((d) => d.deviceId)]]), undefined)).deviceKeys[userId] ?? {})
      : {};
    const edus: Array<{ type: string; content: JsonObject }> = [];
    for (const device of devices) {
      const content: JsonObject = { user_id: userId, device_id: device.deviceId, stream_id: position, prev_id: previous > 0 ? [previous] : [] };
      const keys = current[device.deviceId];
      if (device.deleted) {
        content['deleted'] = true;
      } else if (keys !== undefined) {
        Object.assign(content, deviceFields(keys));
      } else if (typeof device.displayName === 'string') {
        content['device_display_name'] = device.displayName;
      }
      edus.push({ type: 'm.device_list_update', content });
    }
    if (signingKeys !== undefined) edus.push({ type: 'm.signing_key_update', content: { user_id: userId, ...signingKeys } });
    for (const server of servers) {
      for (const edu of edus) await federation.sendEdu(server, edu.type, edu.content);
    }
  }

  /**
   * A membership change from the roomserver's output. On a join, servers newly sharing a
   * room with local users are sent those users' device lists (server-server § "Device
   * Management": updates go out "when that user joins a room which contains servers which
   * are not already receiving updates for that user's device list").
   */
  async membershipChanged(roomId: string, change: { readonly target: string; readonly membership: string; readonly previous: string | undefined }): Promise<void> {
    if (this.#deps.federation === undefined || change.membership !== 'join' || change.previous === 'join') return;
    const ours = this.#deps.serverName;
    const members = await this.#deps.roomserver.members(roomId, 'join');
    const targetServer = serverNameOf(change.target);
    if (targetServer === undefined) return;
    if (targetServer === ours) {
      const servers = new Set(members.map(serverNameOf).filter((s): s is string => s !== undefined && s !== ours));
      const fresh: string[] = [];
      for (const server of servers) {
        if ((await this.#repo.sharingRoomWithServer([change.target], server, roomId)).length === 0) fresh.push(server);
      }
      await this.#introduce(change.target, fresh);
    } else {
      // Only the first of its users to join brings a server into the room.
      if (members.some((m) => m !== change.target && serverNameOf(m) === targetServer)) return;
      const locals = members.filter((m) => serverNameOf(m) === ours);
      const already = new Set(await this.#repo.sharingRoomWithServer(locals, targetServer, roomId));
      for (const user of locals) if (!already.has(user)) await this.#introduce(user, [targetServer]);
    }
  }

  /** Sends `userId`'s devices to `servers`, which have nothing from us about them to follow on from. */
  async #introduce(userId: string, servers: readonly string[]): Promise<void> {
    const federation = this.#deps.federation;
    if (federation === undefined || servers.length === 0) return;
    const position = await this.#repo.latestFor(userId);
    const devices = (await this.#directory.query(new Map([[userId, []]]), undefined)).deviceKeys[userId] ?? {};
    for (const [deviceId, keys] of Object.entries(devices)) {
      const content: JsonObject = { user_id: userId, device_id: deviceId, stream_id: position, prev_id: [], ...deviceFields(keys) };
      for (const server of servers) await federation.sendEdu(server, 'm.device_list_update', content);
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

/** `keys` and `device_display_name` of an EDU from the directory's device keys (name in `unsigned`). */
function deviceFields(keys: Record<string, unknown>): JsonObject {
  const { unsigned, ...signed } = keys;
  const { device_display_name: name, ...otherUnsigned } = isRecord(unsigned) ? unsigned : {};
  const fields: JsonObject = { keys: (Object.keys(otherUnsigned).length > 0 ? { ...signed, unsigned: otherUnsigned } : signed) as JsonObject };
  if (typeof name === 'string') fields['device_display_name'] = name;
  return fields;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
