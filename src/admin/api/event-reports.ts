// Event reports (Synapse's docs/admin_api/event_reports.md), from the reports users file
// with POST /rooms/{roomId}/report/{eventId} (client-server § "Reporting Content"):
//   GET    /_synapse/admin/v1/event_reports             (from, limit, dir, user_id, room_id)
//   GET    /_synapse/admin/v1/event_reports/{reportId}  with the reported event
//   DELETE /_synapse/admin/v1/event_reports/{reportId}

import type { Endpoint } from '../../http/define-endpoint.ts';
import { invalidParam, notFound } from '../../http/matrix-error.ts';
import type { JsonObject } from '../../rooms/json.ts';
import type { Roomserver } from '../../roomserver/index.ts';
import type { AdminRepository, EventReportRow } from '../../storage/admin-repository.ts';
import type { AdminAccess } from './access.ts';
import { dirParam, intParam, nextToken } from './params.ts';

export interface EventReportEndpointsDeps {
  readonly access: AdminAccess;
  readonly repository: AdminRepository;
  readonly roomserver: Pick<Roomserver, 'event' | 'stateEvent'>;
}

export function eventReportEndpoints(deps: EventReportEndpointsDeps): Endpoint[] {
  const { access, repository, roomserver } = deps;

  async function reportJson(report: EventReportRow): Promise<JsonObject> {
    const roomId = report.roomId;
    const name = roomId === null ? undefined : await roomserver.stateEvent(roomId, 'm.room.name', '');
    const alias = roomId === null ? undefined : await roomserver.stateEvent(roomId, 'm.room.canonical_alias', '');
    const event = report.eventId === null ? undefined : await roomserver.event(report.eventId);
    const nameValue = (name?.json['content'] as JsonObject | undefined)?.['name'];
    const aliasValue = (alias?.json['content'] as JsonObject | undefined)?.['alias'];
    return {
      id: report.id,
      received_ts: report.ts,
      room_id: roomId,
      name: typeof nameValue === 'string' ? nameValue : null,
      event_id: report.eventId,
      user_id: report.reporter,
      reason: report.reason,
      score: report.score,
      sender: event?.sender ?? null,
      canonical_alias: typeof aliasValue === 'string' ? aliasValue : null,
    };
  }

  const reportIdOf = (params: Readonly<Record<string, string>>): number => {
    const text = params['reportId'] ?? '';
    if (!/^\d{1,15}$/.test(text)) throw invalidParam('The report ID must be a non-negative integer');
    return Number(text);
  };

  return [
    access.endpoint({
      method: 'GET',
      path: '/_synapse/admin/v1/event_reports',
      access: 'read',
      action: 'list-event-reports',
      handler: async ({ query }) => {
        const from = intParam(query, 'from', 0);
        const limit = intParam(query, 'limit', 100, 1000);
        const filter: { userId?: string; roomId?: string } = {};
        const userId = query.get('user_id');
        const roomId = query.get('room_id');
        if (userId !== null && userId !== '') filter.userId = userId;
        if (roomId !== null && roomId !== '') filter.roomId = roomId;
        const { reports, total } = await repository.eventReports(filter, from, limit, dirParam(query, 'b'));
        const listed: JsonObject[] = [];
        for (const report of reports) listed.push(await reportJson(report));
        const next = nextToken(from, reports.length, total).next_token;
        return { event_reports: listed, total, ...(next === undefined ? {} : { next_token: Number(next) }) };
      },
    }),

    access.endpoint({
      method: 'GET',
      path: '/_synapse/admin/v1/event_reports/:reportId',
      access: 'read',
      action: 'query-event-report',
      target: ({ params }) => params['reportId'] ?? null,
      handler: async ({ params }) => {
        const report = await repository.eventReport(reportIdOf(params));
        if (report === undefined) throw notFound('Event report not found');
        const event = report.eventId === null ? undefined : await roomserver.event(report.eventId);
        return { ...(await reportJson(report)), event_json: event?.json ?? null };
      },
    }),

    access.endpoint({
      method: 'DELETE',
      path: '/_synapse/admin/v1/event_reports/:reportId',
      access: 'admin',
      action: 'delete-event-report',
      target: ({ params }) => params['reportId'] ?? null,
      handler: async ({ params }) => {
        if (!(await repository.deleteEventReport(reportIdOf(params)))) throw notFound('Event report not found');
        return {};
      },
    }),
  ];
}
