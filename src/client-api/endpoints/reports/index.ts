// Reporting content (client-server § "Reporting Content", report_content.yaml): events,
// rooms and users, stored for the server's administrators (src/storage/reports-repository.ts).
//
// - Events: the reporter must be joined to the room now (v1.8) and able to see the event;
//   anything else, and an event this server does not hold, is the same 404 M_NOT_FOUND.
// - Rooms (v1.13): the reporter need not be joined; a room this server does not know is 404.
// - Users (v1.14): no shared room needed; a local user who does not exist is 404. Users of
//   other servers cannot be checked from here and are accepted.

import { defineEndpoint, jsonBody, type Endpoint } from '../../../http/define-endpoint.ts';
import { invalidParam, notFound } from '../../../http/matrix-error.ts';
import { parseUserId } from '../../../rooms/identifiers.ts';
import type { JsonObject } from '../../../rooms/json.ts';
import type { ClientReadQueries } from '../../../roomserver/queries-client.ts';
import { AccountsRepository } from '../../../storage/accounts-repository.ts';
import type { StoaDatabase } from '../../../storage/index.ts';
import { ReportsRepository } from '../../../storage/reports-repository.ts';

/** Reports are free text for humans; anything longer is noise (or abuse of the table). */
const MAX_REASON_LENGTH = 4096;

interface EventReportBody extends JsonObject {
  reason?: string;
}

interface ReasonBody extends JsonObject {
  reason: string;
}

const EVENT_REPORT_BODY = jsonBody<EventReportBody>({
  type: 'object',
  // `score` was removed in v1.18; older clients still send it and it is kept when sensible.
  properties: { reason: { type: 'string', maxLength: MAX_REASON_LENGTH } },
});

const REASON_BODY = jsonBody<ReasonBody>({
  type: 'object',
  properties: { reason: { type: 'string', maxLength: MAX_REASON_LENGTH } },
  required: ['reason'],
});

export interface ReportsDeps {
  readonly db: StoaDatabase;
  readonly queries: ClientReadQueries;
  readonly serverName: string;
  readonly clock: () => number;
}

export function reportEndpoints(deps: ReportsDeps): Endpoint[] {
  const reports = new ReportsRepository(deps.db);
  const accounts = new AccountsRepository(deps.db.kysely);
  const roomserver = deps.queries.roomserver;
  return [
    defineEndpoint({
      method: 'POST',
      path: '/_matrix/client/v3/rooms/:roomId/report/:eventId',
      auth: 'required',
      body: EVENT_REPORT_BODY,
      rateLimit: 'report',
      operationId: 'reportEvent',
      handler: async ({ params, body, auth }) => {
        const roomId = params['roomId'] ?? '';
        const eventId = params['eventId'] ?? '';
        const notVisible = () => notFound('The event was not found or you are not joined to the room');
        if ((await roomserver.membership(roomId, auth.userId)) !== 'join') throw notVisible();
        const event = await roomserver.event(eventId);
        if (event === undefined || event.roomId !== roomId) throw notVisible();
        const visibility = await deps.queries.visibility(roomId, auth.userId, [event]);
        if (visibility.get(eventId)?.visible !== true) throw notVisible();
        const score = body['score'];
        await reports.add({
          ts: deps.clock(),
          reporter: auth.userId,
          kind: 'event',
          roomId,
          eventId,
          ...(body.reason === undefined ? {} : { reason: body.reason }),
          ...(Number.isInteger(score) && (score as number) >= -100 && (score as number) <= 0 ? { score: score as number } : {}),
        });
        return {};
      },
    }),
    defineEndpoint({
      method: 'POST',
      path: '/_matrix/client/v3/rooms/:roomId/report',
      auth: 'required',
      body: REASON_BODY,
      rateLimit: 'report',
      operationId: 'reportRoom',
      handler: async ({ params, body, auth }) => {
        const roomId = params['roomId'] ?? '';
        if ((await roomserver.roomVersion(roomId)) === undefined) throw notFound('The room was not found');
        await reports.add({ ts: deps.clock(), reporter: auth.userId, kind: 'room', roomId, reason: body.reason });
        return {};
      },
    }),
    defineEndpoint({
      method: 'POST',
      path: '/_matrix/client/v3/users/:userId/report',
      auth: 'required',
      body: REASON_BODY,
      rateLimit: 'report',
      operationId: 'reportUser',
      handler: async ({ params, body, auth }) => {
        const userId = params['userId'] ?? '';
        const parsed = parseUserId(userId, { historical: true });
        if (parsed === undefined) throw invalidParam('Invalid user ID');
        if (parsed.serverName === deps.serverName && !(await accounts.userExists(userId))) throw notFound('The user was not found');
        await reports.add({ ts: deps.clock(), reporter: auth.userId, kind: 'user', targetUserId: userId, reason: body.reason });
        return {};
      },
    }),
  ];
}
