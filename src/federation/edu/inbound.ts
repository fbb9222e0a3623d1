// EDU handlers for typing, receipts and presence received from other servers
// (server-server § "Typing Notifications", § "Receipts", § "Presence"). The dispatcher in
// server/edus.ts has already checked the shape, the room ACLs and, for m.typing, that the
// user belongs to the origin; what remains is per-item validation and membership.

import type { Logger } from '../../logger.ts';
import { serverNameOf } from '../../rooms/identifiers.ts';
import { getField, isJsonObject, type JsonObject, type JsonValue } from '../../rooms/json.ts';
import type { EduHandler, ReceivedEdu } from '../server/edus.ts';
import type { EduRooms, PresenceNotice, PresencePort, ReceiptsPort, TypingPort } from './ports.ts';

/**
 * How long a remote user shows as typing without a refresh. The EDU carries no timeout;
 * Synapse uses the same figure, and its clients refresh well within it.
 */
export const REMOTE_TYPING_TIMEOUT_MS = 60_000;

const PRESENCE_STATES: ReadonlySet<string> = new Set(['online', 'unavailable', 'offline']);

/** m.typing: "verify that the user is in the room, and is a user belonging to the sending server". */
export class TypingEduHandler implements EduHandler {
  readonly #typing: TypingPort;
  readonly #rooms: EduRooms;
  readonly #logger: Logger;

  constructor(typing: TypingPort, rooms: EduRooms, logger: Logger) {
    this.#typing = typing;
    this.#rooms = rooms;
    this.#logger = logger;
  }

  async handle(edu: ReceivedEdu): Promise<void> {
    const roomId = getField(edu.content, 'room_id');
    const userId = getField(edu.content, 'user_id');
    const typing = getField(edu.content, 'typing');
    if (typeof roomId !== 'string' || typeof userId !== 'string' || typeof typing !== 'boolean') {
      this.#logger.info({ origin: edu.origin }, 'm.typing ignored: room_id, user_id or typing missing');
      return;
    }
    if (serverNameOf(userId) !== edu.origin) return;
    if ((await this.#rooms.membership(roomId, userId)) !== 'join') {
      this.#logger.info({ origin: edu.origin, roomId, userId }, 'm.typing ignored: the user is not joined to the room');
      return;
    }
    this.#typing.setTyping(roomId, userId, typing, REMOTE_TYPING_TIMEOUT_MS);
  }
}

/**
 * m.receipt: room → `m.read` → user → {event_ids, data: {ts, thread_id?}}. Only the
 * listed entries change; receipts of users who are not the origin's, or not joined to the
 * room, are dropped one by one so one bad entry does not cost the others.
 */
export class ReceiptEduHandler implements EduHandler {
  readonly #receipts: ReceiptsPort;
  readonly #rooms: EduRooms;
  readonly #logger: Logger;

  constructor(receipts: ReceiptsPort, rooms: EduRooms, logger: Logger) {
    this.#receipts = receipts;
    this.#rooms = rooms;
    this.#logger = logger;
  }

  async handle(edu: ReceivedEdu): Promise<void> {
    for (const [roomId, byType] of Object.entries(edu.content)) {
      if (!roomId.startsWith('!') || !isJsonObject(byType)) continue;
      // Private receipts never cross servers; other types are not specified for federation.
      const readReceipts = getField(byType, 'm.read');
      if (!isJsonObject(readReceipts)) continue;
      for (const [userId, receipt] of Object.entries(readReceipts)) {
        await this.#one(edu.origin, roomId, userId, receipt);
      }
    }
  }

  async #one(origin: string, roomId: string, userId: string, receipt: JsonValue): Promise<void> {
    if (serverNameOf(userId) !== origin || !isJsonObject(receipt)) return;
    const eventIds = getField(receipt, 'event_ids');
    const data = getField(receipt, 'data');
    const ts = isJsonObject(data) ? getField(data, 'ts') : undefined;
    const threadId = isJsonObject(data) ? getField(data, 'thread_id') : undefined;
    if (!Array.isArray(eventIds) || typeof ts !== 'number' || !Number.isSafeInteger(ts) || (threadId !== undefined && (typeof threadId !== 'string' || threadId === ''))) {
      this.#logger.info({ origin, roomId, userId }, 'm.receipt entry ignored: malformed');
      return;
    }
    if ((await this.#rooms.membership(roomId, userId)) !== 'join') {
      this.#logger.info({ origin, roomId, userId }, 'm.receipt entry ignored: the user is not joined to the room');
      return;
    }
    for (const eventId of eventIds) {
      if (typeof eventId !== 'string' || !eventId.startsWith('$')) continue;
      await this.#receipts.storeRemoteReceipt({
        roomId,
        userId,
        receiptType: 'm.read',
        eventId,
        ts,
        ...(typeof threadId === 'string' ? { threadId } : {}),
      });
    }
  }
}

/** m.presence: `push` is a list of updates, each for a user of the origin. */
export class PresenceEduHandler implements EduHandler {
  readonly #presence: PresencePort;
  readonly #logger: Logger;

  constructor(presence: PresencePort, logger: Logger) {
    this.#presence = presence;
    this.#logger = logger;
  }

  async handle(edu: ReceivedEdu): Promise<void> {
    const push = getField(edu.content, 'push');
    if (!Array.isArray(push)) {
      this.#logger.info({ origin: edu.origin }, 'm.presence ignored: push is not a list');
      return;
    }
    for (const update of push) {
      const parsed = isJsonObject(update) ? parsePresenceUpdate(update) : undefined;
      if (parsed === undefined || serverNameOf(parsed.userId) !== edu.origin) {
        this.#logger.info({ origin: edu.origin }, 'm.presence update ignored: malformed or not a user of the origin');
        continue;
      }
      await this.#presence.storeRemotePresence(parsed.userId, parsed.view);
    }
  }
}

function parsePresenceUpdate(update: JsonObject): { userId: string; view: PresenceNotice } | undefined {
  const userId = getField(update, 'user_id');
  const presence = getField(update, 'presence');
  const lastActiveAgo = getField(update, 'last_active_ago');
  const statusMsg = getField(update, 'status_msg');
  const currentlyActive = getField(update, 'currently_active');
  if (typeof userId !== 'string' || typeof presence !== 'string' || !PRESENCE_STATES.has(presence)) return undefined;
  if (typeof lastActiveAgo !== 'number' || !Number.isSafeInteger(lastActiveAgo) || lastActiveAgo < 0) return undefined;
  if (statusMsg !== undefined && statusMsg !== null && typeof statusMsg !== 'string') return undefined;
  if (currentlyActive !== undefined && typeof currentlyActive !== 'boolean') return undefined;
  return {
    userId,
    view: {
      presence: presence as PresenceNotice['presence'],
      last_active_ago: lastActiveAgo,
      ...(statusMsg === undefined ? {} : { status_msg: statusMsg }),
      ...(currentlyActive === undefined ? {} : { currently_active: currentlyActive }),
    },
  };
}
