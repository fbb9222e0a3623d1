import type { EventView } from '../event-view.ts';

/**
 * `origin_server_ts` as a sort key. A missing or non-finite value (a malformed event)
 * sorts as 0, so every comparison stays a total order.
 */
export function timestampOf(event: EventView | undefined): number {
  const ts = event?.originServerTs;
  return typeof ts === 'number' && Number.isFinite(ts) ? ts : 0;
}
