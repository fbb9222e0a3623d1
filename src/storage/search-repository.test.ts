import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SearchRepository, type SearchDocument, type SearchQuery } from './search-repository.ts';
import { describeEngines } from './testing.ts';

const ROOM = '!r:example.org';
const OTHER = '!other:example.org';

describeEngines('SearchRepository (client-server § Server Side Search)', (getDb) => {
  let stream = 0;
  async function add(roomId: string, body: string, options: { sender?: string; redacted?: boolean } = {}): Promise<SearchDocument> {
    const db = getDb();
    stream++;
    const eventId = `$e${stream}`;
    await db.kysely
      .insertInto('events')
      .values({
        event_id: eventId,
        room_id: roomId,
        stream_ordering: stream,
        depth: stream,
        type: 'm.room.message',
        state_key: null,
        sender: options.sender ?? '@a:example.org',
        origin_server_ts: 1000 + stream,
        json: JSON.stringify({ content: { body } }),
        room_version: '10',
        outlier: false,
        rejected_reason: null,
        redacted_by: options.redacted === true ? '$redaction' : null,
        state_before_snapshot_id: null,
        received_ts: 1000,
      })
      .execute();
    const doc: SearchDocument = {
      eventId,
      roomId,
      sender: options.sender ?? '@a:example.org',
      type: 'm.room.message',
      key: 'content.body',
      value: body,
      streamOrdering: stream,
      originServerTs: 1000 + stream,
    };
    await new SearchRepository(db.kysely).insertMany([doc]);
    return doc;
  }
  const query = (over: Partial<SearchQuery> = {}): SearchQuery => ({
    term: 'martians',
    keys: ['content.body'],
    rooms: [{ roomId: ROOM, upTo: undefined }],
    senders: undefined,
    notSenders: [],
    orderBy: 'recent',
    after: undefined,
    limit: 10,
    ...over,
  });

  test('matches stemmed words, orders by recency or rank, and pages without duplicates', async () => {
    const repo = new SearchRepository(getDb().kysely);
    const once = await add(ROOM, 'The martian came');
    const thrice = await add(ROOM, 'Martians, martians and more martians attack the men');
    const never = await add(ROOM, 'nothing to see here');
    const elsewhere = await add(OTHER, 'martians in the other room');

    const recent = await repo.search(query());
    assert.deepEqual(recent.map((h) => h.eventId), [thrice.eventId, once.eventId]);
    assert.ok(!recent.some((h) => h.eventId === never.eventId || h.eventId === elsewhere.eventId));

    const ranked = await repo.search(query({ orderBy: 'rank' }));
    assert.equal(ranked[0]?.eventId, thrice.eventId);
    assert.ok((ranked[0]?.rank ?? 0) > (ranked[1]?.rank ?? 0));

    const first = await repo.search(query({ orderBy: 'rank', limit: 1 }));
    const last = first.at(-1)!;
    const second = await repo.search(query({ orderBy: 'rank', limit: 1, after: { rank: last.rank, streamOrdering: last.streamOrdering } }));
    assert.deepEqual([...first, ...second].map((h) => h.eventId), ranked.map((h) => h.eventId));
    const third = await repo.search(query({ orderBy: 'rank', limit: 1, after: { rank: second[0]!.rank, streamOrdering: second[0]!.streamOrdering } }));
    assert.deepEqual(third, []);

    const paged = await repo.search(query({ limit: 1, after: { streamOrdering: thrice.streamOrdering } }));
    assert.deepEqual(paged.map((h) => h.eventId), [once.eventId]);
    assert.equal(await repo.count(query()), 2);
  });

  test('room windows, senders, redactions and deletions', async () => {
    const repo = new SearchRepository(getDb().kysely);
    const early = await add(OTHER, 'spaceship early');
    const late = await add(OTHER, 'spaceship late', { sender: '@b:example.org' });
    await add(OTHER, 'spaceship redacted', { redacted: true });
    const q = query({ term: 'spaceship', rooms: [{ roomId: OTHER, upTo: early.streamOrdering }] });
    assert.deepEqual((await repo.search(q)).map((h) => h.eventId), [early.eventId]);
    const all = query({ term: 'spaceship', rooms: [{ roomId: OTHER, upTo: undefined }] });
    assert.deepEqual((await repo.search(all)).map((h) => h.eventId), [late.eventId, early.eventId]);
    assert.deepEqual((await repo.search({ ...all, senders: ['@b:example.org'] })).map((h) => h.eventId), [late.eventId]);
    assert.deepEqual((await repo.search({ ...all, notSenders: ['@b:example.org'] })).map((h) => h.eventId), [early.eventId]);
    assert.deepEqual(await repo.search({ ...all, senders: [] }), []);
    await repo.deleteEvents([late.eventId]);
    assert.deepEqual((await repo.search(all)).map((h) => h.eventId), [early.eventId]);
    assert.deepEqual(await repo.search({ ...all, keys: ['content.name'] }), []);
  });

  test('highlights are the words as written; odd input is no error', async () => {
    const repo = new SearchRepository(getDb().kysely);
    const doc = await add(ROOM, 'Martian invaders met MEN');
    const words = await repo.highlights([doc.eventId], 'martians and men');
    assert.deepEqual(words.sort(), ['MEN', 'Martian']);
    const nul = await add(ROOM, 'nul\u0000byte inside');
    assert.deepEqual((await repo.search(query({ term: 'byte\u0000' }))).map((h) => h.eventId), [nul.eventId]);
    assert.deepEqual(await repo.search(query({ term: 'byte', senders: ['@a\u0000'] })), []);
    assert.equal((await repo.search(query({ term: 'byte', notSenders: ['@a\u0000'] }))).length, 1);
    for (const term of ['', 'the', '"unterminated', '-', '&|!():*', 'a OR', '\\', '\u0000']) {
      assert.ok(Array.isArray(await repo.search(query({ term }))), term);
      assert.equal(typeof (await repo.count(query({ term }))), 'number');
    }
  });
});
