// Ephemeral data for services with `receive_ephemeral` (application-service API § "Pushing
// ephemeral data", v1.13; MSC2409): `m.typing` and `m.receipt` in the client-server format
// plus `room_id`, under the same interest rules as room events. Private read receipts go
// only to services whose namespaces hold their user. Presence is not pushed.
//
// The typing and receipt services live in the client API, which this layer must not import:
// they satisfy these ports structurally and main.ts hands them in.

import type { JsonObject } from '../rooms/json.ts';

export interface TypingChangeNotice {
  readonly roomId: string;
  readonly userId: string;
  readonly typing: boolean;
}

export interface ReceiptNotice {
  readonly roomId: string;
  readonly userId: string;
  readonly receiptType: string;
  readonly eventId: string;
  readonly threadId: string | undefined;
  readonly ts: number;
}

export interface EphemeralSources {
  readonly typing: {
    onChange(listener: (change: TypingChangeNotice) => void): () => void;
    typingUsers(roomId: string): string[];
  };
  readonly receipts: { onUpdate(listener: (update: ReceiptNotice) => void): () => void };
}

export function typingEdu(roomId: string, userIds: readonly string[]): JsonObject {
  return { type: 'm.typing', room_id: roomId, content: { user_ids: [...userIds] } };
}

export function receiptEdu(update: ReceiptNotice): JsonObject {
  const receipt: JsonObject = { ts: update.ts };
  if (update.threadId !== undefined) receipt['thread_id'] = update.threadId;
  return {
    type: 'm.receipt',
    room_id: update.roomId,
    content: { [update.eventId]: { [update.receiptType]: { [update.userId]: receipt } } },
  };
}
