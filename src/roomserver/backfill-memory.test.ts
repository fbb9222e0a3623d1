// Backfill failures are remembered per (room, server) for a while (./backfill-memory.ts):
// a server that did not answer /backfill is not asked again until its wait is over, so
// /messages meanwhile returns the history held here at once (server-server § "Backfilling
// and retrieving missing events"; client-server § "Getting events for a room").

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestDatabase, describeEngines, type TestDatabase } from '../storage/testing.ts';
import { migrateToLatest } from '../storage/migrate.ts';
import { BackfillMemory } from './backfill-memory.ts';
import { backfillRig, BOB, ORIGIN, roomToBackfill, type BackfillRig } from './backfill-testing.ts';
import { Roomserver } from './roomserver.ts';
import { silentLogger, testKey } from './testing.ts';

const SEC = 1000;
const ROOM = '!room:origin.test';

describe('BackfillMemory', () => {
  test('a failure keeps the server out for 30 s, then it is asked again; failures in a row double the wait up to the cap', () => {
    let now = 1_000_000;
    const memory = new BackfillMemory({ clock: () => now, baseMs: 30 * SEC, maxMs: 200 * SEC });
    assert.equal(memory.mayAsk(ROOM, 'a.test'), true);
    memory.failed(ROOM, 'a.test');
    assert.equal(memory.mayAsk(ROOM, 'a.test'), false);
    now += 30 * SEC - 1;
    assert.equal(memory.mayAsk(ROOM, 'a.test'), false, 'still waiting');
    now += 1;
    assert.equal(memory.mayAsk(ROOM, 'a.test'), true, 'asked again once the wait is over');
    const waits: number[] = [];
    for (let i = 0; i < 5; i++) {
      memory.failed(ROOM, 'a.test');
      const start = now;
      while (!memory.mayAsk(ROOM, 'a.test')) now += SEC;
      waits.push((now - start) / SEC);
    }
    assert.deepEqual(waits, [60, 120, 200, 200, 200]);
  });

  test('per room and server: another room, or another server of the room, is asked at once', () => {
    const memory = new BackfillMemory({ clock: () => 0 });
    memory.failed(ROOM, 'a.test');
    assert.equal(memory.mayAsk(ROOM, 'a.test'), false);
    assert.equal(memory.mayAsk(ROOM, 'b.test'), true);
    assert.equal(memory.mayAsk('!other:origin.test', 'a.test'), true);
  });

  test('an answer forgets the failures; a failure long after the last wait starts the series again', () => {
    let now = 0;
    const memory = new BackfillMemory({ clock: () => now, baseMs: 10 * SEC, maxMs: 100 * SEC });
    memory.failed(ROOM, 'a.test');
    memory.answered(ROOM, 'a.test');
    assert.equal(memory.mayAsk(ROOM, 'a.test'), true);
    assert.equal(memory.size, 0);
    memory.failed(ROOM, 'a.test');
    now += 10 * SEC;
    memory.failed(ROOM, 'a.test');
    now += 19 * SEC;
    assert.equal(memory.mayAsk(ROOM, 'a.test'), false, 'the second failure in a row waits 20 s');
    // The wait ended at 30 s; a failure more than the longest wait after that is a new series.
    now = 30 * SEC + 100 * SEC;
    memory.failed(ROOM, 'a.test');
    now += 10 * SEC;
    assert.equal(memory.mayAsk(ROOM, 'a.test'), true, 'back to 10 s');
  });

  test('bounded: beyond its capacity the pairs that failed longest ago are forgotten', () => {
    let now = 0;
    const memory = new BackfillMemory({ clock: () => now, capacity: 3 });
    for (const server of ['a.test', 'b.test', 'c.test']) {
      memory.failed(ROOM, server);
      now += SEC;
    }
    // a fails again: now the most recent; d pushes the stalest (b) out.
    memory.failed(ROOM, 'a.test');
    memory.failed(ROOM, 'd.test');
    assert.equal(memory.size, 3);
    assert.equal(memory.mayAsk(ROOM, 'b.test'), true, 'forgotten');
    for (const server of ['a.test', 'c.test', 'd.test']) assert.equal(memory.mayAsk(ROOM, server), false, server);
    for (let i = 0; i < 1000; i++) memory.failed(`!r${i}:origin.test`, 'a.test');
    assert.equal(memory.size, 3);
  });

  test('ask(): the answer, or undefined after a failure, which is remembered', async () => {
    const memory = new BackfillMemory({ clock: () => 0 });
    assert.deepEqual(await memory.ask(ROOM, 'a.test', async () => [1]), [1]);
    assert.equal(await memory.ask(ROOM, 'a.test', async () => Promise.reject(new Error('timeout'))), undefined);
    assert.equal(memory.mayAsk(ROOM, 'a.test'), false);
  });
});

