// GET /_matrix/client/v1/mutual_rooms (client-server § "Mutual Rooms", v1.19,
// mutual_rooms.yaml `getMutualRooms`), and the same under MSC2666's unstable path, which
// Synapse serves and clients released before v1.19 call.
//
// The rooms both users are joined to, sorted by room ID and served in batches; `next_batch`
// is the last room ID of the batch (opaque to clients), so a token never expires and a
// room joined meanwhile is simply included if it sorts later.

import { defineEndpoint, type Endpoint } from '../../../http/define-endpoint.ts';
import { invalidParam, missingParam } from '../../../http/matrix-error.ts';
import { parseUserId } from '../../../rooms/identifiers.ts';
import type { Roomserver } from '../../../roomserver/index.ts';

const BATCH_SIZE = 100;
const TOKEN_PREFIX = 'mr_';

export function mutualRoomsEndpoints(roomserver: Pick<Roomserver, 'roomsForUser'>, batchSize = BATCH_SIZE): Endpoint[] {
  const handler = async ({ query, auth }: { query: URLSearchParams; auth: { userId: string } }) => {
    const other = query.get('user_id');
    if (other === null || other === '') throw missingParam('user_id is required');
    if (parseUserId(other, { historical: true }) === undefined) throw invalidParam('user_id is not a valid user ID');
    if (other === auth.userId) throw invalidParam('user_id is your own user ID');
    const from = query.get('from');
    let after: string | undefined;
    if (from !== null) {
      if (!from.startsWith(TOKEN_PREFIX)) throw invalidParam('from is not a valid batch token');
      after = Buffer.from(from.slice(TOKEN_PREFIX.length), 'base64url').toString('utf8');
      if (!after.startsWith('!')) throw invalidParam('from is not a valid batch token');
    }
    const [mine, theirs] = await Promise.all([roomserver.roomsForUser(auth.userId, 'join'), roomserver.roomsForUser(other, 'join')]);
    const theirSet = new Set(theirs);
    const shared = mine.filter((roomId) => theirSet.has(roomId)).sort();
    const remaining = after === undefined ? shared : shared.filter((roomId) => roomId > after);
    const joined = remaining.slice(0, batchSize);
    const last = joined.at(-1);
    return {
      joined,
      count: shared.length,
      ...(remaining.length > joined.length && last !== undefined
        ? { next_batch: TOKEN_PREFIX + Buffer.from(last, 'utf8').toString('base64url') }
        : {}),
    };
  };
  return [
    defineEndpoint({
      method: 'GET',
      path: '/_matrix/client/v1/mutual_rooms',
      auth: 'required',
      rateLimit: 'mutual_rooms',
      operationId: 'getMutualRooms',
      handler,
    }),
    defineEndpoint({
      method: 'GET',
      path: '/_matrix/client/unstable/uk.half-shot.msc2666/user/mutual_rooms',
      auth: 'required',
      rateLimit: 'mutual_rooms',
      handler,
    }),
  ];
}
