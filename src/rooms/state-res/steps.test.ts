// Unit tests of the single steps of state resolution v2
// (content/rooms/fragments/v2-state-res.md "Definitions"; v12.md "Conflicted state subgraph").

import { deepStrictEqual, strictEqual } from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stateKeyOf, type EventView } from '../event-view.ts';
import { lexicographicalTopologicalSort } from '../graph/topological-sort.ts';
import { authDifference } from './auth-difference.ts';
import { conflictedStateSubgraph } from './conflicted-subgraph.ts';
import { EventCache } from './event-cache.ts';
import { mainlineSort } from './mainline-sort.ts';
import { Pacer } from './pacer.ts';
import { isPowerEvent } from './power-events.ts';
import { sortPowerEvents } from './power-sort.ts';
import { roomVersionRules } from '../room-versions.ts';
import { splitConflictedState, splitConflictedStateV1 } from './split-conflicted.ts';

const TOPIC = stateKeyOf('m.room.topic', '');
const NAME = stateKeyOf('m.room.name', '');
const PL = stateKeyOf('m.room.power_levels', '');

function ev(eventId: string, type: string, authEvents: string[] = [], extra: Partial<EventView> = {}): EventView {
  return {
    eventId,
    roomId: '!r:example.com',
    type,
    stateKey: '',
    sender: '@alice:example.com',
    content: {},
    originServerTs: 0,
    depth: 0,
    prevEvents: [],
    authEvents,
    redacts: undefined,
    raw: {},
    ...extra,
  };
}

function cacheOf(events: EventView[]): EventCache {
  const byId = new Map(events.map((e) => [e.eventId, e]));
  return new EventCache((id) => byId.get(id));
}

describe('unconflicted state map and conflicted state set', () => {
  it('v2: a key some state set lacks is conflicted (v2-state-res.md "Unconflicted state map")', () => {
    const { unconflicted, conflicted } = splitConflictedState([
      new Map([[PL, '$p'], [TOPIC, '$t1'], [NAME, '$n']]),
      new Map([[PL, '$p'], [TOPIC, '$t2']]),
    ]);
    deepStrictEqual(unconflicted, new Map([[PL, '$p']]));
    deepStrictEqual(conflicted, new Map([[TOPIC, new Set(['$t1', '$t2'])], [NAME, new Set(['$n'])]]));
  });

  it('v2: a key only a later state set holds is conflicted too', () => {
    const { conflicted } = splitConflictedState([new Map(), new Map([[NAME, '$n']]), new Map([[NAME, '$n']])]);
    deepStrictEqual(conflicted, new Map([[NAME, new Set(['$n'])]]));
  });

  it('v1: only different event IDs for one key conflict (rooms/v1.md "State resolution")', () => {
    const { unconflicted, conflicted } = splitConflictedStateV1([
      new Map([[TOPIC, '$t1'], [NAME, '$n']]),
      new Map([[TOPIC, '$t2']]),
      new Map([[TOPIC, '$t3']]),
    ]);
    deepStrictEqual(unconflicted, new Map([[NAME, '$n']]));
    deepStrictEqual(conflicted, new Map([[TOPIC, new Set(['$t1', '$t2', '$t3'])]]));
  });
});

describe('auth difference (v2-state-res.md "Auth difference")', () => {
  it('is the union of the chains minus their intersection', () => {
    const difference = authDifference([new Set(['a', 'b', 'c']), new Set(['b', 'c', 'd']), new Set(['c', 'e'])]);
    deepStrictEqual(difference, new Set(['a', 'b', 'd', 'e']));
  });

  it('is empty for identical chains and for a single chain', () => {
    strictEqual(authDifference([new Set(['a']), new Set(['a'])]).size, 0);
    strictEqual(authDifference([new Set(['a'])]).size, 0);
  });
});

describe('power events (v2-state-res.md "Power events")', () => {
  it('are power levels, join rules, and kicks and bans by someone else', () => {
    strictEqual(isPowerEvent(ev('$p', 'm.room.power_levels')), true);
    strictEqual(isPowerEvent(ev('$j', 'm.room.join_rules')), true);
    strictEqual(isPowerEvent(ev('$t', 'm.room.topic')), false);
    const kick = ev('$k', 'm.room.member', [], { stateKey: '@bob:example.com', content: { membership: 'leave' } });
    strictEqual(isPowerEvent(kick), true);
    const leave = ev('$l', 'm.room.member', [], { stateKey: '@alice:example.com', content: { membership: 'leave' } });
    strictEqual(isPowerEvent(leave), false);
    const ban = ev('$b', 'm.room.member', [], { stateKey: '@bob:example.com', content: { membership: 'ban' } });
    strictEqual(isPowerEvent(ban), true);
    const invite = ev('$i', 'm.room.member', [], { stateKey: '@bob:example.com', content: { membership: 'invite' } });
    strictEqual(isPowerEvent(invite), false);
    strictEqual(isPowerEvent(ev('$m', 'm.room.power_levels', [], { stateKey: undefined })), false);
  });
});

