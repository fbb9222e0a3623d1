// Activity reports through the admin API (issue 8 item 7; figures: ../reports/activity-report.ts):
//   GET /_stoa/admin/v1/reports/server?from=&to=&format=json|csv
//   GET /_stoa/admin/v1/reports/rooms/{roomId}?from=&to=&format=json|csv
// `from` (inclusive) and `to` (exclusive) are milliseconds since the epoch or ISO 8601
// dates; by default the last 30 days up to now.

import { HttpResponse, type Endpoint } from '../../http/define-endpoint.ts';
import { invalidParam, notFound } from '../../http/matrix-error.ts';
import type { JsonObject } from '../../rooms/json.ts';
import { ActivityReportsRepository } from '../../storage/activity-reports-repository.ts';
import type { StoaDatabase } from '../../storage/database.ts';
import type { AdminAccess } from '../api/access.ts';
import { enumParam, roomIdParam } from '../api/params.ts';
import { buildActivityReport, MAX_REPORT_DAYS, reportCsv, type ActivityReport } from '../reports/activity-report.ts';

const DAY_MS = 86_400_000;
const DEFAULT_DAYS = 30;

export interface ReportEndpointsDeps {
  readonly access: AdminAccess;
  readonly db: StoaDatabase;
  readonly clock: () => number;
}

export function reportEndpoints(deps: ReportEndpointsDeps): Endpoint[] {
  const { access, db, clock } = deps;
  const rangeOf = (query: URLSearchParams): { fromTs: number; toTs: number } => {
    const toTs = timeParam(query, 'to') ?? clock();
    const fromTs = timeParam(query, 'from') ?? toTs - DEFAULT_DAYS * DAY_MS;
    if (toTs <= fromTs) throw invalidParam('"to" must be after "from"');
    if ((toTs - fromTs) / DAY_MS > MAX_REPORT_DAYS) throw invalidParam(`A report covers at most ${MAX_REPORT_DAYS} days`);
    return { fromTs, toTs };
  };
  const answer = (report: ActivityReport, format: 'json' | 'csv', name: string): HttpResponse | JsonObject => {
    if (format === 'json') return report as unknown as JsonObject;
    return new HttpResponse(200, reportCsv(report), 'text/csv; charset=utf-8', { 'Content-Disposition': `attachment; filename="${name}.csv"` });
  };
  return [
    access.endpoint({
      method: 'GET',
      path: '/_stoa/admin/v1/reports/server',
      access: 'read',
      action: 'report-server',
      handler: async ({ query }) => {
        const format = enumParam(query, 'format', ['json', 'csv'], 'json');
        const report = await buildActivityReport(db, { roomId: null, ...rangeOf(query) });
        return answer(report, format, 'server-activity');
      },
    }),
    access.endpoint({
      method: 'GET',
      path: '/_stoa/admin/v1/reports/rooms/:roomId',
      access: 'read',
      action: 'report-room',
      target: ({ params }) => params['roomId'] ?? null,
      handler: async ({ query, params }) => {
        const roomId = roomIdParam(params['roomId']);
        const format = enumParam(query, 'format', ['json', 'csv'], 'json');
        const range = rangeOf(query);
        if (!(await new ActivityReportsRepository(db).roomExists(roomId))) throw notFound('Room not found');
        const report = await buildActivityReport(db, { roomId, ...range });
        return answer(report, format, 'room-activity');
      },
    }),
  ];
}

/** Milliseconds since the epoch or an ISO 8601 date/time; undefined when absent. */
export function timeParam(query: URLSearchParams, name: string): number | undefined {
  const text = query.get(name);
  if (text === null || text === '') return undefined;
  if (/^\d{1,15}$/.test(text)) return Number(text);
  const ms = Date.parse(text);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text) || Number.isNaN(ms)) {
    throw invalidParam(`Query parameter "${name}" must be milliseconds since the epoch or an ISO 8601 date`);
  }
  return ms;
}
