// Activity reports (issue 8 item 7): per-server and per-room figures an operator asks for,
// one row per UTC day of the range, as JSON or CSV.
//
//   messages            m.room.message / m.room.encrypted / m.sticker events accepted that day
//   active_users        distinct senders of those messages that day
//   median_response_ms  median gap between a message and the previous one in its room when
//                       the two senders differ (a reply, roughly); null on days without any
//   media_uploads/bytes server: local uploads stored that day; room: messages carrying a
//                       media URL and the sizes their `info.size` declares (the room report
//                       cannot see uploads that were never posted to it)
//
// Totals cover the whole range (active users counted once; the median over all responses).

import { isJsonObject, type JsonObject } from '../../rooms/json.ts';
import { ActivityReportsRepository, type ReportRange } from '../../storage/activity-reports-repository.ts';
import type { StoaDatabase } from '../../storage/database.ts';

const DAY_MS = 86_400_000;
/** More days than this in one report is refused: one row per day is built in memory. */
export const MAX_REPORT_DAYS = 3660;

export interface ReportDay {
  readonly date: string;
  readonly messages: number;
  readonly active_users: number;
  readonly median_response_ms: number | null;
  readonly media_uploads: number;
  readonly media_bytes: number;
}

export interface ActivityReport {
  readonly scope: 'server' | 'room';
  readonly room_id: string | null;
  readonly from_ts: number;
  readonly to_ts: number;
  readonly days: ReportDay[];
  readonly totals: {
    readonly messages: number;
    readonly active_users: number;
    readonly median_response_ms: number | null;
    readonly responses: number;
    readonly media_uploads: number;
    readonly media_bytes: number;
  };
}

export async function buildActivityReport(db: StoaDatabase, range: ReportRange): Promise<ActivityReport> {
  const repository = new ActivityReportsRepository(db);
  const days = new Map<number, { messages: number; active_users: number; median_response_ms: number | null; media_uploads: number; media_bytes: number }>();
  const firstDay = Math.floor(range.fromTs / DAY_MS);
  const lastDay = Math.floor((range.toTs - 1) / DAY_MS);
  for (let day = firstDay; day <= lastDay; day++) days.set(day, { messages: 0, active_users: 0, median_response_ms: null, media_uploads: 0, media_bytes: 0 });
  const at = (day: number) => days.get(day);

  for (const row of await repository.messagesPerDay(range)) {
    const entry = at(row.day);
    if (entry !== undefined) Object.assign(entry, { messages: row.messages, active_users: row.activeUsers });
  }
  let overallMedian: number | null = null;
  let responses = 0;
  for (const row of await repository.responseMedians(range)) {
    if (row.day === null) {
      overallMedian = row.medianMs;
      responses = row.responses;
      continue;
    }
    const entry = at(row.day);
    if (entry !== undefined) entry.median_response_ms = row.medianMs;
  }
  if (range.roomId === null) {
    for (const row of await repository.uploadsPerDay(range.fromTs, range.toTs)) {
      const entry = at(row.day);
      if (entry !== undefined) Object.assign(entry, { media_uploads: row.uploads, media_bytes: row.bytes });
    }
  } else {
    for (let after = 0; ; ) {
      const page = await repository.mediaMessages({ ...range, roomId: range.roomId }, after, 1000);
      for (const row of page) {
        const entry = at(Math.floor(row.ts / DAY_MS));
        const size = mediaSizeOf(row.json);
        if (entry === undefined || size === undefined) continue;
        entry.media_uploads++;
        entry.media_bytes += size;
      }
      const last = page.at(-1);
      if (last === undefined || page.length < 1000) break;
      after = last.streamOrdering;
    }
  }
  const rows: ReportDay[] = [...days].sort(([a], [b]) => a - b).map(([day, entry]) => ({ date: isoDay(day), ...entry }));
  return {
    scope: range.roomId === null ? 'server' : 'room',
    room_id: range.roomId,
    from_ts: range.fromTs,
    to_ts: range.toTs,
    days: rows,
    totals: {
      messages: rows.reduce((n, r) => n + r.messages, 0),
      active_users: await repository.activeUsers(range),
      median_response_ms: overallMedian,
      responses,
      media_uploads: rows.reduce((n, r) => n + r.media_uploads, 0),
      media_bytes: rows.reduce((n, r) => n + r.media_bytes, 0),
    },
  };
}

/** A media message's declared size (`content.info.size`), or undefined when it has no media URL. */
function mediaSizeOf(json: string): number | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    return undefined;
  }
  const content = isJsonObject(parsed) ? parsed['content'] : undefined;
  if (!isJsonObject(content)) return undefined;
  const file = content['file'];
  const url = typeof content['url'] === 'string' ? content['url'] : isJsonObject(file) ? (file as JsonObject)['url'] : undefined;
  if (typeof url !== 'string' || !url.startsWith('mxc://')) return undefined;
  const info = content['info'];
  const size = isJsonObject(info) ? info['size'] : undefined;
  return typeof size === 'number' && Number.isSafeInteger(size) && size >= 0 ? size : 0;
}

function isoDay(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

export const CSV_COLUMNS = ['date', 'messages', 'active_users', 'median_response_ms', 'media_uploads', 'media_bytes'] as const;

/** RFC 4180 CSV: a header, one row per day, then a `total` row. */
export function reportCsv(report: ActivityReport): string {
  const lines: string[] = [CSV_COLUMNS.join(',')];
  for (const day of report.days) lines.push(CSV_COLUMNS.map((column) => csvCell(day[column])).join(','));
  const t = report.totals;
  lines.push(['total', t.messages, t.active_users, t.median_response_ms, t.media_uploads, t.media_bytes].map(csvCell).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

function csvCell(value: string | number | null): string {
  if (value === null) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
