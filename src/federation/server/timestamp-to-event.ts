// GET /_matrix/federation/v1/timestamp_to_event/{roomId} (server-server § "Retrieving
// events", events.yaml `getEventByTimestamp`, v1.6): the room event closest to `ts` for a
// server in the room, so it can answer its own clients' /timestamp_to_event. Same checks as
// the other reads: ACL, the asking server in the room, and the event visible to it.

import { defineEndpoint, type Endpoint } from '../../http/define-endpoint.ts';
import { invalidParam, missingParam, notFound } from '../../http/matrix-error.ts';
import type { Roomserver } from '../../roomserver/index.ts';
import { EventTimestampsRepository } from '../../storage/event-timestamps-repository.ts';
import type { StoaDatabase } from '../../storage/index.ts';
import type { RoomAccess } from '../policy/room-access.ts';

export interface TimestampToEventDeps {
  readonly db: StoaDatabase;
  readonly rooms: Pick<Roomserver, 'event'>;
  readonly access: Pick<RoomAccess, 'assertMayReadRoom' | 'eventVisibleTo'>;
}

export function timestampToEventEndpoint(deps: TimestampToEventDeps): Endpoint {
  const timestamps = new EventTimestampsRepository(deps.db);
  return defineEndpoint({
    method: 'GET',
    path: '/_matrix/federation/v1/timestamp_to_event/:roomId',
    auth: 'federation',
    operationId: 'getEventByTimestamp',
    handler: async ({ params, query, auth }) => {
      const roomId = params['roomId'] ?? '';
      const ts = query.get('ts');
      const dir = query.get('dir');
      if (ts === null || dir === null) throw missingParam('ts and dir are required');
      if (!/^-?[0-9]{1,16}$/.test(ts) || !Number.isSafeInteger(Number(ts))) throw invalidParam('ts must be an integer');
      if (dir !== 'f' && dir !== 'b') throw invalidParam('dir must be f or b');
      await deps.access.assertMayReadRoom(roomId, auth.serverName);
      const nothing = () => notFound(`Unable to find event from ${ts} in ${dir === 'f' ? 'forward' : 'backward'} direction`);
      const found = await timestamps.closest(roomId, Number(ts), dir);
      if (found === undefined) throw nothing();
      const event = await deps.rooms.event(found.eventId);
      if (event === undefined || !(await deps.access.eventVisibleTo(event, auth.serverName))) throw nothing();
      return { event_id: found.eventId, origin_server_ts: found.originServerTs };
    },
  });
}
