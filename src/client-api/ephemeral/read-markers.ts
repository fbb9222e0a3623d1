// Fully read markers (client-server API § "Fully read markers"): kept as the room account
// data `m.fully_read` {event_id}, which clients cannot PUT directly; set here through
// POST /read_markers (optionally with the read receipts) or POST /receipt/m.fully_read.

import { forbidden, notFound } from '../../http/matrix-error.ts';
import type { Roomserver } from '../../roomserver/index.ts';
import { FULLY_READ, type AccountDataService } from './account-data.ts';
import { PRIVATE_READ_RECEIPT, READ_RECEIPT, type ReceiptsService } from './receipts.ts';

export interface ReadMarkersUpdate {
  readonly fullyRead?: string;
  readonly read?: string;
  readonly readPrivate?: string;
}

export class ReadMarkers {
  readonly #roomserver: Roomserver;
  readonly #accountData: AccountDataService;
  readonly #receipts: ReceiptsService;

  constructor(options: { roomserver: Roomserver; accountData: AccountDataService; receipts: ReceiptsService }) {
    this.#roomserver = options.roomserver;
    this.#accountData = options.accountData;
    this.#receipts = options.receipts;
  }

  /** § "Read markers" Server behaviour: `m.read`/`m.read.private` act as /receipt would. */
  async update(userId: string, roomId: string, update: ReadMarkersUpdate): Promise<void> {
    if (update.fullyRead !== undefined) await this.setFullyRead(userId, roomId, update.fullyRead);
    if (update.read !== undefined) {
      await this.#receipts.sendReceipt({ roomId, userId, receiptType: READ_RECEIPT, eventId: update.read });
    }
    if (update.readPrivate !== undefined) {
      await this.#receipts.sendReceipt({ roomId, userId, receiptType: PRIVATE_READ_RECEIPT, eventId: update.readPrivate });
    }
  }

  /** "The event MUST belong to the room" (read_markers.yaml); the user must be joined. */
  async setFullyRead(userId: string, roomId: string, eventId: string): Promise<void> {
    if ((await this.#roomserver.membership(roomId, userId)) !== 'join') throw forbidden('You are not joined to this room');
    const event = await this.#roomserver.event(eventId);
    if (event === undefined || event.roomId !== roomId || event.outlier) throw notFound('Event not found in this room');
    await this.#accountData.set(userId, roomId, FULLY_READ, { event_id: eventId });
  }
}
