// Benchmark: resolve two forks of a room with N members where 500 state entries
// conflict, with full auth chains. Target: under 200 ms at 10,000 members, and growth
// no worse than linear from 1,000 to 50,000 members.
//
//   node bench/state-res/run.ts [--version 12] [--runs 7] [--members 1000,10000,50000]
//
// Prints one JSON document: per room size the median and minimum milliseconds of
// `resolveState`, the events it touched (distinct loader calls), and the checks.

import { setImmediate } from 'node:timers/promises';
import { stateKeyOf, type EventView, type StateKey } from '../../src/rooms/event-view.ts';
import { fullAuthChain } from '../../src/rooms/graph/auth-chain.ts';
import type { JsonObject } from '../../src/rooms/json.ts';
import { roomVersionRules, type RoomVersionRules } from '../../src/rooms/room-versions.ts';
import { resolveState } from '../../src/rooms/state-res/resolve.ts';

const CONFLICTS = 500;
const TARGET_MS_AT_10K = 200;
/** Allowed slack over proportional growth before the run counts as superlinear. */
const LINEAR_SLACK = 1.5;

interface Options {
  version: string;
  runs: number;
  members: number[];
}

function parseArgs(argv: string[]): Options {
  const options: Options = { version: '12', runs: 7, members: [1_000, 10_000, 50_000] };
  for (let i = 0; i < argv.length; i += 2) {
    const value = argv[i + 1];
    if (value === undefined) throw new Error(`missing value for ${argv[i]}`);
    if (argv[i] === '--version') options.version = value;
    else if (argv[i] === '--runs') options.runs = Number.parseInt(value, 10);
    else if (argv[i] === '--members') options.members = value.split(',').map((n) => Number.parseInt(n, 10));
    else throw new Error(`unknown option ${argv[i]}`);
  }
  return options;
}

interface Room {
  events: Map<string, EventView>;
  forkA: Map<StateKey, string>;
  forkB: Map<StateKey, string>;
}

/**
 * A room with `members` joined users, then two forks. Of the 500 conflicting keys, 400
 * are memberships where one fork leaves and the other rejoins with a display name, 50
 * are kicks by the creator (power events) against a rejoin, and 50 are custom state
 * keys both forks set differently.
 */
function generateRoom(rules: RoomVersionRules, members: number): Room {
  const events = new Map<string, EventView>();
  const v12 = !rules.format.createHasRoomId;
  const roomId = v12 ? '!createbench' : '!bench:example.com';
  let ts = 0;
  const add = (
    id: string,
    type: string,
    stateKey: string | undefined,
    sender: string,
    content: JsonObject,
    authEvents: string[],
    prevEvents: string[],
  ): string => {
    const eventId = v12 ? `$${id}` : `$${id}:example.com`;
    ts += 1;
    events.set(eventId, {
      eventId,
      roomId: type === 'm.room.create' && v12 ? undefined : roomId,
      type,
      stateKey,
      sender,
      content,
      originServerTs: ts,
      depth: ts,
      prevEvents,
      authEvents,
      redacts: undefined,
      raw: {},
    });
    return eventId;
  };
  const creator = '@creator:example.com';
  const user = (i: number): string => `@user${i}:example.com`;

  const state = new Map<StateKey, string>();
  const create = add('createbench', 'm.room.create', '', creator, { room_version: rules.id, creator }, [], []);
  state.set(stateKeyOf('m.room.create', ''), create);
  const withCreate = (ids: string[]): string[] => (rules.format.createInAuthEvents ? [create, ...ids] : ids);
  const creatorJoin = add('creatorjoin', 'm.room.member', creator, creator, { membership: 'join' }, withCreate([]), [create]);
  state.set(stateKeyOf('m.room.member', creator), creatorJoin);
  const users: JsonObject = rules.auth.privilegeCreators ? {} : { [creator]: 100 };
  const pl = add('pl', 'm.room.power_levels', '', creator, { users }, withCreate([creatorJoin]), [creatorJoin]);
  state.set(stateKeyOf('m.room.power_levels', ''), pl);
  const jr = add('jr', 'm.room.join_rules', '', creator, { join_rule: 'public' }, withCreate([pl, creatorJoin]), [pl]);
  state.set(stateKeyOf('m.room.join_rules', ''), jr);

  let prev = jr;
  const joins: string[] = [];
  for (let i = 0; i < members; i += 1) {
    prev = add(`join${i}`, 'm.room.member', user(i), user(i), { membership: 'join' }, withCreate([pl, jr]), [prev]);
    joins.push(prev);
    state.set(stateKeyOf('m.room.member', user(i)), prev);
  }

  const forkA = new Map(state);
  const forkB = new Map(state);
  let prevA = prev;
  let prevB = prev;
  for (let c = 0; c < CONFLICTS; c += 1) {
    if (c < 450) {
      // Spread the conflicted members over the whole room.
      const i = Math.floor((c * members) / 450);
      const key = stateKeyOf('m.room.member', user(i));
      const own = joins[i]!;
      const rejoinContent: JsonObject = { membership: 'join', displayname: `User ${i}` };
      if (c < 400) {
        prevA = add(`leave${i}`, 'm.room.member', user(i), user(i), { membership: 'leave' }, withCreate([pl, own]), [prevA]);
      } else {
        prevA = add(`kick${i}`, 'm.room.member', user(i), creator, { membership: 'leave' }, withCreate([pl, creatorJoin, own]), [prevA]);
      }
      forkA.set(key, prevA);
      prevB = add(`rejoin${i}`, 'm.room.member', user(i), user(i), rejoinContent, withCreate([pl, jr, own]), [prevB]);
      forkB.set(key, prevB);
    } else {
      const key = stateKeyOf('org.example.setting', `k${c}`);
      prevA = add(`settingA${c}`, 'org.example.setting', `k${c}`, creator, { value: 'a' }, withCreate([pl, creatorJoin]), [prevA]);
      forkA.set(key, prevA);
      prevB = add(`settingB${c}`, 'org.example.setting', `k${c}`, creator, { value: 'b' }, withCreate([pl, creatorJoin]), [prevB]);
      forkB.set(key, prevB);
    }
  }
  return { events, forkA, forkB };
}

