// Then backfill (server-server § "Backfilling and retrieving missing events"): the history
// before a room's earliest timeline event, placed below it, outliers joining the timeline.
//
// A gap get_missing_events cannot fill (issue 5 item 3; server-server § "Retrieving events",
// "Backfilling and retrieving missing events"): the events at the edge of what the origin
// gave take their state from the origin's /state_ids rather than become outliers, so the
// PDU that opened the gap is accepted with the right state. Two roomservers: the origin,
// which holds the room, and this server, which learns it over a fake federation.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { stateKeyOf } from '../rooms/event-view.ts';
import { migrateToLatest } from '../storage/migrate.ts';
import { describeEngines, createTestDatabase, type TestDatabase } from '../storage/testing.ts';
import { BOB, OriginFederation } from './backfill-testing.ts';
import { Roomserver } from './roomserver.ts';
import { silentLogger, testKey, TestKeyring } from './testing.ts';

describeEngines('roomserver: a gap get_missing_events cannot fill', (getDb) => {
  const keyring = new TestKeyring();
  keyring.add('origin.test', testKey(2));
  keyring.add('local.test', testKey(1));
  let originDb: TestDatabase;
  let origin: Roomserver;
  let local: Roomserver;
  let fetcher: OriginFederation;

  before(async () => {
    originDb = await createTestDatabase(getDb().engine);
    const report = await migrateToLatest(originDb.db);
    if (report.error !== undefined) throw report.error;
    origin = new Roomserver({ db: originDb.db, serverName: 'origin.test', signingKey: testKey(2), logger: silentLogger, remoteKeys: keyring });
    fetcher = new OriginFederation(origin);
    local = new Roomserver({ db: getDb(), serverName: 'local.test', signingKey: testKey(1), logger: silentLogger, remoteKeys: keyring, federation: fetcher });
  });

  after(async () => {
    await originDb?.dispose();
  });

  test('server-server § Retrieving events: the edge of an unfilled gap takes its state from /state_ids and the new PDU is accepted', async () => {
    const { roomId, eventIds } = await origin.createRoom({
      creator: BOB,
      roomVersion: '10',
      initialState: [{ type: 'm.room.join_rules', stateKey: '', content: { join_rule: 'public' } }],
    });
    // This server learns the room's start.
    for (const id of eventIds) {
      const json = (await origin.event(id, 'stored'))!.json;
      assert.equal((await local.receivePdu(json, 'origin.test', { roomVersion: '10' })).outcome, 'accepted');
    }
    // Then misses: a name change and messages the origin will not give again, and messages it will.
    const hidden = [
      await origin.sendEvent({ roomId, sender: BOB, type: 'm.room.message', content: { msgtype: 'm.text', body: 'h1' } }),
      await origin.sendEvent({ roomId, sender: BOB, type: 'm.room.name', stateKey: '', content: { name: 'renamed while away' } }),
      await origin.sendEvent({ roomId, sender: BOB, type: 'm.room.message', content: { msgtype: 'm.text', body: 'h3' } }),
    ];
    for (const sent of hidden) fetcher.hidden.add(sent.eventId);
    const given: string[] = [];
    for (let i = 0; i < 4; i++) given.push((await origin.sendEvent({ roomId, sender: BOB, type: 'm.room.message', content: { msgtype: 'm.text', body: `g${i}` } })).eventId);
    const latest = await origin.sendEvent({ roomId, sender: BOB, type: 'm.room.message', content: { msgtype: 'm.text', body: 'latest' } });

    const result = await local.receivePdu((await origin.event(latest.eventId, 'stored'))!.json, 'origin.test', { roomVersion: '10' });
    assert.equal(result.outcome, 'accepted', JSON.stringify(result));
    // Asked once, for the oldest event it gave.
    assert.deepEqual(fetcher.stateIdsAsked, [given[0]]);
    for (const id of given) {
      const stored = await local.event(id, 'stored');
      assert.ok(stored !== undefined && !stored.outlier && stored.streamOrdering !== null, `${id} is in the timeline`);
    }
    for (const sent of hidden.filter((h) => h !== hidden[1])) assert.equal(await local.event(sent.eventId), undefined);
    // The name change it never got as a timeline event is in the state, as an outlier.
    const nameId = hidden[1]!.eventId;
    assert.equal((await local.stateAt(latest.eventId, 'before'))?.get(stateKeyOf('m.room.name', '')), nameId);
    assert.equal((await local.event(nameId, 'stored'))?.outlier, true);
    assert.equal((await local.stateEvent(roomId, 'm.room.name', ''))?.eventId, nameId);
    assert.ok((await local.forwardExtremities(roomId)).includes(latest.eventId));
  });

  test('server-server § Backfilling: history before the earliest timeline event is placed below it, in order, outliers included', async () => {
    const { roomId, eventIds } = await origin.createRoom({
      creator: BOB,
      roomVersion: '10',
      initialState: [{ type: 'm.room.join_rules', stateKey: '', content: { join_rule: 'public' } }],
    });
    const messages: string[] = [];
    for (let i = 0; i < 6; i++) messages.push((await origin.sendEvent({ roomId, sender: BOB, type: 'm.room.message', content: { msgtype: 'm.text', body: `m${i}` } })).eventId);
    // This server learns the room from its last two messages: the rest is history to backfill.
    fetcher.hidden.clear();
    for (const id of [...eventIds, ...messages.slice(0, 4)]) fetcher.hidden.add(id);
    fetcher.stateIdsAsked.length = 0;
    const last = (await origin.event(messages[5]!, 'stored'))!.json;
    assert.equal((await local.receivePdu(last, 'origin.test', { roomVersion: '10' })).outcome, 'accepted');
    assert.equal((await local.event(eventIds[0]!, 'stored'))?.outlier, true, 'the create event came as state');
    const timeline = async () =>
      (await local.eventsInRange({ roomId, fromStream: Number.MIN_SAFE_INTEGER, toStream: Number.MAX_SAFE_INTEGER, limit: 100, direction: 'forward' })).map((e) => e.eventId);
    assert.deepEqual(await timeline(), messages.slice(4));

    // Two at once: one backfills, the other then finds nothing more (the room's start).
    const [first, second] = await Promise.all([local.backfill(roomId, 100), local.backfill(roomId, 100)]);
    assert.equal(first + second, eventIds.length + 4);
    assert.deepEqual(await timeline(), [...eventIds, ...messages], 'the whole room, oldest first');
    const created = await local.event(eventIds[0]!, 'stored');
    assert.ok(created !== undefined && !created.outlier && created.streamOrdering !== null && created.streamOrdering < 0);
    assert.equal(await local.backfill(roomId, 100), 0, 'nothing before the create event');
    // History changes neither the room's head nor its current state.
    assert.deepEqual(await local.forwardExtremities(roomId), [messages[5]]);
    assert.equal(await local.membership(roomId, BOB), 'join');
  });
});
