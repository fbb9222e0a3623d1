// Events as the admin API shows them: the client event format's keys (client-server
// § "Room event format"), taken from the stored JSON with any applied redaction.

import { isJsonObject, type JsonObject } from '../../rooms/json.ts';
import type { RoomEvent } from '../../roomserver/index.ts';

export function adminEvent(event: RoomEvent, now: number): JsonObject {
  const content = event.json['content'];
  const out: JsonObject = {
    event_id: event.eventId,
    room_id: event.roomId,
    type: event.type,
    sender: event.sender,
    origin_server_ts: event.originServerTs,
    content: isJsonObject(content) ? content : {},
    unsigned: { age: Math.max(0, now - event.originServerTs) },
  };
  if (event.stateKey !== undefined) out['state_key'] = event.stateKey;
  const redacts = event.json['redacts'];
  if (typeof redacts === 'string') out['redacts'] = redacts;
  return out;
}
