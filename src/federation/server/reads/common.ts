// What the federation read endpoints share: their dependencies, the transaction envelope
// several of them answer with (data/api/server-server/definitions/transaction.yaml), and
// finding an event of a room the asking server may read.

import { notFound } from '../../../http/matrix-error.ts';
import type { RoomEvent, Roomserver } from '../../../roomserver/index.ts';
import type { JsonObject } from '../../../rooms/json.ts';
import { edgeEventIds } from '../../../rooms/pdu/view.ts';
import { roomVersionRules } from '../../../rooms/room-versions.ts';
import type { RoomAccess } from '../../policy/room-access.ts';

export interface ReadDeps {
  readonly rooms: Pick<Roomserver, 'event' | 'stateAt' | 'authChain' | 'roomVersion'>;
  readonly access: Pick<RoomAccess, 'assertMayReadRoom' | 'assertAclAllows' | 'eventVisibleTo'>;
  readonly serverName: string;
  readonly clock: () => number;
}

/** `{origin, origin_server_ts, pdus}`: the answer of /event and /backfill. */
export function transactionOf(deps: ReadDeps, pdus: readonly JsonObject[]): JsonObject {
  return { origin: deps.serverName, origin_server_ts: deps.clock(), pdus: [...pdus] };
}

/**
 * The PDU as other servers should get it: redacted when a redaction applies (the roomserver's
 * client view of the stored JSON), never a rejected event.
 */
export async function servableEvent(deps: ReadDeps, eventId: string): Promise<RoomEvent | undefined> {
  const event = await deps.rooms.event(eventId, 'client');
  return event === undefined || event.rejectedReason !== null ? undefined : event;
}

/** An event of `roomId` we can serve, else 404 M_NOT_FOUND (also for another room's event). */
export async function eventOfRoom(deps: ReadDeps, roomId: string, eventId: string): Promise<RoomEvent> {
  const event = await servableEvent(deps, eventId);
  if (event === undefined || event.roomId !== roomId) throw notFound(`Could not find event ${eventId}`);
  return event;
}

/** The events `event` names as prev_events (empty when its JSON cannot be read). */
export function prevEventIdsOf(event: RoomEvent): string[] {
  const rules = roomVersionRules(event.roomVersion);
  if (rules === undefined) return [];
  try {
    return edgeEventIds(event.json['prev_events'], rules);
  } catch {
    return [];
  }
}

/** The PDUs of `ids` we can serve, in the order given, unknown or rejected ones left out. */
export async function servableEvents(deps: ReadDeps, ids: readonly string[]): Promise<RoomEvent[]> {
  const events: RoomEvent[] = [];
  for (const id of ids) {
    const event = await servableEvent(deps, id);
    if (event !== undefined) events.push(event);
  }
  return events;
}
