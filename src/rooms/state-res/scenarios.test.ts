// The classic state resolution v2 scenarios (content/rooms/fragments/v2-state-res.md),
// mirroring Synapse's tests/state/test_v2.py, each run for v2-style room versions and for
// v12 (content/rooms/v12.md "State resolution").

import { deepStrictEqual } from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ALICE,
  BOB,
  CHARLIE,
  EVELYN,
  buildRoom,
  changedState,
  expectedState,
  member,
  powerLevels,
  topic,
  type FakeEvent,
} from './testing.ts';

interface Scenario {
  readonly name: string;
  readonly events: (version: string) => FakeEvent[];
  readonly edges: string[][];
  readonly expected: string[];
}

const SCENARIOS: Scenario[] = [
  {
    // A ban races a power levels change by the banned user: the ban wins.
    name: 'ban vs power levels (test_ban_vs_pl)',
    events: (v) => [
      powerLevels(v, 'PA', ALICE, { [ALICE]: 100, [BOB]: 50 }),
      member('MA', ALICE, ALICE, 'join'),
      member('MB', ALICE, BOB, 'ban'),
      powerLevels(v, 'PB', BOB, { [ALICE]: 100, [BOB]: 50 }),
    ],
    edges: [
      ['END', 'MB', 'MA', 'PA', 'START'],
      ['END', 'PB', 'PA'],
    ],
    expected: ['PA', 'MA', 'MB'],
  },
  {
    // Evelyn joins on a fork where the room is still public; the other fork made it
    // private. The join rules are a power event, so they apply first and the join fails.
    name: 'join rule evasion (test_join_rule_evasion)',
    events: () => [
      { id: 'JR', sender: ALICE, type: 'm.room.join_rules', stateKey: '', content: { join_rule: 'private' } },
      member('ME', EVELYN, EVELYN, 'join'),
    ],
    edges: [
      ['END', 'JR', 'START'],
      ['END', 'ME', 'START'],
    ],
    expected: ['JR'],
  },
  {
    // Power levels changed on one fork only: the fork with the later changes wins.
    name: 'offtopic power levels (test_offtopic_pl)',
    events: (v) => [
      powerLevels(v, 'PA', ALICE, { [ALICE]: 100, [BOB]: 50 }),
      powerLevels(v, 'PB', BOB, { [ALICE]: 100, [BOB]: 50, [CHARLIE]: 50 }),
      powerLevels(v, 'PC', CHARLIE, { [ALICE]: 100, [BOB]: 50, [CHARLIE]: 0 }),
    ],
    edges: [
      ['END', 'PC', 'PB', 'PA', 'START'],
      ['END', 'PA'],
    ],
    expected: ['PC'],
  },
  {
    name: 'topic basic (test_topic_basic)',
    events: (v) => [
      topic('T1', ALICE),
      powerLevels(v, 'PA1', ALICE, { [ALICE]: 100, [BOB]: 50 }),
      topic('T2', ALICE),
      powerLevels(v, 'PA2', ALICE, { [ALICE]: 100, [BOB]: 0 }),
      powerLevels(v, 'PB', BOB, { [ALICE]: 100, [BOB]: 50 }),
      topic('T3', BOB),
    ],
    edges: [
      ['END', 'PA2', 'T2', 'PA1', 'T1', 'START'],
      ['END', 'T3', 'PB', 'PA1'],
    ],
    expected: ['PA2', 'T2'],
  },
  {
    // Bob's topic came after his ban in the other fork's view: the topic resets to T1.
    name: 'topic reset (test_topic_reset)',
    events: (v) => [
      topic('T1', ALICE),
      powerLevels(v, 'PA', ALICE, { [ALICE]: 100, [BOB]: 50 }),
      topic('T2', BOB),
      member('MB', ALICE, BOB, 'ban'),
    ],
    edges: [
      ['END', 'MB', 'T2', 'PA', 'T1', 'START'],
      ['END', 'T1'],
    ],
    expected: ['T1', 'MB', 'PA'],
  },
  {
    name: 'topic (test_topic)',
    events: (v) => [
      topic('T1', ALICE),
      powerLevels(v, 'PA1', ALICE, { [ALICE]: 100, [BOB]: 50 }),
      topic('T2', ALICE),
      powerLevels(v, 'PA2', ALICE, { [ALICE]: 100, [BOB]: 0 }),
      powerLevels(v, 'PB', BOB, { [ALICE]: 100, [BOB]: 50 }),
      topic('T3', BOB),
      { id: 'MZ1', sender: '@zara:example.com', type: 'm.room.message', content: { body: 'x' } },
      topic('T4', ALICE),
    ],
    edges: [
      ['END', 'T4', 'MZ1', 'PA2', 'T2', 'PA1', 'T1', 'START'],
      ['END', 'MZ1', 'T3', 'PB', 'PA1'],
    ],
    expected: ['T4', 'PA2'],
  },
  {
    // T3 cites the latest power levels on the mainline, so it sorts last and wins even
    // though T4 was sent after it.
    name: 'mainline sort (test_mainline_sort)',
    events: (v) => [
      topic('T1', ALICE),
      powerLevels(v, 'PA1', ALICE, { [ALICE]: 100, [BOB]: 50 }),
      topic('T2', ALICE),
      powerLevels(v, 'PA2', ALICE, { [ALICE]: 100, [BOB]: 50 }, { events: { 'm.room.power_levels': 100 } }),
      powerLevels(v, 'PB', BOB, { [ALICE]: 100, [BOB]: 50 }),
      topic('T3', BOB),
      topic('T4', ALICE),
    ],
    edges: [
      ['END', 'T3', 'PA2', 'T2', 'PA1', 'T1', 'START'],
      ['END', 'T4', 'PB', 'PA1'],
    ],
    expected: ['T3', 'PA2'],
  },
];

for (const version of ['2', '6', '10', '11', '12']) {
  describe(`state resolution v2 scenarios, room version ${version}`, () => {
    for (const scenario of SCENARIOS) {
      it(scenario.name, async () => {
        const room = await buildRoom(version, scenario.events(version), scenario.edges);
        deepStrictEqual(changedState(room, scenario.expected), expectedState(room, scenario.expected));
      });
    }
  });
}
