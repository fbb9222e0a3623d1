// m.device_list_update (server-server § "Device Management"): a remote user's device was
// added, changed or deleted. We keep a cache of the device lists of remote users who share a
// room with one of ours, with the remote `stream_id` last applied. An update applies when it
// follows on from that position (its `prev_id` names it); anything else — no cache yet, a
// `prev_id` we never saw, an empty `prev_id` — marks the cache stale and resynchronises it
// from the origin's GET /user/devices/{userId}. Either way the user gets a position in our
// device-list stream, so local users sharing a room see them in `device_lists.changed` and
// query their keys again.
//
// Updates are processed per user, in order, in the background: a resync is a request to
// the origin, and the origin's transaction should not wait for it. An update lost to a
// restart in between is recovered by the next one, whose `prev_id` we will not recognise.
//
// The cache is only as good as the updates we receive, and the origin sends them to servers
// sharing a room with the user. So once no local user shares a room with them any more (a
// leave, kick or ban, theirs or ours), their list is marked stale: should they share a room
// again, the list is fetched afresh before it is used (the client API's /keys/query answers
// from it, and resyncs through `resync` when it is stale or missing).

import type { Logger } from '../../logger.ts';
import { serverNameOf } from '../../rooms/identifiers.ts';
import { getField, isJsonObject, type JsonObject, type JsonValue } from '../../rooms/json.ts';
import type { E2eeDeviceListsRepository, RemoteDevice, RemoteDeviceListState } from '../../storage/e2ee-device-lists-repository.ts';
import type { E2eeKeysRepository } from '../../storage/e2ee-keys-repository.ts';
import type { NewRoomEvent } from '../../roomserver/output.ts';
import type { FederationClient } from '../client/federation-client.ts';
import type { EduHandler, ReceivedEdu } from '../server/edus.ts';
import { parseRemoteCrossSigningKey, type ParsedCrossSigningKey } from './e2ee-signing-keys.ts';
import type { RemoteUserWatchers } from './e2ee-watchers.ts';

export interface DeviceListUpdate {
  readonly userId: string;
  readonly deviceId: string;
  readonly streamId: number;
  readonly prevIds: readonly number[];
  readonly deleted: boolean;
  readonly displayName: string | null;
  /** The device keys as JSON text, or null when the update carries none. */
  readonly keyJson: string | null;
}

/** The update, or undefined when it is malformed (it is then ignored). */
export function parseDeviceListUpdate(content: JsonObject): DeviceListUpdate | undefined {
  const userId = getField(content, 'user_id');
  const deviceId = getField(content, 'device_id');
  const streamId = getField(content, 'stream_id');
  const prevId = getField(content, 'prev_id') ?? [];
  const deleted = getField(content, 'deleted') ?? false;
  const displayName = getField(content, 'device_display_name') ?? null;
  const keys = getField(content, 'keys') ?? null;
  if (typeof userId !== 'string' || typeof deviceId !== 'string' || deviceId === '') return undefined;
  if (!isStreamId(streamId) || !Array.isArray(prevId) || !prevId.every(isStreamId)) return undefined;
  if (typeof deleted !== 'boolean' || (displayName !== null && typeof displayName !== 'string')) return undefined;
  if (keys !== null && !deviceKeysBelongTo(keys, userId, deviceId)) return undefined;
  return {
    userId,
    deviceId,
    streamId,
    prevIds: prevId,
    deleted,
    displayName,
    keyJson: keys === null ? null : JSON.stringify(keys),
  };
}

export type DeviceListDecision = 'apply' | 'resync' | 'ignore';

/**
 * What to do with an update given the cache's state. Updates from a server emitting in
 * series name exactly the last update as their one `prev_id`; that is what is accepted.
 * An update at the cache's own position is a sibling of the one applied (one change can
 * cover several devices, each its own EDU with the same `stream_id`) and applies too;
 * anything older is ignored.
 */
export function decideDeviceListUpdate(state: RemoteDeviceListState | undefined, streamId: number, prevIds: readonly number[]): DeviceListDecision {
  if (state === undefined || state.stale) return 'resync';
  if (streamId < state.streamId) return 'ignore';
  if (streamId === state.streamId) return 'apply';
  if (prevIds.length === 0) return 'resync';
  return prevIds.every((id) => id === state.streamId) ? 'apply' : 'resync';
}

