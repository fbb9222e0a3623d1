// Pagination tokens for GET /rooms/{roomId}/messages and /context (client-server § "Syncing",
// "Getting events for a room"). A token names a point in the room-event stream *between*
// events: token `s<N>` stands after the event with stream ordering N and before N + 1.
//
//   - dir=b from `s<N>` returns events with stream ordering ≤ N, newest first;
//   - dir=f from `s<N>` returns events with stream ordering > N, oldest first.
//
// /sync's tokens (../sync/sync-token.ts, `v1_…`) are accepted too, by their room-event
// position, which means the same ("everything at or below P"): the spec lets clients pass a
// sync `prev_batch` or `next_batch` as `from`/`to`. For a timeline whose first event has
// stream ordering F, /sync's `prev_batch` holds F - 1, so dir=b continues just before it.
// Tokens that start with `s<N>_` (Synapse-style multi-stream tokens, the room-event position
// first) are read as `s<N>`.

import { decodeSyncToken } from '../sync/sync-token.ts';

export const PAGINATION_TOKEN_PREFIX = 's';

// Backfilled history sits at negative positions (below the room's first local event).
const TOKEN = /^s(0|-?[1-9][0-9]{0,15})(?:_[A-Za-z0-9_.~-]*)?$/;

export function encodePaginationToken(streamPosition: number): string {
  if (!Number.isSafeInteger(streamPosition)) {
    throw new RangeError(`stream position must be a safe integer: ${streamPosition}`);
  }
  return `${PAGINATION_TOKEN_PREFIX}${streamPosition}`;
}

/** The stream position a token names, or undefined when the token is not one of ours. */
export function decodePaginationToken(token: string): number | undefined {
  const match = TOKEN.exec(token);
  if (match === null) {
    const sync = decodeSyncToken(token);
    return sync.ok ? sync.position.events : undefined;
  }
  const position = Number(match[1]);
  return Number.isSafeInteger(position) ? position : undefined;
}
