// GET /_matrix/client/v1/rooms/{roomId}/timestamp_to_event (room_event_by_timestamp.yaml
// `getEventByTimestamp`, v1.6): the room event closest to `ts` in direction `dir`.
//
// Answered from local history only: asking other servers (the federation endpoint of the
// same name) pays off for rooms joined late with little backfilled history, which Stoa does
// not yet fetch on demand. The reader needs access to the room (as for /messages), and the
// event found must be one they may see; otherwise 404, as when nothing is found.

import { defineEndpoint, type Endpoint } from '../../../http/define-endpoint.ts';
import { invalidParam, missingParam, notFound } from '../../../http/matrix-error.ts';
import type { ClientReadQueries } from '../../../roomserver/queries-client.ts';
import { EventTimestampsRepository } from '../../../storage/event-timestamps-repository.ts';
import type { StoaDatabase } from '../../../storage/index.ts';
import { timelineAccess } from '../rooms-read/access.ts';
import { roomIdParam } from '../rooms-read/params.ts';

export interface TimestampQuery {
  readonly ts: number;
  readonly dir: 'f' | 'b';
}

/** `ts` (an integer, milliseconds) and `dir` (`f` or `b`), both required. */
export function timestampQuery(query: URLSearchParams): TimestampQuery {
  const ts = query.get('ts');
  const dir = query.get('dir');
  if (ts === null || ts === '') throw missingParam('ts is required');
  if (dir === null || dir === '') throw missingParam('dir is required');
  if (!/^-?[0-9]{1,16}$/.test(ts) || !Number.isSafeInteger(Number(ts))) throw invalidParam('ts must be an integer');
  if (dir !== 'f' && dir !== 'b') throw invalidParam('dir must be f or b');
  return { ts: Number(ts), dir };
}

export function nothingFound(query: TimestampQuery) {
  return notFound(`Unable to find event from ${query.ts} in ${query.dir === 'f' ? 'forward' : 'backward'} direction`);
}

export function timestampEndpoints(deps: { readonly db: StoaDatabase; readonly queries: ClientReadQueries }): Endpoint[] {
  const timestamps = new EventTimestampsRepository(deps.db);
  return [
    defineEndpoint({
      method: 'GET',
      path: '/_matrix/client/v1/rooms/:roomId/timestamp_to_event',
      auth: 'required',
      rateLimit: 'timestamp_to_event',
      operationId: 'getEventByTimestamp',
      handler: async ({ params, query, auth }) => {
        const roomId = roomIdParam(params);
        const wanted = timestampQuery(query);
        const access = await timelineAccess(deps.queries, roomId, auth.userId);
        const found = await timestamps.closest(roomId, wanted.ts, wanted.dir);
        if (found === undefined) throw nothingFound(wanted);
        const event = await deps.queries.roomserver.event(found.eventId);
        if (event === undefined) throw nothingFound(wanted);
        const visible = await deps.queries.visibility(roomId, auth.userId, [event], access.history);
        if (visible.get(event.eventId)?.visible !== true) throw nothingFound(wanted);
        return { event_id: found.eventId, origin_server_ts: found.originServerTs };
      },
    }),
  ];
}