export interface DeviceListUpdateDeps {
  readonly deviceLists: Pick<
    E2eeDeviceListsRepository,
    'remoteState' | 'applyRemoteUpdate' | 'markRemoteStale' | 'replaceRemoteDevices' | 'trackedAmong'
  >;
  readonly keys: Pick<E2eeKeysRepository, 'setCrossSigningKeys'>;
  readonly watchers: Pick<RemoteUserWatchers, 'of' | 'announce'>;
  readonly client: Pick<FederationClient, 'get'>;
  /** The joined members of a room, for a local user's leave. */
  readonly members?: (roomId: string) => Promise<readonly string[]>;
  readonly serverName?: string;
  readonly logger: Logger;
  readonly clock: () => number;
}

export class DeviceListUpdateEduHandler implements EduHandler {
  readonly #deps: DeviceListUpdateDeps;
  /** The tail of each user's queue of updates. */
  readonly #queues = new Map<string, Promise<void>>();
  #closed = false;

  constructor(deps: DeviceListUpdateDeps) {
    this.#deps = deps;
  }

  async handle(edu: ReceivedEdu): Promise<void> {
    const update = parseDeviceListUpdate(edu.content);
    if (update === undefined) {
      this.#deps.logger.info({ origin: edu.origin }, 'm.device_list_update ignored: malformed');
      return;
    }
    // The dispatcher has checked that the user is one of the origin's.
    if (this.#closed) return;
    if ((await this.#deps.watchers.of(update.userId)).length === 0) {
      this.#deps.logger.debug({ origin: edu.origin, user_id: update.userId }, 'm.device_list_update ignored: no local user shares a room');
      // A cached list that misses this update is out of date.
      if ((await this.#deps.deviceLists.trackedAmong([update.userId])).length > 0) {
        await this.#deps.deviceLists.markRemoteStale(update.userId, this.#deps.clock());
      }
      return;
    }
    // Checked again: close() may have begun while we looked the watchers up.
    if (this.#closed) return;
    this.#enqueue(update.userId, () => this.#process(edu.origin, update));
  }

  /**
   * Fetches a remote user's whole list from their server, queued behind the updates being
   * processed for them, unless it is current by then (concurrent queries about a user
   * resync once). Rejects when their server does not answer properly.
   */
  resync(userId: string): Promise<void> {
    const origin = serverNameOf(userId);
    if (origin === undefined) return Promise.reject(new Error(`not a user ID: ${userId}`));
    if (this.#closed) return Promise.reject(new Error('shutting down'));
    return new Promise((resolve, reject) => {
      this.#enqueue(userId, async () => {
        const state = await this.#deps.deviceLists.remoteState(userId);
        if (state !== undefined && !state.stale) return resolve();
        await this.#resync(origin, userId).then(resolve, reject);
      });
    });
  }

  /**
   * The roomserver's output: when someone stops sharing a room with us (a remote user
   * leaves, or a local user leaves a room with remote members), the lists of remote users
   * no local user shares a room with any more are marked stale.
   */
  onNewEvent(event: NewRoomEvent): void {
    const change = event.membershipChange;
    if (this.#closed || change === undefined || event.writtenElsewhere === true || change.membership === 'join' || change.previous !== 'join') return;
    const local = serverNameOf(change.target) === this.#deps.serverName;
    const members = this.#deps.members;
    if (local && members === undefined) return;
    this.#enqueue(local ? `room ${event.roomId}` : change.target, async () => {
      const candidates = local ? (await members!(event.roomId)).filter((u) => serverNameOf(u) !== this.#deps.serverName) : [change.target];
      for (const userId of await this.#deps.deviceLists.trackedAmong(candidates)) {
        if ((await this.#deps.watchers.of(userId)).length === 0) await this.#deps.deviceLists.markRemoteStale(userId, this.#deps.clock());
      }
    });
  }

  /** Waits for the queued updates to finish and takes no more. */
  async close(): Promise<void> {
    this.#closed = true;
    while (this.#queues.size > 0) await Promise.all([...this.#queues.values()]);
  }

  /** Resolves once every update queued so far has been processed (for tests). */
  async idle(): Promise<void> {
    await Promise.all([...this.#queues.values()]);
  }

  #enqueue(userId: string, task: () => Promise<void>): void {
    const tail = (this.#queues.get(userId) ?? Promise.resolve())
      .then(task)
      .catch((err: unknown) => this.#deps.logger.warn({ err, user_id: userId }, 'device list update failed'));
    this.#queues.set(userId, tail);
    void tail.then(() => {
      if (this.#queues.get(userId) === tail) this.#queues.delete(userId);
    });
  }

  async #process(origin: string, update: DeviceListUpdate): Promise<void> {
    const { deviceLists, clock } = this.#deps;
    const state = await deviceLists.remoteState(update.userId);
    const decision = decideDeviceListUpdate(state, update.streamId, update.prevIds);
    if (decision === 'ignore') return;
    if (decision === 'apply') {
      await deviceLists.applyRemoteUpdate(update.userId, update.streamId, update, clock());
    } else {
      await deviceLists.markRemoteStale(update.userId, clock());
      try {
        await this.#resync(origin, update.userId);
      } catch (err) {
        // The cache stays stale, so the next update resyncs again.
        this.#deps.logger.info({ err, origin, user_id: update.userId }, 'device list resync failed');
      }
    }
    await this.#deps.watchers.announce(update.userId);
  }

  /** Replaces the cached list with the origin's (server-server GET /user/devices/{userId}). */
  async #resync(origin: string, userId: string): Promise<void> {
    const body = await this.#deps.client.get(origin, `/_matrix/federation/v1/user/devices/${encodeURIComponent(userId)}`);
    const snapshot = parseUserDevices(body, userId);
    if (snapshot === undefined) throw new Error(`${origin} answered /user/devices with a malformed list`);
    if (snapshot.crossSigningKeys.length > 0) await this.#deps.keys.setCrossSigningKeys(userId, snapshot.crossSigningKeys, this.#deps.clock());
    await this.#deps.deviceLists.replaceRemoteDevices(userId, snapshot.streamId, snapshot.devices, this.#deps.clock());
  }
}

export interface UserDevicesSnapshot {
  readonly streamId: number;
  readonly devices: RemoteDevice[];
  readonly crossSigningKeys: ParsedCrossSigningKey[];
}

/** A GET /user/devices answer about `userId`; devices whose keys name another user or device are dropped. */
export function parseUserDevices(body: JsonObject, userId: string): UserDevicesSnapshot | undefined {
  const streamId = getField(body, 'stream_id');
  const devices = getField(body, 'devices');
  if (getField(body, 'user_id') !== userId || !isStreamId(streamId) || !Array.isArray(devices)) return undefined;
  const parsed: RemoteDevice[] = [];
  const seen = new Set<string>();
  for (const device of devices) {
    if (!isJsonObject(device)) continue;
    const deviceId = getField(device, 'device_id');
    const keys = getField(device, 'keys') ?? null;
    const name = getField(device, 'device_display_name');
    if (typeof deviceId !== 'string' || deviceId === '' || seen.has(deviceId)) continue;
    if (keys !== null && !deviceKeysBelongTo(keys, userId, deviceId)) continue;
    seen.add(deviceId);
    parsed.push({ deviceId, displayName: typeof name === 'string' ? name : null, keyJson: keys === null ? null : JSON.stringify(keys) });
  }
  const crossSigningKeys: ParsedCrossSigningKey[] = [];
  const master = parseRemoteCrossSigningKey(getField(body, 'master_key'), userId, 'master');
  const selfSigning = parseRemoteCrossSigningKey(getField(body, 'self_signing_key'), userId, 'self_signing');
  if (master !== undefined) crossSigningKeys.push(master);
  if (selfSigning !== undefined) crossSigningKeys.push(selfSigning);
  return { streamId, devices: parsed, crossSigningKeys };
}

function isStreamId(value: JsonValue | undefined): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function deviceKeysBelongTo(keys: JsonValue, userId: string, deviceId: string): boolean {
  return isJsonObject(keys) && getField(keys, 'user_id') === userId && getField(keys, 'device_id') === deviceId;
}
