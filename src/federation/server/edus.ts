// EDUs received in transactions (server-server § "EDUs"): typing, receipts, presence,
// device list updates, direct-to-device messages, signing-key updates. The services that
// act on them live elsewhere (federation must not import the client API), so each EDU type
// has a pluggable handler that main.ts supplies; a type without a handler is accepted and
// logged. Before a handler sees an EDU, the checks that need no service run here: the
// shape, the room server ACL for room-scoped EDUs (server-server § "Server ACLs"), and that
// a user-scoped EDU names a user of the origin.

import type { Logger } from '../../logger.ts';
import { serverNameOf } from '../../rooms/identifiers.ts';
import { getField, isJsonObject, type JsonObject, type JsonValue } from '../../rooms/json.ts';

export interface ReceivedEdu {
  /** The authenticated server the transaction came from. */
  readonly origin: string;
  readonly eduType: string;
  readonly content: JsonObject;
}

/** Acts on one type of EDU. Failures are logged; they never fail the transaction. */
export interface EduHandler {
  handle(edu: ReceivedEdu): Promise<void>;
}

/** Handlers by `edu_type` (`m.typing`, `m.receipt`, `m.presence`, `m.device_list_update`, `m.direct_to_device`, `m.signing_key_update`). */
export type EduHandlers = ReadonlyMap<string, EduHandler>;

export interface EduAclCheck {
  aclAllows(roomId: string, serverName: string): Promise<boolean>;
}

/** EDU types whose `content.user_id` must be a user of the origin. */
const USER_SCOPED = new Set(['m.typing', 'm.device_list_update', 'm.signing_key_update']);

export class EduDispatcher {
  readonly #handlers: EduHandlers;
  readonly #acl: EduAclCheck;
  readonly #logger: Logger;

  constructor(handlers: EduHandlers, acl: EduAclCheck, logger: Logger) {
    this.#handlers = handlers;
    this.#acl = acl;
    this.#logger = logger;
  }

  /** Handles the EDUs of one transaction in order. Never throws for bad input. */
  async dispatch(origin: string, edus: readonly JsonValue[]): Promise<void> {
    for (const raw of edus) {
      const edu = await this.#check(origin, raw);
      if (edu === undefined) continue;
      const handler = this.#handlers.get(edu.eduType);
      if (handler === undefined) {
        this.#logger.debug({ origin, edu_type: edu.eduType }, 'EDU accepted; no handler for its type');
        continue;
      }
      try {
        await handler.handle(edu);
      } catch (err) {
        this.#logger.warn({ err, origin, edu_type: edu.eduType }, 'EDU handler failed');
      }
    }
  }

  /** The EDU as handlers may see it, or undefined (logged) when it is to be ignored. */
  async #check(origin: string, raw: JsonValue): Promise<ReceivedEdu | undefined> {
    const eduType = isJsonObject(raw) ? getField(raw, 'edu_type') : undefined;
    const content = isJsonObject(raw) ? getField(raw, 'content') : undefined;
    if (typeof eduType !== 'string' || !isJsonObject(content)) {
      this.#logger.info({ origin }, 'EDU ignored: not an object with edu_type and content');
      return undefined;
    }
    if (USER_SCOPED.has(eduType)) {
      const userId = getField(content, 'user_id');
      if (typeof userId !== 'string' || serverNameOf(userId) !== origin) {
        this.#logger.info({ origin, edu_type: eduType }, 'EDU ignored: user_id is not a user of the origin');
        return undefined;
      }
    }
    if (eduType === 'm.typing') {
      const roomId = getField(content, 'room_id');
      if (typeof roomId !== 'string' || !(await this.#acl.aclAllows(roomId, origin))) {
        this.#logger.info({ origin, edu_type: eduType }, 'EDU ignored: no room or denied by the room server ACL');
        return undefined;
      }
    }
    if (eduType === 'm.receipt') {
      // "all receipts for a particular room ID MUST be ignored if the sending server is denied".
      const allowed: JsonObject = {};
      for (const [roomId, receipts] of Object.entries(content)) {
        if (await this.#acl.aclAllows(roomId, origin)) allowed[roomId] = receipts;
      }
      return { origin, eduType, content: allowed };
    }
    return { origin, eduType, content };
  }
}
