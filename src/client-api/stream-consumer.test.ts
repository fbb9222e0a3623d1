// A StreamConsumer covers backfilled history too (./stream-consumer.ts): events placed
// below the timeline by backfill (server-server § "Backfilling and retrieving missing
// events") reach the search and relation indexes, once each, across restarts, and never
// before every position above them is settled.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Logger } from '../logger.ts';
import type { JsonObject } from '../rooms/json.ts';
import { backfillRig, BOB, roomToBackfill, type BackfillRig } from '../roomserver/backfill-testing.ts';
import { Roomserver } from '../roomserver/roomserver.ts';
import { silentLogger, testKey } from '../roomserver/testing.ts';
import { EventConsumersRepository, type StreamEventRow } from '../storage/event-consumers-repository.ts';
import type { StoaDatabase } from '../storage/index.ts';
import { migrateToLatest } from '../storage/migrate.ts';
import { createTestDatabase, describeEngines, type TestDatabase } from '../storage/testing.ts';
import { RelationIndexer } from './relations/relation-indexer.ts';
import { SEARCH_CONSUMER, SearchIndexer } from './search/search-indexer.ts';
import { backfilledPositionName, StreamConsumer } from './stream-consumer.ts';

const logger = { error: () => undefined } as unknown as Logger;

function localRoomserver(db: StoaDatabase, rig: BackfillRig): Roomserver {
  return new Roomserver({ db, serverName: 'local.test', signingKey: testKey(1), logger: silentLogger, remoteKeys: rig.keyring, federation: rig.federation });
}

/** A consumer that records the rows it is handed. */
function spy(db: StoaDatabase, roomserver: Roomserver, handled: string[]): StreamConsumer {
  return new StreamConsumer({
    db,
    roomserver,
    logger,
    consumer: 'spy',
    work: 'spying',
    handleBatch: (rows: readonly StreamEventRow[]) => {
      handled.push(...rows.map((r) => r.eventId));
      return undefined;
    },
  });
}

async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  assert.fail(`never: ${what}`);
}

describeEngines('StreamConsumer: backfilled history', (getDb) => {
  let originDb: TestDatabase;
  let rig: BackfillRig;

  before(async () => {
    originDb = await createTestDatabase(getDb().engine);
    const report = await migrateToLatest(originDb.db);
    if (report.error !== undefined) throw report.error;
    rig = backfillRig(originDb.db);
  });

  after(async () => {
    await originDb?.dispose();
  });

  test('backfilled messages, edits and reactions are indexed without any new event; once each; a restart resumes below what was done', async () => {
    const db = getDb();
    const local = localRoomserver(db, rig);
    let original = '';
    let edit = '';
    let reaction = '';
    const { roomId, history } = await roomToBackfill(rig, local, async (roomId) => {
      const send = async (type: string, content: JsonObject) => (await rig.origin.sendEvent({ roomId, sender: BOB, type, content })).eventId;
      original = await send('m.room.message', { msgtype: 'm.text', body: 'a pangolin at the gate' });
      edit = await send('m.room.message', {
        msgtype: 'm.text',
        body: '* a pangolin at the garden gate',
        'm.new_content': { msgtype: 'm.text', body: 'a pangolin at the garden gate' },
        'm.relates_to': { rel_type: 'm.replace', event_id: original },
      });
      reaction = await send('m.reaction', { 'm.relates_to': { rel_type: 'm.annotation', event_id: original, key: '🦔' } });
      return [original, edit, reaction];
    });
    const search = new SearchIndexer({ db, roomserver: local, logger });
    const relations = new RelationIndexer({ db, roomserver: local, logger });
    const handled: string[] = [];
    const spying = spy(db, local, handled);
    for (const consumer of [search, relations]) await consumer.catchUp();
    await spying.catchUp();
    const live = [...handled];
    assert.equal(live.length, 2, 'the two events received live');

    assert.equal(await local.backfill(roomId, 100), history.length);
    const floor = await local.backfilled.floor();
    assert.ok(floor < 0);
    await search.catchUp();
    await relations.catchUp();
    await spying.catchUp();
    const found = await search.repository.search({
      term: 'pangolin',
      keys: ['content.body'],
      rooms: [{ roomId, upTo: undefined }],
      senders: undefined,
      notSenders: [],
      orderBy: 'recent',
      after: undefined,
      limit: 10,
    });
    assert.deepEqual(found.map((h) => h.eventId), [edit, original], 'newest first');
    const children = await relations.repository.children({ roomId, parentIds: [original], direction: 'backward', limit: 10 });
    assert.deepEqual(children.map((r) => r.eventId), [reaction, edit]);
    assert.deepEqual(new Set(handled.slice(live.length)), new Set(history), 'every backfilled event once');
    assert.equal(handled.length, live.length + history.length);

    const consumers = new EventConsumersRepository(db.kysely);
    assert.equal(await consumers.position(backfilledPositionName(SEARCH_CONSUMER)), floor, 'stored');
    assert.equal(await consumers.position(backfilledPositionName('spy')), floor);

    // Restart: a new process over the same database hands over nothing twice.
    const restarted = localRoomserver(db, rig);
    await restarted.ready();
    const after: string[] = [];
    await spy(db, restarted, after).catchUp();
    assert.deepEqual(after, []);
  });

  test('a backfill in progress holds the consumer above its positions; when it ends the consumer is woken and reads them', async () => {
    const db = getDb();
    const local = localRoomserver(db, rig);
    const { roomId } = await roomToBackfill(rig, local, async (roomId) => [
      (await rig.origin.sendEvent({ roomId, sender: BOB, type: 'm.room.message', content: { msgtype: 'm.text', body: 'armadillo' } })).eventId,
    ]);
    const handled: string[] = [];
    const consumer = spy(db, local, handled);
    await consumer.catchUp();
    const consumers = new EventConsumersRepository(db.kysely);
    const before = await consumers.position(backfilledPositionName('spy'));
    const floor = await local.backfilled.floor();
    assert.equal(before, floor);
    consumer.start(false);
    try {
      // Positions reserved, not yet written: nothing below the floor is read meanwhile.
      await local.backfilled.placing(async () => {
        await local.backfilled.reserve(2);
        await consumer.catchUp();
        assert.equal(await consumers.position(backfilledPositionName('spy')), before);
      });
      assert.equal(await local.backfilled.floor(), floor - 2);
      // A real backfill: the consumer hears the floor move, without catchUp().
      handled.length = 0;
      const placed = await local.backfill(roomId, 100);
      assert.ok(placed > 0);
      await eventually(async () => handled.length === placed, 'the backfilled events reach the consumer');
      assert.equal(await consumers.position(backfilledPositionName('spy')), await local.backfilled.floor());
    } finally {
      consumer.close();
    }
  });
});