interface Result {
  members: number;
  conflictingKeys: number;
  medianMs: number;
  minMs: number;
  eventsTouched: number;
  authChainSizes: number[];
  resolvedEntries: number;
}

async function measure(rules: RoomVersionRules, members: number, runs: number): Promise<Result> {
  const room = generateRoom(rules, members);
  const authEventsOf = (id: string): readonly string[] | undefined => room.events.get(id)?.authEvents;
  const authChains = [fullAuthChain(room.forkA.values(), authEventsOf), fullAuthChain(room.forkB.values(), authEventsOf)];
  const timings: number[] = [];
  let eventsTouched = 0;
  let resolvedEntries = 0;
  for (let run = 0; run < runs + 1; run += 1) {
    let loads = 0;
    const started = performance.now();
    const resolved = await resolveState({
      rules,
      stateSets: [room.forkA, room.forkB],
      authChains,
      loadEvent: (id) => {
        loads += 1;
        return room.events.get(id);
      },
      isSignedBy: () => true,
      verifyThirdPartySignature: () => false,
      yieldToEventLoop: () => setImmediate(),
    });
    const elapsed = performance.now() - started;
    // The first run warms the JIT and is not counted.
    if (run > 0) timings.push(elapsed);
    eventsTouched = loads;
    resolvedEntries = resolved.size;
  }
  timings.sort((a, b) => a - b);
  return {
    members,
    conflictingKeys: CONFLICTS,
    medianMs: round(timings[Math.floor(timings.length / 2)]!),
    minMs: round(timings[0]!),
    eventsTouched,
    authChainSizes: authChains.map((chain) => chain.size),
    resolvedEntries,
  };
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const rules = roomVersionRules(options.version);
  if (rules === undefined) throw new Error(`unknown room version ${options.version}`);
  const results: Result[] = [];
  for (const members of options.members) results.push(await measure(rules, members, options.runs));

  const base = results[0]!;
  const growth = results.map((r) => ({
    members: r.members,
    timeRatio: round(r.medianMs / base.medianMs),
    sizeRatio: r.members / base.members,
  }));
  const linear = growth.every((g) => g.timeRatio <= g.sizeRatio * LINEAR_SLACK);
  const at10k = results.find((r) => r.members === 10_000);
  const report = {
    benchmark: 'state-res',
    roomVersion: rules.id,
    algorithm: rules.stateResolution,
    node: process.version,
    results,
    growth,
    checks: {
      under200msAt10k: at10k === undefined ? null : at10k.medianMs < TARGET_MS_AT_10K,
      linearGrowth: linear,
    },
  };
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  if (report.checks.under200msAt10k === false || !linear) process.exitCode = 1;
}

await main();
