// Inputs shared by the state resolution steps (content/rooms/v1.md "State resolution",
// content/rooms/fragments/v2-state-res.md, content/rooms/v12.md "State resolution").

import type { AuthContext } from '../auth/types.ts';
import type { EventView, StateMap } from '../event-view.ts';
import type { RoomVersionRules } from '../room-versions.ts';

/** Synchronous event loader: `undefined` when the caller does not have the event. */
export type LoadEvent = (eventId: string) => EventView | undefined;

export interface ResolveInput {
  readonly rules: RoomVersionRules;
  /** The states to resolve, e.g. the states after each of an event's `prev_events`. */
  readonly stateSets: readonly StateMap[];
  /**
   * One full auth chain per state set, in the same order: every event reachable by
   * `auth_events` from the set's events, the set's events included (as Synapse and Ruma
   * compute it). The auth difference is only as correct as these chains, so they are an
   * input, never guessed. Unused by state resolution v1.
   */
  readonly authChains: readonly ReadonlySet<string>[];
  readonly loadEvent: LoadEvent;
  /**
   * Whether an event was rejected. Rejected auth events are not used to fill gaps in the
   * iterative auth checks (v2-state-res.md "Rejected events"). Default: none are.
   */
  readonly isRejected?: (eventId: string) => boolean;
  readonly isSignedBy: AuthContext['isSignedBy'];
  readonly verifyThirdPartySignature: AuthContext['verifyThirdPartySignature'];
  /**
   * Lets a long resolution give the event loop a turn; `rooms` has no timers, so the
   * caller passes one (e.g. a `setImmediate` promise). Default: never yield.
   */
  readonly yieldToEventLoop?: () => Promise<void>;
  /** Steps between two yields (default 500). */
  readonly yieldEvery?: number;
}
