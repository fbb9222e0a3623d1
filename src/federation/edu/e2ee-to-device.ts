// m.direct_to_device (server-server § "Send-to-device messaging"): to-device messages from a
// user of the origin for devices of our users. `*` means every device the user has. Messages
// are queued as local ones are (the to-device stream, scoped to the recipients so only their
// syncs wake), and the EDU's `message_id` is recorded per sender in the same transaction:
// a peer that sends the EDU again (a retried transaction) queues nothing twice.
//
// Entries for users of other servers, devices we do not know, or contents that are not
// objects are dropped one by one; the rest of the EDU is still delivered.

import type { Logger } from '../../logger.ts';
import { serverNameOf } from '../../rooms/identifiers.ts';
import { getField, isJsonObject } from '../../rooms/json.ts';
import type { DevicesRepository } from '../../storage/devices-repository.ts';
import type { E2eeStream } from '../../storage/e2ee-streams.ts';
import type { E2eeToDeviceRepository, NewToDeviceMessage } from '../../storage/e2ee-to-device-repository.ts';
import type { EduHandler, ReceivedEdu } from '../server/edus.ts';

/**
 * The device ID under which a remote sender's `message_id`s are recorded: the sender is a
 * user of another server, so no local device's /sendToDevice transaction IDs share the row key.
 */
export const REMOTE_SENDER_TXN_DEVICE = '';

/** The spec caps `message_id` at 32 codepoints; peers are allowed some slack. */
const MAX_MESSAGE_ID_LENGTH = 255;

export interface DirectToDeviceDeps {
  readonly serverName: string;
  readonly toDevice: Pick<E2eeToDeviceRepository, 'enqueue'>;
  readonly devices: Pick<DevicesRepository, 'list'>;
  readonly stream: E2eeStream;
  readonly logger: Logger;
  readonly clock: () => number;
}

export class DirectToDeviceEduHandler implements EduHandler {
  readonly #deps: DirectToDeviceDeps;

  constructor(deps: DirectToDeviceDeps) {
    this.#deps = deps;
  }

  async handle(edu: ReceivedEdu): Promise<void> {
    const sender = getField(edu.content, 'sender');
    const type = getField(edu.content, 'type');
    const messageId = getField(edu.content, 'message_id');
    const messages = getField(edu.content, 'messages');
    if (typeof sender !== 'string' || typeof type !== 'string' || type === '' || !isJsonObject(messages)) {
      this.#deps.logger.info({ origin: edu.origin }, 'm.direct_to_device ignored: sender, type or messages missing');
      return;
    }
    if (typeof messageId !== 'string' || messageId === '' || messageId.length > MAX_MESSAGE_ID_LENGTH) {
      this.#deps.logger.info({ origin: edu.origin }, 'm.direct_to_device ignored: bad message_id');
      return;
    }
    if (serverNameOf(sender) !== edu.origin) {
      this.#deps.logger.info({ origin: edu.origin, sender }, 'm.direct_to_device ignored: the sender is not a user of the origin');
      return;
    }

    const queued: NewToDeviceMessage[] = [];
    for (const [userId, byDevice] of Object.entries(messages)) {
      if (serverNameOf(userId) !== this.#deps.serverName || !isJsonObject(byDevice)) continue;
      const known = new Set((await this.#deps.devices.list(userId)).map((d) => d.deviceId));
      for (const [deviceId, content] of Object.entries(byDevice)) {
        if (!isJsonObject(content)) continue;
        const targets = deviceId === '*' ? [...known] : known.has(deviceId) ? [deviceId] : [];
        const text = JSON.stringify(content);
        for (const target of targets) queued.push({ userId, deviceId: target, sender, type, content: text });
      }
    }
    if (queued.length === 0) return;

    const recipients = [...new Set(queued.map((m) => m.userId))];
    const txn = { userId: sender, deviceId: REMOTE_SENDER_TXN_DEVICE, txnId: messageId };
    await this.#deps.stream.write(async () => {
      const position = await this.#deps.toDevice.enqueue(queued, this.#deps.clock(), txn);
      return { position: position === undefined || position === 0 ? undefined : position, scope: { users: recipients }, result: undefined };
    });
  }
}
