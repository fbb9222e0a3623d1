// The hook through which the relations area adds bundled aggregations (client-server
// § "Aggregations of child events": `unsigned["m.relations"]`) to events the read endpoints
// and /sync serve. The formatter only asks; what is aggregated (edits, threads, references)
// and how is the relations area's business.

import type { JsonObject } from '../../rooms/json.ts';

/** The fields of a room event the aggregator reads (RoomEvent and sync's LoadedEvent have them). */
export interface AggregationTarget {
  readonly eventId: string;
  readonly type: string;
  readonly stateKey: string | undefined;
  readonly sender: string;
  readonly redactedBy: string | null;
}

export interface BundledAggregator {
  /**
   * `unsigned["m.relations"]` by event ID, for those of `events` (all in `roomId`) that have
   * any aggregation `userId` may see; events without one are absent from the map.
   */
  aggregate(roomId: string, events: readonly AggregationTarget[], userId: string): Promise<Map<string, JsonObject>>;
}
