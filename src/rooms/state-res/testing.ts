// Test rig for state resolution: a room as a list of events plus chains of `prev_events`
// edges, built the way Synapse's tests/state/test_v2.py builds its tiny DAGs. Events are
// processed in topological order (ties by node name); each gets `origin_server_ts` and
// `depth` from that order, its state before is the resolution of its parents' states,
// and its `auth_events` are picked from that state by the auth events selection.
// Events are not authorised while building: a scenario may deliberately contain events
// that a fork accepted but resolution must not.

import { authTypesForEvent } from '../auth/authorize.ts';
import { fullAuthChain } from '../graph/auth-chain.ts';
import { stateKeyOf, type EventView, type StateKey, type StateMap } from '../event-view.ts';
import type { JsonObject } from '../json.ts';
import { roomVersionRules, type RoomVersionRules } from '../room-versions.ts';
import { resolveState } from './resolve.ts';
import type { ResolveInput } from './types.ts';

export const ALICE = '@alice:example.com';
export const BOB = '@bob:example.com';
export const CHARLIE = '@charlie:example.com';
export const EVELYN = '@evelyn:example.com';
export const ZARA = '@zara:example.com';

export interface FakeEvent {
  /** Node name; the event ID is derived from it. */
  readonly id: string;
  readonly sender: string;
  readonly type: string;
  readonly stateKey?: string;
  readonly content: JsonObject;
}

export function rulesOf(version: string): RoomVersionRules {
  const rules = roomVersionRules(version);
  if (rules === undefined) throw new Error(`unknown room version ${version}`);
  return rules;
}

/**
 * `users` for power levels content. v12 creators cannot be listed (they rank above any
 * level), so their entries are dropped there; before v12 they are kept.
 */
export function usersFor(version: string, users: Record<string, number>): JsonObject {
  const rules = rulesOf(version);
  const out: JsonObject = {};
  for (const [userId, level] of Object.entries(users)) {
    if (rules.auth.privilegeCreators && userId === ALICE) continue;
    out[userId] = level;
  }
  return out;
}

export function member(id: string, sender: string, target: string, membership: string): FakeEvent {
  return { id, sender, type: 'm.room.member', stateKey: target, content: { membership } };
}

export function powerLevels(version: string, id: string, sender: string, users: Record<string, number>, extra: JsonObject = {}): FakeEvent {
  return { id, sender, type: 'm.room.power_levels', stateKey: '', content: { users: usersFor(version, users), ...extra } };
}

export function topic(id: string, sender: string): FakeEvent {
  return { id, sender, type: 'm.room.topic', stateKey: '', content: { topic: id } };
}

/** The events every scenario starts with (Synapse's INITIAL_EVENTS). */
export function initialEvents(version: string): FakeEvent[] {
  const rules = rulesOf(version);
  const createContent: JsonObject = { room_version: version };
  if (!rules.auth.useCreateSender) createContent['creator'] = ALICE;
  return [
    { id: 'CREATE', sender: ALICE, type: 'm.room.create', stateKey: '', content: createContent },
    member('IMA', ALICE, ALICE, 'join'),
    powerLevels(version, 'IPOWER', ALICE, { [ALICE]: 100 }),
    { id: 'IJR', sender: ALICE, type: 'm.room.join_rules', stateKey: '', content: { join_rule: 'public' } },
    member('IMB', BOB, BOB, 'join'),
    member('IMC', CHARLIE, CHARLIE, 'join'),
    member('IMZ', ZARA, ZARA, 'join'),
    { id: 'START', sender: ZARA, type: 'm.room.message', content: { body: 'start' } },
    { id: 'END', sender: ZARA, type: 'm.room.message', content: { body: 'end' } },
  ];
}

/** Child → parent chain of the initial events (Synapse's INITIAL_EDGES). */
export const INITIAL_EDGES = ['START', 'IMZ', 'IMC', 'IMB', 'IJR', 'IPOWER', 'IMA', 'CREATE'];

export const TEST_SIGNATURES = {
  isSignedBy: (): boolean => true,
  verifyThirdPartySignature: (): boolean => false,
} as const;

export class BuiltRoom {
  readonly version: string;
  readonly rules: RoomVersionRules;
  readonly roomId: string;
  readonly events = new Map<string, EventView>();
  /** Node name → the state after that node. */
  readonly stateAfter = new Map<string, Map<StateKey, string>>();

  constructor(version: string) {
    this.version = version;
    this.rules = rulesOf(version);
    // v12: the room ID is the create event's ID with `!` for `$`.
    this.roomId = this.rules.format.createHasRoomId ? '!test:example.com' : '!CREATE';
  }

  eventId(node: string): string {
    return this.rules.format.createHasRoomId ? `$${node}:example.com` : `$${node}`;
  }

  readonly loadEvent = (eventId: string): EventView | undefined => this.events.get(eventId);

  authChainOf(state: StateMap): Set<string> {
    return fullAuthChain(state.values(), (id) => this.events.get(id)?.authEvents);
  }

  /** Resolves `states` as a server would: with their full auth chains. */
  resolve(states: readonly StateMap[], overrides: Partial<ResolveInput> = {}): Promise<Map<StateKey, string>> {
    return resolveState({
      rules: this.rules,
      stateSets: states,
      authChains: states.map((state) => this.authChainOf(state)),
      loadEvent: this.loadEvent,
      ...TEST_SIGNATURES,
      ...overrides,
    });
  }

