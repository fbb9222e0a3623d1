// Events as application services receive them: the client-server "ClientEvent" format
// (application-service API § "Pushing events"; OpenAPI transactions.yaml `events` items),
// taken from the stored federation-format JSON. The PDU's own `unsigned` (set by the
// sending server, untrusted) is not passed through; `age` is computed here.

import { getField, isJsonObject, type JsonObject } from '../rooms/json.ts';

export interface EventFacts {
  readonly eventId: string;
  readonly roomId: string;
  readonly type: string;
  readonly stateKey: string | null;
  readonly sender: string;
  readonly originServerTs: number;
}

export function toAppServiceEvent(facts: EventFacts, json: JsonObject, now: number): JsonObject {
  const rawContent = getField(json, 'content');
  const content: JsonObject = isJsonObject(rawContent) ? { ...rawContent } : {};
  const out: JsonObject = {
    event_id: facts.eventId,
    room_id: facts.roomId,
    type: facts.type,
    sender: facts.sender,
    origin_server_ts: facts.originServerTs,
    content,
    unsigned: { age: Math.max(0, now - facts.originServerTs) },
  };
  if (facts.stateKey !== null) out['state_key'] = facts.stateKey;
  if (facts.type === 'm.room.redaction') {
    // Top-level before room v11, in content from v11: served in both places, as to clients.
    const redacts = getField(json, 'redacts') ?? getField(content, 'redacts');
    if (typeof redacts === 'string') {
      out['redacts'] = redacts;
      content['redacts'] = redacts;
    }
  }
  return out;
}
