// The lenient, read-only view of an event that the auth rules and state resolution read.
// The spec requires that a server not reject an event over fields the rules do not
// read, so this view carries only what those algorithms need and keeps `content` raw:
// each rule narrows the content fields it reads itself.

import type { JsonObject } from './json.ts';

export interface EventView {
  readonly eventId: string;
  /** Absent on a v12 `m.room.create` (the room ID is derived from it). */
  readonly roomId: string | undefined;
  readonly type: string;
  /** `undefined` for non-state events. */
  readonly stateKey: string | undefined;
  readonly sender: string;
  readonly content: JsonObject;
  readonly originServerTs: number;
  readonly depth: number;
  readonly prevEvents: readonly string[];
  readonly authEvents: readonly string[];
  /** Top-level `redacts` (v1–v10) or `content.redacts` (v11+), when a string. */
  readonly redacts: string | undefined;
  /** The event as received, for signature checks and persistence. */
  readonly raw: JsonObject;
}

/** A `(type, state_key)` pair as one string key: `${type}\u0000${stateKey}`. */
export type StateKey = string;

export function stateKeyOf(type: string, stateKey: string): StateKey {
  return `${type}\u0000${stateKey}`;
}

export function splitStateKey(key: StateKey): [type: string, stateKey: string] {
  const nul = key.indexOf('\u0000');
  return [key.slice(0, nul), key.slice(nul + 1)];
}

/** A room state: (type, state_key) → event ID. */
export type StateMap = ReadonlyMap<StateKey, string>;
