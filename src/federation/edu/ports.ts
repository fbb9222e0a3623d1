// What the EDU wiring needs from the services that own typing, receipts and presence. Those
// services live in the client API, which federation must not import; they satisfy these
// interfaces structurally and main.ts hands them in.

import type { JsonObject } from '../../rooms/json.ts';

/** A typing change, local or remote (the typing service announces both). */
export interface TypingChangeNotice {
  readonly roomId: string;
  readonly userId: string;
  readonly typing: boolean;
}

export interface TypingPort {
  /** Marks a user as typing (until `timeoutMs` from now) or as stopped. */
  setTyping(roomId: string, userId: string, typing: boolean, timeoutMs?: number): void;
  onChange(listener: (change: TypingChangeNotice) => void): () => void;
}

/** A stored receipt, local or remote. */
export interface ReceiptNotice {
  readonly roomId: string;
  readonly userId: string;
  readonly receiptType: string;
  readonly eventId: string;
  readonly threadId: string | undefined;
  readonly ts: number;
}

export interface RemoteReceipt {
  readonly roomId: string;
  readonly userId: string;
  readonly receiptType: string;
  readonly eventId: string;
  readonly threadId?: string;
  readonly ts: number;
}

export interface ReceiptsPort {
  storeRemoteReceipt(receipt: RemoteReceipt): Promise<void>;
  onUpdate(listener: (update: ReceiptNotice) => void): () => void;
}

/** Presence as the m.presence EDU and GET /presence/{userId}/status carry it. */
export interface PresenceNotice {
  readonly presence: 'online' | 'unavailable' | 'offline';
  readonly last_active_ago?: number;
  readonly status_msg?: string | null;
  readonly currently_active?: boolean;
}

export interface PresencePort {
  storeRemotePresence(userId: string, view: PresenceNotice): Promise<void>;
  /** Changes of local users' presence that clients could see. */
  onLocalChange(listener: (userId: string, view: PresenceNotice) => void): () => void;
}

/** Room membership queries (the roomserver). */
export interface EduRooms {
  membership(roomId: string, userId: string): Promise<string | undefined>;
  members(roomId: string, membership: string): Promise<string[]>;
  roomsForUser(userId: string, membership: string): Promise<string[]>;
}

/** Where outgoing EDUs go (the durable federation sender). */
export interface EduOutbox {
  enqueueEdu(destination: string, edu: { readonly edu_type: string; readonly content: JsonObject }): Promise<void>;
}
