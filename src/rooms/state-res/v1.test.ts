// State resolution in room version 1 (content/rooms/v1.md "State resolution").

import { deepStrictEqual, strictEqual } from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { stateKeyOf, type StateKey } from '../event-view.ts';
import { ALICE, BOB, CHARLIE, buildRoom, powerLevels, topic, type BuiltRoom } from './testing.ts';

const TOPIC = stateKeyOf('m.room.topic', '');
const PL = stateKeyOf('m.room.power_levels', '');

async function resolveTips(room: BuiltRoom, tips: string[]): Promise<Map<StateKey, string>> {
  const resolved = await room.resolve(tips.map((tip) => room.stateAfter.get(tip)!));
  const nodes = new Map<StateKey, string>();
  for (const [key, eventId] of resolved) nodes.set(key, room.nodeOf(eventId));
  return nodes;
}

const sha1 = (text: string): string => createHash('sha1').update(text).digest('hex');

describe('state resolution v1', () => {
  it('other conflicts: the highest depth event that passes auth wins', async () => {
    const room = await buildRoom(
      '1',
      [
        { id: 'M1', sender: ALICE, type: 'm.room.message', content: {} },
        topic('TDEEP', ALICE),
        topic('TSHALLOW', ALICE),
      ],
      [
        ['TDEEP', 'M1', 'START'],
        ['TSHALLOW', 'START'],
        ['END', 'TDEEP'],
      ],
    );
    strictEqual((await resolveTips(room, ['TDEEP', 'TSHALLOW'])).get(TOPIC), 'TDEEP');
  });

  it('other conflicts: a deeper event that fails auth in R loses', async () => {
    // Bob has power 0 and the topic needs 50 (state_default).
    const room = await buildRoom(
      '1',
      [
        { id: 'M1', sender: BOB, type: 'm.room.message', content: {} },
        topic('TBOB', BOB),
        topic('TALICE', ALICE),
      ],
      [
        ['TBOB', 'M1', 'START'],
        ['TALICE', 'START'],
        ['END', 'TBOB'],
      ],
    );
    strictEqual((await resolveTips(room, ['TBOB', 'TALICE'])).get(TOPIC), 'TALICE');
  });

  it('other conflicts at equal depth: the lowest sha1(event_id) wins', async () => {
    const room = await buildRoom(
      '1',
      [topic('TA', ALICE), topic('TB', ALICE)],
      [
        ['TA', 'START'],
        ['TB', 'START'],
        ['END', 'TA'],
      ],
    );
    const expected = sha1(room.eventId('TA')) < sha1(room.eventId('TB')) ? 'TA' : 'TB';
    strictEqual((await resolveTips(room, ['TA', 'TB'])).get(TOPIC), expected);
    strictEqual((await resolveTips(room, ['TB', 'TA'])).get(TOPIC), expected);
  });

  it('power levels: from the lowest depth, each next one applies while it is allowed', async () => {
    // Shallow fork: Alice makes Bob 50. Deep fork: Bob (50 in R after PA) adds Charlie.
    const room = await buildRoom(
      '1',
      [
        powerLevels('1', 'PA', ALICE, { [ALICE]: 100, [BOB]: 50 }),
        { id: 'M1', sender: ALICE, type: 'm.room.message', content: {} },
        powerLevels('1', 'PB', BOB, { [ALICE]: 100, [BOB]: 50, [CHARLIE]: 50 }),
        powerLevels('1', 'PC', ALICE, { [ALICE]: 100 }),
      ],
      [
        ['PB', 'M1', 'PA', 'START'],
        ['PC', 'START'],
        ['END', 'PB'],
      ],
    );
    // Sorted by depth: PC (depth after START), PB. Starting from PC, Bob has 0: PB fails.
    strictEqual((await resolveTips(room, ['PB', 'PC'])).get(PL), 'PC');
  });

  it('power levels: a later one that is allowed replaces the earlier', async () => {
    const room = await buildRoom(
      '1',
      [
        { id: 'M1', sender: ALICE, type: 'm.room.message', content: {} },
        powerLevels('1', 'PA', ALICE, { [ALICE]: 100, [BOB]: 50 }),
        powerLevels('1', 'PD', ALICE, { [ALICE]: 100, [CHARLIE]: 50 }),
      ],
      [
        ['PD', 'M1', 'START'],
        ['PA', 'START'],
        ['END', 'PD'],
      ],
    );
    strictEqual((await resolveTips(room, ['PD', 'PA'])).get(PL), 'PD');
  });

  it('keys held by only some states are not conflicts and join the result', async () => {
    const room = await buildRoom(
      '1',
      [topic('T1', ALICE)],
      [['END', 'T1', 'START']],
    );
    const start = room.stateAfter.get('START')!;
    const onlyTopic = new Map(room.stateAfter.get('T1')!);
    const noCharlie = new Map(start);
    noCharlie.delete(stateKeyOf('m.room.member', CHARLIE));
    const resolved = await room.resolve([onlyTopic, noCharlie]);
    strictEqual(resolved.get(TOPIC), room.eventId('T1'));
    strictEqual(resolved.get(stateKeyOf('m.room.member', CHARLIE)), room.eventId('IMC'));
    deepStrictEqual(resolved.size, onlyTopic.size);
  });
});
