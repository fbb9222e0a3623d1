// GET /_matrix/client/v3/notifications (notifications.yaml getNotifications; client-server
// § "Listing Notifications"): the events the push worker recorded as notifying the user,
// newest first, with `read` from the user's read receipts. `from`/`next_token` are the
// stream position below which the next page starts.

import { defineEndpoint, type Endpoint } from '../../../http/define-endpoint.ts';
import { invalidParam } from '../../../http/matrix-error.ts';
import type { JsonObject, JsonValue } from '../../../rooms/json.ts';
import type { Roomserver } from '../../../roomserver/index.ts';
import type { StoaDatabase } from '../../../storage/index.ts';
import { NotificationsRepository } from '../../../storage/notifications-repository.ts';
import { toClientEvent } from '../../formatting/client-event.ts';

const DEFAULT_LIMIT = 20;
const MAX_LIMIT = 100;
const TOKEN = /^(0|[1-9][0-9]{0,15})$/;

export function notificationsEndpoints(deps: { db: StoaDatabase; roomserver: Roomserver; clock: () => number }): Endpoint[] {
  const repo = new NotificationsRepository(deps.db.kysely);
  return [
    defineEndpoint({
      method: 'GET',
      path: '/_matrix/client/v3/notifications',
      auth: 'required',
      operationId: 'getNotifications',
      handler: async ({ query, auth }) => {
        const from = query.get('from');
        if (from !== null && !TOKEN.test(from)) throw invalidParam('Unknown pagination token');
        const limitText = query.get('limit');
        const limit = limitText === null ? DEFAULT_LIMIT : Number(limitText);
        if (!Number.isSafeInteger(limit) || limit < 1) throw invalidParam('limit must be a positive integer');
        const only = query.get('only');
        const rows = await repo.page(auth.userId, {
          ...(from === null ? {} : { before: Number(from) }),
          limit: Math.min(limit, MAX_LIMIT),
          onlyHighlight: only === 'highlight',
        });
        const readPoints = await repo.readPoints(auth.userId, [...new Set(rows.map((r) => r.roomId))]);
        const now = deps.clock();
        const notifications: JsonObject[] = [];
        for (const row of rows) {
          const event = await deps.roomserver.event(row.eventId, 'client');
          if (event === undefined) continue;
          notifications.push({
            actions: parseArray(row.actions),
            event: toClientEvent(event, { format: 'sync', now }),
            read: row.streamOrdering <= (readPoints.get(row.roomId) ?? 0),
            room_id: row.roomId,
            ts: row.ts,
          });
        }
        const body: JsonObject = { notifications };
        const last = rows.at(-1);
        if (last !== undefined && rows.length === Math.min(limit, MAX_LIMIT)) body['next_token'] = String(last.streamOrdering);
        return body;
      },
    }),
  ];
}

function parseArray(text: string): JsonValue[] {
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) ? (value as JsonValue[]) : [];
  } catch {
    return [];
  }
}