describeEngines('roomserver: backfill remembers a server that does not answer', (getDb) => {
  let originDb: TestDatabase;
  let rig: BackfillRig;
  let local: Roomserver;
  let now = Date.UTC(2030, 0, 1);

  before(async () => {
    originDb = await createTestDatabase(getDb().engine);
    const report = await migrateToLatest(originDb.db);
    if (report.error !== undefined) throw report.error;
    rig = backfillRig(originDb.db);
    local = new Roomserver({
      db: getDb(),
      serverName: 'local.test',
      signingKey: testKey(1),
      logger: silentLogger,
      remoteKeys: rig.keyring,
      federation: rig.federation,
      clock: () => now,
    });
  });

  after(async () => {
    await originDb?.dispose();
  });

  test('server-server § Backfilling: after a failed /backfill the room does not ask that server again until the wait is over, then backfills', async () => {
    const { roomId, history } = await roomToBackfill(rig, local, async (roomId) => {
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push((await rig.origin.sendEvent({ roomId, sender: BOB, type: 'm.room.message', content: { msgtype: 'm.text', body: `m${i}` } })).eventId);
      return ids;
    });
    const fed = rig.federation;
    fed.down = true;
    assert.equal(await local.backfill(roomId, 100), 0);
    assert.equal(fed.backfillRequests, 1, `${ORIGIN} was asked`);
    // Every scroll meanwhile: nothing asked, nothing waited for.
    assert.equal(await local.backfill(roomId, 100), 0);
    now += 29 * SEC;
    assert.equal(await local.backfill(roomId, 100), 0);
    assert.equal(fed.backfillRequests, 1, 'not asked during the wait');
    now += SEC;
    assert.equal(await local.backfill(roomId, 100), 0);
    assert.equal(fed.backfillRequests, 2, 'asked again after 30 s; it failed again');
    now += 59 * SEC;
    assert.equal(await local.backfill(roomId, 100), 0);
    assert.equal(fed.backfillRequests, 2, 'the second wait is 60 s');
    // The server is back: once the wait is over the history comes.
    fed.down = false;
    now += SEC;
    assert.equal(await local.backfill(roomId, 100), history.length);
    assert.equal(fed.backfillRequests, 3);
    for (const id of history) assert.ok(((await local.event(id, 'stored'))?.streamOrdering ?? 0) < 0, `${id} backfilled`);
  });

  test('an answer ends the series: the next failure waits 30 s again, not twice the last wait', async () => {
    const { roomId } = await roomToBackfill(rig, local, async (roomId) => {
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push((await rig.origin.sendEvent({ roomId, sender: BOB, type: 'm.room.message', content: { msgtype: 'm.text', body: `o${i}` } })).eventId);
      return ids;
    });
    const fed = rig.federation;
    const asked = fed.backfillRequests;
    fed.down = true;
    await local.backfill(roomId, 1);
    now += 30 * SEC;
    await local.backfill(roomId, 1);
    assert.equal(fed.backfillRequests, asked + 2, 'two failures in a row: the next wait is 60 s');
    now += 60 * SEC;
    fed.down = false;
    assert.equal(await local.backfill(roomId, 1), 1, 'one event at a time');
    fed.down = true;
    await local.backfill(roomId, 1);
    assert.equal(fed.backfillRequests, asked + 4);
    now += 30 * SEC;
    await local.backfill(roomId, 1);
    assert.equal(fed.backfillRequests, asked + 5, 'asked again after 30 s');
  });
});
