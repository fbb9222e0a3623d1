// Formats a batch of one room's events for one requester, loading in a few queries what the
// client event format puts under `unsigned`: `prev_content` (only when the requester may see
// the replaced event), `replaces_state`, `redacted_because`, `transaction_id` (only for the
// device that sent the event) and `membership`. Every read endpoint and /sync use this.

import { getField, isJsonObject, type JsonObject } from '../../rooms/json.ts';
import type { RoomEvent } from '../../roomserver/index.ts';
import type { ClientReadQueries, EventVisibility, MembershipStep } from '../../roomserver/queries-client.ts';
import { toClientEvent, type ClientEventFormat, type UnsignedExtras } from './client-event.ts';
import { clientTransactionId } from './transaction-id.ts';
import type { BundledAggregator } from './bundled-aggregations.ts';

export interface EventRequester {
  readonly userId: string;
  readonly deviceId: string | undefined;
}

export interface FormatEventsOptions {
  readonly format: ClientEventFormat;
  readonly now: number;
  readonly requester: EventRequester;
  /** Visibility already computed for `events` (saves a query); computed when absent. */
  readonly visibility?: ReadonlyMap<string, EventVisibility>;
  /** The requester's membership history in the room, when the caller loaded it already. */
  readonly history?: readonly MembershipStep[];
  /** Adds bundled aggregations (`unsigned["m.relations"]`); unset: none. */
  readonly aggregations?: BundledAggregator;
}

/**
 * The client-format JSON of `events` (all of `roomId`), in the same order. Visibility is not
 * re-checked here: the caller passes only events the requester may see.
 */
export async function formatRoomEvents(
  queries: ClientReadQueries,
  roomId: string,
  events: readonly RoomEvent[],
  options: FormatEventsOptions,
): Promise<JsonObject[]> {
  if (events.length === 0) return [];
  const { requester } = options;
  const visibility =
    options.visibility ?? (await queries.visibility(roomId, requester.userId, events, options.history));

  const replacedIds = new Set<string>();
  for (const event of events) {
    const replaced = visibility.get(event.eventId)?.replacesState;
    if (replaced !== undefined) replacedIds.add(replaced);
  }
  const replaced = await queries.events([...replacedIds]);
  const replacedVisibility = await queries.visibility(roomId, requester.userId, [...replaced.values()], options.history);

  const redactionIds = events.flatMap((e) => (e.redactedBy === null ? [] : [e.redactedBy]));
  const redactions = await queries.events(redactionIds);

  const ownIds = events.filter((e) => e.sender === requester.userId).map((e) => e.eventId);
  const txnIds =
    requester.deviceId === undefined || ownIds.length === 0
      ? new Map<string, string>()
      : await queries.transactionIds(roomId, requester.userId, requester.deviceId, ownIds);

  const relations = options.aggregations === undefined
    ? new Map<string, JsonObject>()
    : await options.aggregations.aggregate(roomId, events, requester.userId);

  return events.map((event) => {
    const facts = visibility.get(event.eventId);
    const previous = facts?.replacesState === undefined ? undefined : replaced.get(facts.replacesState);
    const previousContent =
      previous !== undefined && replacedVisibility.get(previous.eventId)?.visible === true
        ? getField(previous.json, 'content')
        : undefined;
    const redaction = event.redactedBy === null ? undefined : redactions.get(event.redactedBy);
    const txnId = txnIds.get(event.eventId);
    const extras: UnsignedExtras = {
      ...(facts === undefined ? {} : { membership: facts.membershipAfter }),
      ...(facts?.replacesState === undefined ? {} : { replacesState: facts.replacesState }),
      ...(isJsonObject(previousContent) ? { prevContent: previousContent } : {}),
      ...(redaction === undefined
        ? {}
        : { redactedBecause: toClientEvent(redaction, { format: options.format, now: options.now }) }),
      ...(txnId === undefined ? {} : { transactionId: clientTransactionId(txnId) }),
      ...(relations.has(event.eventId) ? { relations: relations.get(event.eventId) as JsonObject } : {}),
    };
    return toClientEvent(event, { format: options.format, now: options.now, unsigned: extras });
  });
}
