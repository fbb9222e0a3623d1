// Receipts (client-server API § "Receipts"): `m.read` and `m.read.private`, unthreaded or
// threaded (`thread_id` = `main` or a thread root). One receipt per (user, type, thread);
// `m.read.private` is never shown to anyone but its owner (§ "Private read receipts").

import { forbidden, invalidParam, notFound } from '../../http/matrix-error.ts';
import { isJsonObject, type JsonObject } from '../../rooms/json.ts';
import type { Roomserver } from '../../roomserver/index.ts';
import type { StoaDatabase } from '../../storage/index.ts';
import { ReceiptsRepository, type StoredReceipt } from '../../storage/receipts-repository.ts';
import type { ReceiptRecord, ReceiptsSource } from '../sync/sources.ts';
import { SerialWriter, StreamPosition } from './stream-position.ts';

export const READ_RECEIPT = 'm.read';
export const PRIVATE_READ_RECEIPT = 'm.read.private';
export const RECEIPT_TYPES: ReadonlySet<string> = new Set([READ_RECEIPT, PRIVATE_READ_RECEIPT]);
/** The thread ID of the main timeline (§ "Threaded read receipts"). */
export const MAIN_THREAD = 'main';
/** § "Threaded read receipts": follow relations at most this far to find an event's thread. */
const MAX_THREAD_HOPS = 3;

export interface ReceiptInput {
  readonly roomId: string;
  readonly userId: string;
  readonly receiptType: string;
  readonly eventId: string;
  /** Absent for an unthreaded receipt. */
  readonly threadId?: string;
}

/** A receipt stored or received, for the federation sender (public `m.read` only goes out). */
export interface ReceiptUpdate {
  readonly roomId: string;
  readonly userId: string;
  readonly receiptType: string;
  readonly eventId: string;
  readonly threadId: string | undefined;
  readonly ts: number;
}

export interface ReceiptsServiceOptions {
  readonly db: StoaDatabase;
  readonly roomserver: Roomserver;
  readonly clock: () => number;
}

export class ReceiptsService extends StreamPosition implements ReceiptsSource {
  readonly #repo: ReceiptsRepository;
  readonly #roomserver: Roomserver;
  readonly #clock: () => number;
  readonly #writer = new SerialWriter(this);
  readonly #updateListeners = new Set<(update: ReceiptUpdate) => void>();
  readonly #ready: Promise<void>;

  constructor(options: ReceiptsServiceOptions) {
    super('r');
    this.#repo = new ReceiptsRepository(options.db.kysely);
    this.#roomserver = options.roomserver;
    this.#clock = options.clock;
    this.#ready = this.#repo.maxStreamId().then((max) => this.advanceTo(max));
    // Callers await it and see the error; this only keeps it from being an unhandled rejection.
    this.#ready.catch(() => undefined);
  }

  /** Resolves once the stream position has been read from the database. */
  ready(): Promise<void> {
    return this.#ready;
  }

  /**
   * A client's receipt (POST /receipt, POST /read_markers): the user must be joined and the
   * event must be in the room and, for a threaded receipt, in that thread. A receipt behind
   * the one already stored for the same (user, type, thread) is ignored, since receipts are
   * "up to" markers.
   */
  async sendReceipt(input: ReceiptInput): Promise<void> {
    if (!RECEIPT_TYPES.has(input.receiptType)) {
      throw invalidParam(`Receipt type must be one of ${[...RECEIPT_TYPES].join(', ')}`);
    }
    if (input.threadId !== undefined && input.threadId === '') {
      throw invalidParam('thread_id field must be a non-empty string');
    }
    if ((await this.#roomserver.membership(input.roomId, input.userId)) !== 'join') {
      throw forbidden('You are not joined to this room');
    }
    const event = await this.#roomserver.event(input.eventId);
    if (event === undefined || event.roomId !== input.roomId || event.outlier) {
      throw notFound('Event not found in this room');
    }
    if (input.threadId !== undefined && !(await this.#isInThread(event.json, event.eventId, input.threadId))) {
      throw invalidParam(`Event ${input.eventId} is not in thread ${input.threadId}`);
    }
    await this.#writer.run(async () => {
      const existing = await this.#repo.find(input.roomId, input.receiptType, input.userId, input.threadId ?? '');
      if (existing !== undefined && existing.eventId !== input.eventId) {
        const previous = await this.#roomserver.event(existing.eventId);
        const previousOrder = previous?.streamOrdering ?? null;
        if (previousOrder !== null && event.streamOrdering !== null && previousOrder > event.streamOrdering) return;
      }
      await this.#store(input);
    });
  }

  /** A receipt from another server (m.receipt EDU): stored as given, no membership checks here. */
  async storeRemoteReceipt(input: ReceiptInput & { readonly ts: number }): Promise<void> {
    if (input.receiptType === PRIVATE_READ_RECEIPT) return;
    await this.#writer.run(() => this.#store(input, input.ts));
  }

