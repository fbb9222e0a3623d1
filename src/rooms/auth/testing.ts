// Test rig for the auth rules: events with defaults, and a room of a given version
// holding create, the creator's join, power levels and join rules, in one line.
// Signatures are simulated: an event is "signed by" the servers listed in
// `raw.signatures`, and a third-party `signed` block verifies against key K when one of
// its signatures reads `valid-for:K`.

import type { EventView } from '../event-view.ts';
import { stateKeyOf } from '../event-view.ts';
import { getField, isJsonObject } from '../json.ts';
import type { JsonObject } from '../json.ts';
import { roomVersionRules } from '../room-versions.ts';
import type { RoomVersionRules } from '../room-versions.ts';
import { authorizeEvent } from './authorize.ts';
import { serverNameOf } from './identifiers.ts';
import type { AuthContext, AuthResult } from './types.ts';

export const ALL_VERSIONS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12'] as const;

export function versionsWhere(predicate: (rules: RoomVersionRules) => boolean): string[] {
  return ALL_VERSIONS.filter((id) => predicate(rulesOf(id)));
}

export function rulesOf(version: string): RoomVersionRules {
  const rules = roomVersionRules(version);
  if (rules === undefined) throw new Error(`unknown room version ${version}`);
  return rules;
}

export interface EventSpec {
  type: string;
  sender: string;
  stateKey?: string | undefined;
  content?: JsonObject;
  eventId?: string;
  roomId?: string | undefined;
  prevEvents?: string[];
  authEvents?: string[];
  redacts?: string;
  /** Servers whose signatures the event carries, besides the sender's. */
  signedBy?: string[];
}

let counter = 0;

export function makeEvent(spec: EventSpec): EventView {
  counter += 1;
  const eventId = spec.eventId ?? `$e${counter}:${serverNameOf(spec.sender) ?? 'unknown.example'}`;
  const servers = [serverNameOf(spec.sender) ?? '', ...(spec.signedBy ?? [])];
  const signatures: JsonObject = {};
  for (const server of servers) signatures[server] = { 'ed25519:test': 'sig' };
  const content = spec.content ?? {};
  return {
    eventId,
    roomId: 'roomId' in spec ? spec.roomId : '!room:a.example',
    type: spec.type,
    stateKey: spec.stateKey,
    sender: spec.sender,
    content,
    originServerTs: counter,
    depth: counter,
    prevEvents: spec.prevEvents ?? [],
    authEvents: spec.authEvents ?? [],
    redacts: spec.redacts,
    raw: { type: spec.type, sender: spec.sender, content, signatures },
  };
}

export const ALICE = '@alice:a.example';
export const BOB = '@bob:b.example';
export const CAROL = '@carol:c.example';
export const DAVE = '@dave:a.example';

export function fakeIsSignedBy(event: EventView, serverName: string): boolean {
  const signatures = getField(event.raw, 'signatures');
  return isJsonObject(signatures) && isJsonObject(getField(signatures, serverName));
}

export function fakeVerifyThirdPartySignature(signed: unknown, publicKey: string): boolean {
  if (!isJsonObject(signed)) return false;
  const signatures = getField(signed, 'signatures');
  if (!isJsonObject(signatures)) return false;
  return Object.values(signatures).some(
    (byKey) => isJsonObject(byKey) && Object.values(byKey).includes(`valid-for:${publicKey}`),
  );
}

export interface RoomOptions {
  creator?: string;
  /** `null` leaves the room without a join rules event. */
  joinRule?: string | null;
  joinRulesContent?: JsonObject;
  /** `null` leaves the room without a power levels event. */
  powerLevels?: JsonObject | null;
  createContent?: JsonObject;
}

export interface Room {
  readonly rules: RoomVersionRules;
  readonly roomId: string;
  readonly create: EventView;
  readonly creator: string;
  /** An event in this room (not added to the state). */
  event(spec: Omit<EventSpec, 'roomId'>): EventView;
  /** Put an event into the state, unchecked. */
  put(event: EventView): EventView;
  /** Put `userId`'s membership into the state. */
  setMember(userId: string, membership: string, extra?: JsonObject): EventView;
  setPowerLevels(content: JsonObject): EventView;
  setJoinRule(joinRule: string, extra?: JsonObject): EventView;
  lookup(type: string, stateKey: string): EventView | undefined;
  ctx(overrides?: Partial<AuthContext>): AuthContext;
  authorize(event: EventView, overrides?: Partial<AuthContext>): AuthResult;
}

export function makeRoom(version: string, options: RoomOptions = {}): Room {
  const rules = rulesOf(version);
  const creator = options.creator ?? ALICE;
  const createContent: JsonObject = { room_version: version, ...options.createContent };
  if (!rules.auth.useCreateSender && getField(createContent, 'creator') === undefined) {
    createContent['creator'] = creator;
  }
  counter += 1;
  const createId = rules.format.createHasRoomId ? `$create${counter}:a.example` : `$create${counter}hash`;
  const roomId = rules.format.createHasRoomId ? '!room:a.example' : `!create${counter}hash`;
  const create = makeEvent({
    type: 'm.room.create',
    sender: creator,
    stateKey: '',
    content: createContent,
    eventId: createId,
    roomId: rules.format.createHasRoomId ? roomId : undefined,
  });
  const state = new Map<string, EventView>();

  const room: Room = {
    rules,
    roomId,
    create,
    creator,
    event(spec) {
      return makeEvent({ ...spec, roomId });
    },
    put(event) {
      if (event.stateKey !== undefined) state.set(stateKeyOf(event.type, event.stateKey), event);
      return event;
    },
    setMember(userId, membership, extra = {}) {
      return room.put(
        room.event({ type: 'm.room.member', sender: userId, stateKey: userId, content: { membership, ...extra } }),
      );
    },
    setPowerLevels(content) {
      return room.put(room.event({ type: 'm.room.power_levels', sender: creator, stateKey: '', content }));
    },
    setJoinRule(joinRule, extra = {}) {
      return room.put(
        room.event({ type: 'm.room.join_rules', sender: creator, stateKey: '', content: { join_rule: joinRule, ...extra } }),
      );
    },
    lookup(type, stateKey) {
      return state.get(stateKeyOf(type, stateKey));
    },
    ctx(overrides = {}) {
      return {
        rules,
        state: room.lookup,
        isSignedBy: fakeIsSignedBy,
        verifyThirdPartySignature: fakeVerifyThirdPartySignature,
        ...overrides,
      };
    },
    authorize(event, overrides) {
      return authorizeEvent(event, room.ctx(overrides));
    },
  };

  room.put(create);
  room.setMember(creator, 'join');
  if (options.powerLevels !== null) {
    // v12 creators cannot be listed; before v12 the creator is given 100 explicitly.
    const users: JsonObject = rules.auth.privilegeCreators ? {} : { [creator]: 100 };
    room.setPowerLevels(options.powerLevels ?? { users });
  }
  if (options.joinRule !== null) room.setJoinRule(options.joinRule ?? 'public', options.joinRulesContent);
  return room;
}

/** `'allow'`, or the rule number the result names. */
export function outcome(result: AuthResult): string {
  return result.allowed ? 'allow' : result.rule;
}
