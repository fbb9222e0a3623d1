// The relationship an event forms (client-server § "Forming relationships between events"):
// `content["m.relates_to"]` with a string `rel_type` and an event ID. Replies
// (`m.in_reply_to` without `rel_type`) are not relations the server aggregates. Anything
// not matching the schema is ignored, as the spec says of invalid relationships.

import { getField, isJsonObject, type JsonObject } from '../../rooms/json.ts';

export interface EventRelation {
  readonly relType: string;
  readonly eventId: string;
  /** `m.annotation`'s `key`. */
  readonly key: string | undefined;
}

export function relationOf(event: JsonObject): EventRelation | undefined {
  const content = getField(event, 'content');
  if (!isJsonObject(content)) return undefined;
  const relatesTo = getField(content, 'm.relates_to');
  if (!isJsonObject(relatesTo)) return undefined;
  const relType = getField(relatesTo, 'rel_type');
  const eventId = getField(relatesTo, 'event_id');
  if (typeof relType !== 'string' || relType === '' || typeof eventId !== 'string' || !eventId.startsWith('$')) return undefined;
  const key = getField(relatesTo, 'key');
  return { relType, eventId, key: typeof key === 'string' ? key : undefined };
}
