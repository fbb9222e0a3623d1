// Resolution is a function of the *set* of states: any order of the state sets gives the
// same resolved state (content/rooms/fragments/v2-state-res.md, rooms/v1.md). Checked
// over random forks of a small room, for v1, v2-style versions and v12.

import { deepStrictEqual } from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { StateKey } from '../event-view.ts';
import { ALICE, BOB, CHARLIE, EVELYN, ZARA, buildRoom, member, powerLevels, topic, type FakeEvent } from './testing.ts';

const USERS = [ALICE, BOB, CHARLIE, ZARA, EVELYN] as const;
const LEVELS = [0, 50, 100] as const;

type Action =
  | { kind: 'topic'; sender: string }
  | { kind: 'powerLevels'; sender: string; bob: number; charlie: number }
  | { kind: 'member'; sender: string; target: string; membership: string }
  | { kind: 'joinRules'; joinRule: string };

const action: fc.Arbitrary<Action> = fc.oneof(
  fc.record({ kind: fc.constant('topic' as const), sender: fc.constantFrom(...USERS) }),
  fc.record({
    kind: fc.constant('powerLevels' as const),
    sender: fc.constantFrom(ALICE, BOB),
    bob: fc.constantFrom(...LEVELS),
    charlie: fc.constantFrom(...LEVELS),
  }),
  fc.record({
    kind: fc.constant('member' as const),
    sender: fc.constantFrom(...USERS),
    target: fc.constantFrom(...USERS),
    membership: fc.constantFrom('join', 'leave', 'ban', 'invite'),
  }),
  fc.record({ kind: fc.constant('joinRules' as const), joinRule: fc.constantFrom('public', 'invite') }),
);

const forks = fc.array(fc.array(action, { maxLength: 4 }), { minLength: 2, maxLength: 3 });

function toEvent(version: string, id: string, a: Action): FakeEvent {
  switch (a.kind) {
    case 'topic':
      return topic(id, a.sender);
    case 'powerLevels':
      return powerLevels(version, id, a.sender, { [ALICE]: 100, [BOB]: a.bob, [CHARLIE]: a.charlie });
    case 'member':
      return member(id, a.sender, a.target, a.membership);
    case 'joinRules':
      return { id, sender: ALICE, type: 'm.room.join_rules', stateKey: '', content: { join_rule: a.joinRule } };
  }
}

function permutations<T>(items: readonly T[]): T[][] {
  if (items.length <= 1) return [[...items]];
  return items.flatMap((item, i) =>
    permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]),
  );
}

for (const version of ['1', '2', '10', '12']) {
  describe(`room version ${version}`, () => {
    it('resolves random forks to the same state for every order of the state sets', async () => {
      await fc.assert(
        fc.asyncProperty(forks, async (actionsPerFork) => {
          const events: FakeEvent[] = [];
          const edges: string[][] = [];
          const tips: string[] = [];
          actionsPerFork.forEach((actions, f) => {
            const nodes = actions.map((a, i) => {
              const id = `F${f}E${i}`;
              events.push(toEvent(version, id, a));
              return id;
            });
            if (nodes.length > 0) edges.push([...nodes].reverse().concat('START'));
            tips.push(nodes.at(-1) ?? 'START');
          });
          for (const tip of new Set(tips)) edges.push(['END', tip]);
          const room = await buildRoom(version, events, edges);

          const states = tips.map((tip) => room.stateAfter.get(tip)!);
          let first: Map<StateKey, string> | undefined;
          for (const order of permutations(states)) {
            const resolved = await room.resolve(order);
            if (first === undefined) first = resolved;
            else deepStrictEqual(resolved, first);
          }
        }),
        { numRuns: 60 },
      );
    });
  });
}