  /** The state after `node`, as (type, state_key) → node name. */
  stateByNode(node: string): Map<StateKey, string> {
    const state = this.stateAfter.get(node);
    if (state === undefined) throw new Error(`no node ${node}`);
    const out = new Map<StateKey, string>();
    for (const [key, eventId] of state) out.set(key, this.nodeOf(eventId));
    return out;
  }

  nodeOf(eventId: string): string {
    return this.rules.format.createHasRoomId ? eventId.slice(1, eventId.indexOf(':')) : eventId.slice(1);
  }
}

/**
 * Builds `initialEvents(version)` plus `events`, with `edges` given as child → parent
 * chains (`[['END', 'B', 'A']]` means END's prev is B, and B's prev is A).
 */
export async function buildRoom(
  version: string,
  events: readonly FakeEvent[],
  edges: readonly (readonly string[])[],
  initial: readonly FakeEvent[] = initialEvents(version),
): Promise<BuiltRoom> {
  const room = new BuiltRoom(version);
  const byNode = new Map<string, FakeEvent>();
  const parents = new Map<string, Set<string>>();
  for (const event of [...initial, ...events]) {
    byNode.set(event.id, event);
    parents.set(event.id, new Set());
  }
  for (const chain of [INITIAL_EDGES, ...edges]) {
    for (let i = 0; i + 1 < chain.length; i += 1) {
      const child = parents.get(chain[i]!);
      if (child === undefined || !parents.has(chain[i + 1]!)) throw new Error(`unknown node in edge ${chain.join('→')}`);
      child.add(chain[i + 1]!);
    }
  }

  const depthOf = new Map<string, number>();
  let ts = 0;
  for (const node of topologicalOrder(parents)) {
    const fake = byNode.get(node)!;
    const prevNodes = [...parents.get(node)!].sort();
    let stateBefore: Map<StateKey, string>;
    if (prevNodes.length === 0) {
      stateBefore = new Map();
    } else if (prevNodes.length === 1) {
      stateBefore = new Map(room.stateAfter.get(prevNodes[0]!)!);
    } else {
      stateBefore = await room.resolve(prevNodes.map((prev) => room.stateAfter.get(prev)!));
    }

    const authEvents: string[] = [];
    for (const [type, stateKey] of authTypesForEvent(room.rules, { ...fake, stateKey: fake.stateKey })) {
      const authId = stateBefore.get(stateKeyOf(type, stateKey));
      if (authId !== undefined) authEvents.push(authId);
    }
    const isCreate = fake.type === 'm.room.create';
    const depth = Math.max(0, ...prevNodes.map((prev) => depthOf.get(prev)!)) + 1;
    depthOf.set(node, depth);
    const eventId = room.eventId(node);
    const event: EventView = {
      eventId,
      roomId: isCreate && !room.rules.format.createHasRoomId ? undefined : room.roomId,
      type: fake.type,
      stateKey: fake.stateKey,
      sender: fake.sender,
      content: fake.content,
      originServerTs: ts,
      depth,
      prevEvents: prevNodes.map((prev) => room.eventId(prev)),
      authEvents,
      redacts: undefined,
      raw: {},
    };
    ts += 1;
    room.events.set(eventId, event);
    const stateAfter = stateBefore;
    if (fake.stateKey !== undefined) stateAfter.set(stateKeyOf(fake.type, fake.stateKey), eventId);
    room.stateAfter.set(node, stateAfter);
  }
  return room;
}

/** Parents first; among ready nodes the smallest name, so builds are reproducible. */
function topologicalOrder(parents: ReadonlyMap<string, ReadonlySet<string>>): string[] {
  const order: string[] = [];
  const placed = new Set<string>();
  while (order.length < parents.size) {
    let next: string | undefined;
    for (const [node, ps] of parents) {
      if (placed.has(node) || ![...ps].every((p) => placed.has(p))) continue;
      if (next === undefined || node < next) next = node;
    }
    if (next === undefined) throw new Error('cycle in test edges');
    placed.add(next);
    order.push(next);
  }
  return order;
}

/**
 * Synapse's `do_check`: the state at END restricted to the keys `expected` names plus
 * the keys that changed since START, as (type, state_key) → node name.
 */
export function changedState(room: BuiltRoom, expectedNodes: readonly string[]): Map<StateKey, string> {
  const start = room.stateByNode('START');
  const end = room.stateByNode('END');
  const expectedKeys = new Set(
    expectedNodes.map((node) => {
      const event = room.events.get(room.eventId(node))!;
      return stateKeyOf(event.type, event.stateKey ?? '');
    }),
  );
  const out = new Map<StateKey, string>();
  for (const [key, node] of end) {
    if (expectedKeys.has(key) || start.get(key) !== node) out.set(key, node);
  }
  return out;
}

export function expectedState(room: BuiltRoom, expectedNodes: readonly string[]): Map<StateKey, string> {
  const out = new Map<StateKey, string>();
  for (const node of expectedNodes) {
    const event = room.events.get(room.eventId(node))!;
    out.set(stateKeyOf(event.type, event.stateKey ?? ''), node);
  }
  return out;
}
