// GET /_matrix/client/v3/sync (client-server § "Syncing", sync.yaml `sync`): parses the
// query, resolves the filter (an uploaded filter's ID, or inline JSON when the parameter
// starts with `{`), and hands the rest to the SyncService. A long-poll ends early when the
// client disconnects.

import { defineEndpoint, type Endpoint } from '../../../http/define-endpoint.ts';
import { invalidParam, notJson } from '../../../http/matrix-error.ts';
import type { JsonValue } from '../../../rooms/json.ts';
import type { FiltersRepository } from '../../../storage/index.ts';
import { DEFAULT_SYNC_FILTER, parseSyncFilter, type SyncFilter } from '../../filters/sync-filter.ts';
import type { SetPresence, SyncService } from '../../sync/sync-service.ts';
import { parseSyncToken } from '../../sync/sync-token.ts';

const SET_PRESENCE: ReadonlySet<string> = new Set(['online', 'unavailable', 'offline']);

export function syncEndpoint(service: SyncService, filters: FiltersRepository): Endpoint {
  return defineEndpoint({
    method: 'GET',
    path: '/_matrix/client/v3/sync',
    auth: 'required',
    operationId: 'sync',
    async handler({ query, auth, ctx }) {
      const since = query.get('since');
      const setPresence = query.get('set_presence') ?? 'online';
      if (!SET_PRESENCE.has(setPresence)) throw invalidParam('set_presence must be one of online, unavailable, offline');
      const abort = new AbortController();
      const onClose = () => abort.abort();
      ctx.req.once('close', onClose);
      try {
        return await service.sync({
          userId: auth.userId,
          deviceId: auth.deviceId,
          since: since === null || since === '' ? undefined : parseSyncToken(since, 'since'),
          filter: await resolveFilter(query.get('filter'), auth.userId, filters),
          fullState: booleanParam(query.get('full_state'), 'full_state'),
          timeoutMs: timeoutParam(query.get('timeout')),
          setPresence: setPresence as SetPresence,
          signal: abort.signal,
        });
      } finally {
        ctx.req.off('close', onClose);
      }
    },
  });
}

export async function resolveFilter(param: string | null, userId: string, filters: FiltersRepository): Promise<SyncFilter> {
  if (param === null || param === '') return DEFAULT_SYNC_FILTER;
  if (param.startsWith('{')) {
    let parsed: JsonValue;
    try {
      parsed = JSON.parse(param) as JsonValue;
    } catch {
      throw notJson('filter is not valid JSON');
    }
    return parseSyncFilter(parsed);
  }
  const stored = await filters.get(userId, param);
  if (stored === undefined) throw invalidParam(`No such filter: ${param}`);
  return parseSyncFilter(JSON.parse(stored) as JsonValue);
}

function booleanParam(value: string | null, name: string): boolean {
  if (value === null || value === '' || value === 'false') return false;
  if (value === 'true') return true;
  throw invalidParam(`${name} must be true or false`);
}

function timeoutParam(value: string | null): number {
  if (value === null || value === '') return 0;
  if (!/^\d{1,15}$/.test(value)) throw invalidParam('timeout must be a non-negative integer');
  return Number(value);
}
