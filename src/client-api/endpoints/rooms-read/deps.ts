// What the room-read endpoints share: the roomserver's client read queries and the clock.

import type { ClientReadQueries } from '../../../roomserver/queries-client.ts';
import type { BundledAggregator } from '../../formatting/bundled-aggregations.ts';

export interface RoomsReadDeps {
  readonly queries: ClientReadQueries;
  /** Milliseconds since the epoch, for `unsigned.age`. */
  readonly clock: () => number;
  /** Bundled aggregations for /messages, /context and /event; unset: none. */
  readonly aggregations?: BundledAggregator;
}
