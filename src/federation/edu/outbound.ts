// Local users' typing, read receipts and presence, sent as EDUs to the other servers that
// need them (server-server § "Typing Notifications", § "Receipts", § "Presence"): typing and
// receipts to every server with joined members in the room, presence to every server that
// shares a room with the user ("servers should only send presence updates for users that
// the receiving server would be interested in"). The services announce remote changes too;
// those are not ours to pass on.

import type { Logger } from '../../logger.ts';
import { serverNameOf } from '../../rooms/identifiers.ts';
import type { JsonObject } from '../../rooms/json.ts';
import type { EduOutbox, EduRooms, PresenceNotice, PresencePort, ReceiptNotice, ReceiptsPort, TypingChangeNotice, TypingPort } from './ports.ts';

export interface EphemeralEduForwarderOptions {
  readonly serverName: string;
  readonly rooms: EduRooms;
  readonly outbox: EduOutbox;
  readonly typing: Pick<TypingPort, 'onChange'>;
  readonly receipts: Pick<ReceiptsPort, 'onUpdate'>;
  readonly presence: Pick<PresencePort, 'onLocalChange'>;
  readonly logger: Logger;
}

export class EphemeralEduForwarder {
  readonly #options: EphemeralEduForwarderOptions;
  readonly #unsubscribes: Array<() => void> = [];
  /** EDUs are queued in the order the changes happened (typing on, then off). */
  #chain: Promise<void> = Promise.resolve();

  constructor(options: EphemeralEduForwarderOptions) {
    this.#options = options;
  }

  start(): void {
    if (this.#unsubscribes.length > 0) return;
    const { typing, receipts, presence } = this.#options;
    this.#unsubscribes.push(
      typing.onChange((change) => this.#enqueue('typing', () => this.#typing(change))),
      receipts.onUpdate((update) => this.#enqueue('receipt', () => this.#receipt(update))),
      presence.onLocalChange((userId, view) => this.#enqueue('presence', () => this.#presence(userId, view))),
    );
  }

  /** Stops listening and waits until what was announced is queued. */
  async stop(): Promise<void> {
    for (const unsubscribe of this.#unsubscribes.splice(0)) unsubscribe();
    await this.#chain;
  }

  /** Resolves once every change announced so far is in the outbox (for tests). */
  idle(): Promise<void> {
    return this.#chain;
  }

  #enqueue(kind: string, work: () => Promise<void>): void {
    this.#chain = this.#chain.then(work).catch((err: unknown) => {
      // Ephemeral by nature: a lost typing or presence update is superseded by the next one.
      this.#options.logger.warn({ err, kind }, 'could not queue an EDU');
    });
  }

  async #typing(change: TypingChangeNotice): Promise<void> {
    if (!this.#isLocal(change.userId)) return;
    const content: JsonObject = { room_id: change.roomId, user_id: change.userId, typing: change.typing };
    await this.#send(await this.#serversIn(change.roomId), 'm.typing', content);
  }

  async #receipt(update: ReceiptNotice): Promise<void> {
    // Only public read receipts leave the server (§ "Private read receipts").
    if (!this.#isLocal(update.userId) || update.receiptType !== 'm.read') return;
    const data: JsonObject = { ts: update.ts };
    if (update.threadId !== undefined) data['thread_id'] = update.threadId;
    const content: JsonObject = { [update.roomId]: { 'm.read': { [update.userId]: { event_ids: [update.eventId], data } } } };
    await this.#send(await this.#serversIn(update.roomId), 'm.receipt', content);
  }

  async #presence(userId: string, view: PresenceNotice): Promise<void> {
    if (!this.#isLocal(userId)) return;
    const servers = new Set<string>();
    for (const roomId of await this.#options.rooms.roomsForUser(userId, 'join')) {
      for (const server of await this.#serversIn(roomId)) servers.add(server);
    }
    const update: JsonObject = { user_id: userId, presence: view.presence, last_active_ago: view.last_active_ago ?? 0 };
    if (view.currently_active !== undefined) update['currently_active'] = view.currently_active;
    if (typeof view.status_msg === 'string') update['status_msg'] = view.status_msg;
    await this.#send([...servers].sort(), 'm.presence', { push: [update] });
  }

  /** Servers with joined members in the room, ours excluded. */
  async #serversIn(roomId: string): Promise<string[]> {
    const servers = new Set<string>();
    for (const member of await this.#options.rooms.members(roomId, 'join')) {
      const server = serverNameOf(member);
      if (server !== undefined && server !== this.#options.serverName) servers.add(server);
    }
    return [...servers].sort();
  }

  async #send(destinations: readonly string[], eduType: string, content: JsonObject): Promise<void> {
    for (const destination of destinations) {
      await this.#options.outbox.enqueueEdu(destination, { edu_type: eduType, content });
    }
  }

  #isLocal(userId: string): boolean {
    return serverNameOf(userId) === this.#options.serverName;
  }
}
