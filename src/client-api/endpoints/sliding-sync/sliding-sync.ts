// POST /_matrix/client/unstable/org.matrix.simplified_msc3575/sync (MSC4186, as Synapse
// serves it): `pos` and `timeout` are query parameters, the configuration is the body. A
// long-poll ends early when the client disconnects.

import { ANY_JSON_OBJECT, defineEndpoint, type Endpoint } from '../../../http/define-endpoint.ts';
import { invalidParam } from '../../../http/matrix-error.ts';
import { parseSlidingSyncBody } from '../../sliding-sync/request.ts';
import type { SlidingSyncService } from '../../sliding-sync/sliding-sync-service.ts';

export const SLIDING_SYNC_PATH = '/_matrix/client/unstable/org.matrix.simplified_msc3575/sync';

export function slidingSyncEndpoint(service: SlidingSyncService): Endpoint {
  return defineEndpoint({
    method: 'POST',
    path: SLIDING_SYNC_PATH,
    auth: 'required',
    body: ANY_JSON_OBJECT,
    async handler({ query, body, auth, ctx }) {
      const parsed = parseSlidingSyncBody(body, auth.userId);
      const pos = query.get('pos');
      const timeout = query.get('timeout');
      if (timeout !== null && timeout !== '' && !/^\d{1,15}$/.test(timeout)) throw invalidParam('timeout must be a non-negative integer');
      const abort = new AbortController();
      const onClose = () => abort.abort();
      // The response's `close`: the request's fired already, once its body was read.
      ctx.res.once('close', onClose);
      try {
        return await service.sync({
          userId: auth.userId,
          deviceId: auth.deviceId,
          pos: pos === null || pos === '' ? undefined : pos,
          timeoutMs: timeout === null || timeout === '' ? 0 : Number(timeout),
          body: parsed,
          signal: abort.signal,
        });
      } finally {
        ctx.res.off('close', onClose);
      }
    },
  });
}
