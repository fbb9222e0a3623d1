// Contract between the authorization rules (src/rooms/auth) and their callers
// (state resolution, checks on receipt, the roomserver pipeline).

import type { EventView } from '../event-view.ts';
import type { RoomVersionRules } from '../room-versions.ts';

export interface AuthContext {
  readonly rules: RoomVersionRules;
  /**
   * The state the event is authorised against: its auth events, the state before it,
   * or the current state, depending on which check on receipt runs.
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
   * given in unpadded base64, as the caller's crypto does it.
   */
  readonly verifyThirdPartySignature: (signed: unknown, publicKeyBase64: string) => boolean;
}

export type AuthResult =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly rule: string; readonly reason: string };

/**
 * Implemented in ./authorize.ts:
 *   authorizeEvent(event: EventView, ctx: AuthContext): AuthResult
 *   authTypesForEvent(rules, { type, stateKey, sender, content }): Array<[type, stateKey]>
 */
export type AuthorizeEvent = (event: EventView, ctx: AuthContext) => AuthResult;
