// Bad input from peers never crashes resolution: malformed content, unknown events,
// forged auth cycles and a failing loader are ignored as v2-state-res.md "Rejected
// events" and Ruma do ("don't honor events we cannot verify"). Long runs yield.

import { ok, rejects, strictEqual } from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stateKeyOf, type EventView } from '../event-view.ts';
import type { JsonObject } from '../json.ts';
import { resolveState, StateResolutionError } from './resolve.ts';
import { ALICE, BOB, TEST_SIGNATURES, buildRoom, member, powerLevels, rulesOf, topic } from './testing.ts';

const TOPIC = stateKeyOf('m.room.topic', '');
const PL = stateKeyOf('m.room.power_levels', '');

async function forkedRoom(version: string) {
  return buildRoom(
    version,
    [topic('T1', ALICE), topic('T2', BOB), powerLevels(version, 'PA', ALICE, { [ALICE]: 100, [BOB]: 50 })],
    [
      ['END', 'T1', 'START'],
      ['END', 'T2', 'PA', 'START'],
    ],
  );
}

function malformed(room: Awaited<ReturnType<typeof forkedRoom>>, id: string, patch: Partial<EventView>): EventView {
  const base: EventView = {
    eventId: room.eventId(id),
    roomId: room.roomId,
    type: 'm.room.power_levels',
    stateKey: '',
    sender: ALICE,
    content: {},
    originServerTs: 1e6,
    depth: 100,
    prevEvents: [room.eventId('START')],
    authEvents: [room.eventId('CREATE'), room.eventId('IPOWER'), room.eventId('IMA')],
    redacts: undefined,
    raw: {},
    ...patch,
  };
  room.events.set(base.eventId, base);
  return base;
}

const BAD_CONTENTS: JsonObject[] = [
  { users: 'everyone' },
  { users: { [ALICE]: '100x', [BOB]: null }, users_default: [] },
  { users: { [ALICE]: 1.5 }, events: 7, state_default: "50" },
  { membership: 42 },
  { join_rule: { nested: true } },
];

for (const version of ['1', '3', '10', '12']) {
  describe(`room version ${version}: malformed and missing events`, () => {
    it('never throws on malformed content, types or timestamps', async () => {
      const room = await forkedRoom(version);
      const bad = BAD_CONTENTS.map((content, i) =>
        malformed(room, `BAD${i}`, {
          content,
          type: i === 3 ? 'm.room.member' : i === 4 ? 'm.room.join_rules' : 'm.room.power_levels',
          stateKey: i === 3 ? BOB : '',
          originServerTs: i === 2 ? Number.NaN : i,
          depth: i === 1 ? Number.POSITIVE_INFINITY : i,
        }),
      );
      const states = bad.map((event) => {
        const state = new Map(room.stateAfter.get('T2')!);
        state.set(stateKeyOf(event.type, event.stateKey ?? ''), event.eventId);
        return state;
      });
      const resolved = await room.resolve([room.stateAfter.get('T1')!, ...states]);
      ok(resolved.has(PL));
      ok(resolved.has(stateKeyOf('m.room.create', '')));
    });

    it('ignores conflicted events the loader does not have', async () => {
      const room = await forkedRoom(version);
      const withMissing = new Map(room.stateAfter.get('START')!);
      withMissing.set(TOPIC, room.eventId('NOWHERE'));
      const resolved = await room.resolve([room.stateAfter.get('T1')!, withMissing]);
      strictEqual(resolved.get(TOPIC), room.eventId('T1'));
    });

    it('survives a loader that throws and auth events that form a cycle', async () => {
      const room = await forkedRoom(version);
      malformed(room, 'C1', { authEvents: [room.eventId('C2'), room.eventId('CREATE')] });
      malformed(room, 'C2', { authEvents: [room.eventId('C1'), room.eventId('CREATE')], type: 'm.room.join_rules' });
      const s1 = new Map(room.stateAfter.get('T1')!);
      s1.set(PL, room.eventId('C1'));
      const s2 = new Map(room.stateAfter.get('T2')!);
      s2.set(stateKeyOf('m.room.join_rules', ''), room.eventId('C2'));
      const resolved = await room.resolve([s1, s2], {
        loadEvent: (id) => {
          if (id.includes('EXPLODE')) throw new Error('storage failure');
          return room.events.get(id);
        },
      });
      ok(resolved.size > 0);
      const exploding = new Map(s1);
      exploding.set(TOPIC, room.eventId('EXPLODE'));
      await room.resolve([exploding, s2], {
        loadEvent: (id) => {
          if (id.includes('EXPLODE')) throw new Error('storage failure');
          return room.events.get(id);
        },
      });
    });
  });
}

describe('calling errors and yielding', () => {
  it('rejects auth chains that do not match the state sets with a typed error', async () => {
    const room = await forkedRoom('10');
    await rejects(
      resolveState({
        rules: rulesOf('10'),
        stateSets: [room.stateAfter.get('T1')!, room.stateAfter.get('T2')!],
        authChains: [new Set()],
        loadEvent: room.loadEvent,
        ...TEST_SIGNATURES,
      }),
      (error: unknown) => error instanceof StateResolutionError && error.code === 'AUTH_CHAINS_MISMATCH',
    );
  });

  it('yields to the event loop every N steps through the injected function', async () => {
    const room = await buildRoom(
      '10',
      [
        topic('T1', ALICE),
        member('MB', ALICE, BOB, 'ban'),
        powerLevels('10', 'PA', ALICE, { [ALICE]: 100, [BOB]: 50 }),
        powerLevels('10', 'PB', BOB, { [ALICE]: 100, [BOB]: 50 }),
      ],
      [
        ['END', 'T1', 'MB', 'PA', 'START'],
        ['END', 'PB', 'PA'],
      ],
    );
    let yields = 0;
    const resolved = await room.resolve([room.stateAfter.get('T1')!, room.stateAfter.get('PB')!], {
      yieldEvery: 1,
      yieldToEventLoop: async () => {
        yields += 1;
      },
    });
    ok(yields > 0);
    strictEqual(resolved.get(stateKeyOf('m.room.member', BOB)), room.eventId('MB'));
  });

  it('returns a lone state set unchanged and nothing for no state sets', async () => {
    const room = await forkedRoom('12');
    const only = room.stateAfter.get('T1')!;
    strictEqual((await room.resolve([only])).size, only.size);
    strictEqual((await room.resolve([])).size, 0);
  });
});