  /**
   * Receipts in `roomIds` written in (`from`, `to`], oldest first, as `forUser` may see them:
   * other users' private receipts are left out. `from = 0` gives every current receipt.
   */
  async receiptsSince(roomIds: readonly string[], from: number, to: number, forUser: string): Promise<ReceiptRecord[]> {
    await this.#ready;
    const records: ReceiptRecord[] = [];
    for (const receipt of await this.#repo.inRooms(roomIds, from, to)) {
      if (receipt.receiptType === PRIVATE_READ_RECEIPT && receipt.userId !== forUser) continue;
      records.push(toRecord(receipt));
    }
    return records;
  }

  /** The events `userId`'s unthreaded and main-timeline read receipts (public and private) name. */
  async readReceiptEvents(roomId: string, userId: string): Promise<string[]> {
    await this.#ready;
    const eventIds = new Set<string>();
    for (const receiptType of RECEIPT_TYPES) {
      for (const threadId of ['', MAIN_THREAD]) {
        const receipt = await this.#repo.find(roomId, receiptType, userId, threadId);
        if (receipt !== undefined) eventIds.add(receipt.eventId);
      }
    }
    return [...eventIds];
  }

  /** Every stored receipt change, local or remote, for the federation sender. */
  onUpdate(listener: (update: ReceiptUpdate) => void): () => void {
    this.#updateListeners.add(listener);
    return () => this.#updateListeners.delete(listener);
  }

  async #store(input: ReceiptInput, ts = this.#clock()): Promise<void> {
    await this.#ready;
    const position = await this.#repo.upsert({
      roomId: input.roomId,
      receiptType: input.receiptType,
      userId: input.userId,
      threadId: input.threadId ?? '',
      eventId: input.eventId,
      ts,
    });
    this.advanceTo(position, { rooms: [input.roomId] });
    const update: ReceiptUpdate = { ...input, threadId: input.threadId, ts };
    for (const listener of [...this.#updateListeners]) listener(update);
  }

  /**
   * § "Threaded read receipts": an event is in thread T when it relates to T with
   * `m.thread`, or reaches an event that does within a few relation hops; thread roots and
   * everything else are in `main`.
   */
  async #isInThread(json: JsonObject, eventId: string, threadId: string): Promise<boolean> {
    const thread = await this.#threadOf(json, eventId);
    return thread === threadId;
  }

  async #threadOf(json: JsonObject, eventId: string): Promise<string> {
    let current: JsonObject | undefined = json;
    const seen = new Set([eventId]);
    for (let hop = 0; hop < MAX_THREAD_HOPS && current !== undefined; hop++) {
      const relation = relationOf(current);
      if (relation === undefined) return MAIN_THREAD;
      if (relation.relType === 'm.thread') return relation.eventId;
      if (seen.has(relation.eventId)) return MAIN_THREAD;
      seen.add(relation.eventId);
      current = (await this.#roomserver.event(relation.eventId))?.json;
    }
    return MAIN_THREAD;
  }
}

function relationOf(json: JsonObject): { relType: string | undefined; eventId: string } | undefined {
  const content = json['content'];
  if (!isJsonObject(content)) return undefined;
  const relatesTo = content['m.relates_to'];
  if (!isJsonObject(relatesTo)) return undefined;
  const eventId = relatesTo['event_id'];
  const relType = relatesTo['rel_type'];
  if (typeof eventId === 'string') return { relType: typeof relType === 'string' ? relType : undefined, eventId };
  // Rich replies without a relation type still point at their parent.
  const inReplyTo = relatesTo['m.in_reply_to'];
  if (isJsonObject(inReplyTo) && typeof inReplyTo['event_id'] === 'string') {
    return { relType: undefined, eventId: inReplyTo['event_id'] };
  }
  return undefined;
}

function toRecord(receipt: StoredReceipt): ReceiptRecord {
  const record = {
    roomId: receipt.roomId,
    eventId: receipt.eventId,
    receiptType: receipt.receiptType,
    userId: receipt.userId,
    ts: receipt.ts,
  };
  return receipt.threadId === '' ? record : { ...record, threadId: receipt.threadId };
}

/**
 * Groups receipts into `m.receipt` content (event ID → type → user → {ts, thread_id?}), the
 * shape /sync and the federation EDU use; later records win.
 */
export function receiptContent(records: readonly ReceiptRecord[]): JsonObject {
  const content: JsonObject = {};
  for (const record of records) {
    let byType = content[record.eventId];
    if (!isJsonObject(byType)) content[record.eventId] = byType = {};
    let byUser = byType[record.receiptType];
    if (!isJsonObject(byUser)) byType[record.receiptType] = byUser = {};
    const data: JsonObject = { ts: record.ts };
    if (record.threadId !== undefined) data['thread_id'] = record.threadId;
    byUser[record.userId] = data;
  }
  return content;
}

/** The receipt type `m.fully_read` is a read marker, not a receipt (receipts.yaml). */
export function isFullyReadMarker(receiptType: string): boolean {
  return receiptType === 'm.fully_read';
}
