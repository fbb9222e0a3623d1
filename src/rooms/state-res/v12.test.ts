// Where room version 12's state resolution differs from v2 (content/rooms/v12.md
// "State resolution"): iterative auth checks start from an empty map, and creators,
// with infinite power, cannot be demoted.

import { deepStrictEqual, strictEqual } from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stateKeyOf, type StateKey } from '../event-view.ts';
import { ALICE, BOB, CHARLIE, buildRoom, changedState, expectedState, member, powerLevels } from './testing.ts';

describe('a creator demoted in a fork', () => {
  // Fork A: Alice, the creator, demotes herself to 0 and gives Bob 100. Fork B: Alice
  // bans Bob. The demotion sorts first (same power, earlier ts).
  const events = [
    { id: 'DEMOTE', sender: ALICE, type: 'm.room.power_levels', stateKey: '', content: { users: { [ALICE]: 0, [BOB]: 100 } } },
    member('MB', ALICE, BOB, 'ban'),
  ];
  const edges = [
    ['END', 'DEMOTE', 'START'],
    ['END', 'MB', 'START'],
  ];

  for (const version of ['2', '10', '11']) {
    it(`v${version}: the demotion applies first and the ban then fails (v2-state-res.md step 2)`, async () => {
      const room = await buildRoom(version, events, edges);
      deepStrictEqual(changedState(room, ['DEMOTE', 'IMB']), expectedState(room, ['DEMOTE', 'IMB']));
    });
  }

  it('v12: a power levels event naming a creator is rejected (rule 10.4), so the ban stands', async () => {
    const room = await buildRoom('12', events, edges);
    deepStrictEqual(changedState(room, ['IPOWER', 'MB']), expectedState(room, ['IPOWER', 'MB']));
  });
});

describe('iterative auth checks begin from the unconflicted state (v2) or an empty map (v12)', () => {
  // Bob bans Charlie, then leaves. A state reset elsewhere left a second state with
  // Bob's leave but Charlie still joined. Under v2 the ban is re-checked against the
  // unconflicted state, where Bob has already left, and fails; v12 checks it against
  // its own auth events, where Bob was joined with power to ban.
  async function resolveReset(version: string): Promise<Map<StateKey, string>> {
    const room = await buildRoom(
      version,
      [
        powerLevels(version, 'PA', ALICE, { [ALICE]: 100, [BOB]: 50 }),
        member('BAN', BOB, CHARLIE, 'ban'),
        member('LEAVE', BOB, BOB, 'leave'),
      ],
      [['END', 'LEAVE', 'BAN', 'PA', 'START']],
    );
    const withBan = room.stateAfter.get('LEAVE')!;
    const withoutBan = new Map(withBan);
    withoutBan.set(stateKeyOf('m.room.member', CHARLIE), room.eventId('IMC'));
    const resolved = await room.resolve([withBan, withoutBan]);
    const nodes = new Map<StateKey, string>();
    for (const [key, eventId] of resolved) nodes.set(key, room.nodeOf(eventId));
    return nodes;
  }

  for (const version of ['2', '10', '11']) {
    it(`v${version}: the ban fails against the later leave, Charlie stays joined`, async () => {
      const state = await resolveReset(version);
      strictEqual(state.get(stateKeyOf('m.room.member', CHARLIE)), 'IMC');
      strictEqual(state.get(stateKeyOf('m.room.member', BOB)), 'LEAVE');
    });
  }

  it('v12: the ban is authorised against its own auth events and Charlie stays banned', async () => {
    const state = await resolveReset('12');
    strictEqual(state.get(stateKeyOf('m.room.member', CHARLIE)), 'BAN');
    strictEqual(state.get(stateKeyOf('m.room.member', BOB)), 'LEAVE');
  });
});
