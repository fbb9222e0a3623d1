// Contract between the authorization rules (src/rooms/auth) and their callers
// (state resolution, checks on receipt, the roomserver pipeline).

import type { EventView } from '../event-view.ts';
import type { RoomVersionRules } from '../room-versions.ts';

export interface AuthContext {
  readonly rules: RoomVersionRules;
  /**
   * The state the event is authorised against: its auth events, the state before it,
   * or the current state, depending on which check on receipt runs.
   * In v12 the create event is never among `auth_events`, yet the rules still read it
   * (room ID rule, creators): `state('m.room.create', '')` must answer it regardless.
   */
  readonly state: (type: string, stateKey: string) => EventView | undefined;
  /**
   * Whether `event` carries a valid signature of `serverName`. Signatures are checked
   * outside the pure core; the caller answers from its verification results
   * (used by `join_authorised_via_users_server`, rule 4.2 / 5.2 by version).
   */
  readonly isSignedBy: (event: EventView, serverName: string) => boolean;
  /**
   * Verifies `signed` (a third-party invite's signed block) with an ed25519 public key
   * given in unpadded base64, as the caller's crypto does it. Must not throw: a
   * malformed block or key is simply "not verified".
   */
  readonly verifyThirdPartySignature: (signed: unknown, publicKeyBase64: string) => boolean;
  /**
   * The event's own `auth_events`, resolved. When given, the rules about the list itself
   * run (v1–v11 rule 2.x, v12 rule 3.x: duplicates, selection, rejected entries, the
   * create event, room IDs). State resolution's iterative auth checks leave it out.
   */
  readonly authEvents?: AuthEventsInput;
}

export interface AuthEventsInput {
  /** The events named by the event's `auth_events`; an ID with no event here is a rejection. */
  readonly events: readonly EventView[];
  /** Whether an auth event was itself rejected by the checks on receipt. */
  readonly isRejected: (eventId: string) => boolean;
}

export type AuthResult =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly rule: string; readonly reason: string };

/**
 * Implemented in ./authorize.ts:
 *   authorizeEvent(event: EventView, ctx: AuthContext): AuthResult
 * and ./auth-types.ts (re-exported from ./authorize.ts):
 *   authTypesForEvent(rules, { type, stateKey, sender, content }): Array<[type, stateKey]>
 */
export type AuthorizeEvent = (event: EventView, ctx: AuthContext) => AuthResult;