describe("Kahn's algorithm with the smallest ready vertex first", () => {
  it('orders a small DAG lexicographically (Synapse LexicographicalTestCase)', () => {
    const graph = new Map([
      ['l', new Set(['o'])],
      ['m', new Set(['n', 'o'])],
      ['n', new Set(['o'])],
      ['o', new Set<string>()],
      ['p', new Set(['o'])],
    ]);
    deepStrictEqual(lexicographicalTopologicalSort(graph, (a, b) => a < b), ['o', 'l', 'n', 'm', 'p']);
  });

  it('leaves out vertices on a cycle instead of looping', () => {
    const graph = new Map([
      ['a', new Set(['b'])],
      ['b', new Set(['a'])],
      ['c', new Set<string>()],
    ]);
    deepStrictEqual(lexicographicalTopologicalSort(graph, (a, b) => a < b), ['c']);
  });
});

describe('mainline ordering (v2-state-res.md "Mainline ordering")', () => {
  // P0 ← P1 ← P2 is the mainline of P2; Q is a fork off P0.
  const p0 = ev('$p0', 'm.room.power_levels');
  const p1 = ev('$p1', 'm.room.power_levels', ['$p0']);
  const p2 = ev('$p2', 'm.room.power_levels', ['$p1']);
  const q = ev('$q', 'm.room.power_levels', ['$p0']);
  const topic = (id: string, authEvents: string[], ts: number): EventView =>
    ev(id, 'm.room.topic', authEvents, { originServerTs: ts });

  it('sorts by mainline position (earliest first), then ts, then event ID', async () => {
    const events = [
      p0,
      p1,
      p2,
      q,
      topic('$onP2', ['$p2'], 1),
      topic('$onP1', ['$p1'], 9),
      topic('$onQ', ['$q'], 2), // Q leads to P0: position of P0
      topic('$onP0', ['$p0'], 3),
      topic('$none', [], 100), // no power levels at all: position ∞, sorts first
      topic('$onP1b', ['$p1'], 9),
    ];
    const sorted = await mainlineSort(
      ['$onP2', '$onP1', '$onQ', '$onP0', '$none', '$onP1b'],
      '$p2',
      cacheOf(events),
      new Pacer(undefined),
    );
    deepStrictEqual(sorted, ['$none', '$onQ', '$onP0', '$onP1', '$onP1b', '$onP2']);
  });

  it('without a power levels event every position is ∞: ts then event ID decide', async () => {
    const events = [p0, topic('$b', ['$p0'], 5), topic('$a', [], 5), topic('$c', [], 1)];
    deepStrictEqual(await mainlineSort(['$b', '$a', '$c'], undefined, cacheOf(events), new Pacer(undefined)), [
      '$c',
      '$a',
      '$b',
    ]);
  });
});

describe('conflicted state subgraph (v12.md "Conflicted state subgraph")', () => {
  it('holds the events on auth paths between conflicted events, endpoints included', async () => {
    // c1 → x → y → c2 → z, and c1 → w (a dead end): x, y lie between c1 and c2.
    const events = [
      ev('$c1', 'm.room.member', ['$x', '$w']),
      ev('$x', 'm.room.member', ['$y']),
      ev('$y', 'm.room.member', ['$c2']),
      ev('$c2', 'm.room.member', ['$z']),
      ev('$z', 'm.room.create'),
      ev('$w', 'm.room.join_rules', ['$z']),
    ];
    const subgraph = await conflictedStateSubgraph(new Set(['$c1', '$c2']), cacheOf(events), new Pacer(undefined));
    deepStrictEqual(subgraph, new Set(['$c1', '$x', '$y', '$c2']));
  });

  it('survives a forged auth_events cycle', async () => {
    const events = [ev('$a', 'm.room.member', ['$b']), ev('$b', 'm.room.member', ['$a', '$c']), ev('$c', 'm.room.member')];
    const subgraph = await conflictedStateSubgraph(new Set(['$a', '$c']), cacheOf(events), new Pacer(undefined));
    deepStrictEqual(subgraph, new Set(['$a', '$b', '$c']));
  });
});

describe('reverse topological power ordering (v2-state-res.md)', () => {
  it('puts auth ancestors first, then higher sender power, earlier ts, smaller event ID', async () => {
    const rules = roomVersionRules('10')!;
    const create = ev('$create', 'm.room.create', [], { content: { creator: '@alice:example.com' } });
    const pl = ev('$pl', 'm.room.power_levels', ['$create'], {
      content: { users: { '@alice:example.com': 100, '@bob:example.com': 50 } },
      originServerTs: 1,
    });
    const jr = (id: string, sender: string, ts: number, auth: string[] = ['$create', '$pl']): EventView =>
      ev(id, 'm.room.join_rules', auth, { sender, originServerTs: ts });
    const events = [
      create,
      pl,
      jr('$bob-early', '@bob:example.com', 2),
      jr('$alice-late', '@alice:example.com', 9),
      jr('$alice-tie-b', '@alice:example.com', 5),
      jr('$alice-tie-a', '@alice:example.com', 5),
      // Cites $bob-early: must come after it whatever its sender's power.
      jr('$child', '@alice:example.com', 0, ['$create', '$pl', '$bob-early']),
    ];
    const full = new Set(['$pl', '$bob-early', '$alice-late', '$alice-tie-b', '$alice-tie-a', '$child']);
    const sorted = await sortPowerEvents(full, rules, cacheOf(events), new Pacer(undefined));
    // $pl has no sender power from auth events (no power levels among them): creator 100.
    deepStrictEqual(sorted, ['$pl', '$alice-tie-a', '$alice-tie-b', '$alice-late', '$bob-early', '$child']);
  });
});
