// Send-to-device messaging (client-server § "Send-to-Device messaging" › "Server
// behaviour"; server-server § "Send-to-device messaging"). A /sendToDevice request is
// idempotent per (sender, device, txnId): the transaction ID is recorded in the same
// database transaction as the local messages, so a retry queues nothing twice. Local
// recipients (`*` = every device of the user) get rows in `e2e_to_device`; each other server
// gets one `m.direct_to_device` EDU through the durable federation queue.
//
// Delivery: /sync hands a device its messages after the position in its `since` token and
// deletes those at or below it, because a client that syncs with a token has received
// everything up to it. At most MAX_PER_SYNC go out per response; the token then stops at the
// last one handed out, so the rest follow in the next sync.

import { randomBytes } from 'node:crypto';
import { invalidParam } from '../../http/matrix-error.ts';
import type { Logger } from '../../logger.ts';
import { serverNameOf } from '../../rooms/identifiers.ts';
import { isJsonObject, type JsonObject } from '../../rooms/json.ts';
import { DevicesRepository, type StoaDatabase } from '../../storage/index.ts';
import { E2eeToDeviceRepository, type NewToDeviceMessage } from '../../storage/e2ee-to-device-repository.ts';
import type { E2eeStream } from '../../storage/e2ee-streams.ts';
import type { E2eeFederation } from './federation-port.ts';

export const MAX_TO_DEVICE_PER_SYNC = 100;

export interface ToDeviceDeps {
  readonly db: StoaDatabase;
  readonly stream: E2eeStream;
  readonly serverName: string;
  readonly federation: E2eeFederation | undefined;
  readonly logger: Logger;
  readonly clock: () => number;
}

export interface ToDeviceBatch {
  readonly events: JsonObject[];
  /** The position the client has now seen: `to`, or the last message when more remain. */
  readonly upTo: number;
}

export class ToDeviceService {
  readonly #deps: ToDeviceDeps;
  readonly #repo: E2eeToDeviceRepository;
  readonly #devices: DevicesRepository;

  constructor(deps: ToDeviceDeps) {
    this.#deps = deps;
    this.#repo = new E2eeToDeviceRepository(deps.db.kysely);
    this.#devices = new DevicesRepository(deps.db.kysely);
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

  /** PUT /sendToDevice/{eventType}/{txnId}. */
  async send(sender: string, senderDevice: string | undefined, type: string, txnId: string, messages: JsonObject): Promise<void> {
    const local: NewToDeviceMessage[] = [];
    const remote = new Map<string, JsonObject>();
    for (const [userId, byDevice] of Object.entries(messages)) {
      if (!isJsonObject(byDevice)) throw invalidParam(`messages.${userId} must map device IDs to contents`);
      const server = serverNameOf(userId);
      if (server === undefined) throw invalidParam(`${userId} is not a user ID`);
      for (const content of Object.values(byDevice)) {
        if (!isJsonObject(content)) throw invalidParam(`messages.${userId}: each message content must be an object`);
      }
      if (server !== this.#deps.serverName) {
        (remote.get(server) ?? remote.set(server, {}).get(server))![userId] = byDevice;
        continue;
      }
      for (const [deviceId, content] of Object.entries(byDevice)) {
        for (const target of await this.#targets(userId, deviceId)) {
          local.push({ userId, deviceId: target, sender, type, content: JSON.stringify(content) });
        }
      }
    }
    const txn = { userId: sender, deviceId: senderDevice ?? '', txnId };
    const fresh = await this.#deps.stream.write(async () => {
      const position = await this.#repo.enqueue(local, this.#deps.clock(), txn);
      const recipients = [...new Set(local.map((m) => m.userId))];
      return { position: position === 0 ? undefined : position, scope: { users: recipients }, result: position !== undefined };
    });
    if (!fresh) return;
    const federation = this.#deps.federation;
    for (const [server, users] of remote) {
      if (federation === undefined) {
        this.#deps.logger.info({ server }, 'to-device message for a remote user dropped: federation is disabled');
        continue;
      }
      const messageId = randomBytes(12).toString('base64url');
      await federation.sendEdu(server, 'm.direct_to_device', { sender, type, message_id: messageId, messages: users });
    }
  }

  /**
   * The device's messages after `from` up to `to` (at most MAX_TO_DEVICE_PER_SYNC), after
   * deleting those at or below `from`, which the client acknowledged by syncing with it.
   */
  async forSync(userId: string, deviceId: string | undefined, from: number, to: number): Promise<ToDeviceBatch> {
    if (deviceId === undefined) return { events: [], upTo: to };
    if (from > 0) await this.#repo.deleteUpTo(userId, deviceId, from);
    const rows = await this.#repo.pending(userId, deviceId, from, to, MAX_TO_DEVICE_PER_SYNC);
    const events = rows.map((r) => ({ sender: r.sender, type: r.type, content: JSON.parse(r.content) as JsonObject }));
    const last = rows.at(-1);
    return { events, upTo: rows.length === MAX_TO_DEVICE_PER_SYNC && last !== undefined ? last.streamId : to };
  }

  async deviceDeleted(userId: string, deviceId: string): Promise<void> {
    await this.#repo.deleteDevice(userId, deviceId);
  }

  async #targets(userId: string, deviceId: string): Promise<string[]> {
    if (deviceId === '*') return (await this.#devices.list(userId)).map((d) => d.deviceId);
    return [deviceId];
  }
}
