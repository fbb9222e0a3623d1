import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Logger } from '../../logger.ts';
import { localRoomserver, TestKeyring } from '../../roomserver/testing.ts';
import { EventConsumersRepository } from '../../storage/event-consumers-repository.ts';
import type { SearchQuery } from '../../storage/search-repository.ts';
import { describeEngines } from '../../storage/testing.ts';
import { SEARCH_CONSUMER, SearchIndexer } from './search-indexer.ts';

const ALICE = '@alice:local.test';
const logger = { error: () => undefined } as unknown as Logger;

describeEngines('SearchIndexer (client-server § Server Side Search, room_events keys)', (getDb) => {
  test('indexes body, name and topic (incl. m.topic text/plain) from the stream; a redaction removes its target; a new indexer resumes from the stored position', async () => {
    const db = getDb();
    const rs = localRoomserver(db, new TestKeyring());
    const { roomId } = await rs.createRoom({
      creator: ALICE,
      roomVersion: '10',
      initialState: [
        { type: 'm.room.name', stateKey: '', content: { name: 'Observatory' } },
        { type: 'm.room.topic', stateKey: '', content: { topic: 'stars', 'm.topic': { 'm.text': [{ mimetype: 'text/html', body: '<b>nebula</b>' }, { body: 'galaxies and stars' }] } } },
      ],
    });
    const hello = await rs.sendEvent({ roomId, sender: ALICE, type: 'm.room.message', content: { msgtype: 'm.text', body: 'hello telescope' } });
    await rs.sendEvent({ roomId, sender: ALICE, type: 'm.room.encrypted', content: { algorithm: 'm.megolm.v1.aes-sha2', ciphertext: 'telescope' } });
    const doomed = await rs.sendEvent({ roomId, sender: ALICE, type: 'm.room.message', content: { msgtype: 'm.text', body: 'telescope secret' } });

    const indexer = new SearchIndexer({ db, roomserver: rs, logger });
    await indexer.catchUp();
    const q = (term: string, over: Partial<SearchQuery> = {}): SearchQuery => ({
      term,
      keys: ['content.body', 'content.name', 'content.topic'],
      rooms: [{ roomId, upTo: undefined }],
      senders: undefined,
      notSenders: [],
      orderBy: 'recent',
      after: undefined,
      limit: 10,
      ...over,
    });
    const found = async (term: string, over?: Partial<SearchQuery>) => (await indexer.repository.search(q(term, over))).map((h) => h.eventId);
    assert.deepEqual(await found('telescope'), [doomed.eventId, hello.eventId]);
    assert.equal((await found('observatory', { keys: ['content.name'] })).length, 1);
    assert.equal((await found('galaxies', { keys: ['content.topic'] })).length, 1);
    assert.equal((await found('stars', { keys: ['content.topic'] })).length, 1);
    assert.deepEqual(await found('nebula'), []);

    // Restart: a fresh indexer starts at the stored position, and picks up what came since.
    indexer.close();
    const position = await new EventConsumersRepository(db.kysely).position(SEARCH_CONSUMER);
    assert.ok(position !== undefined && position >= doomed.streamOrdering);
    await rs.sendEvent({ roomId, sender: ALICE, type: 'm.room.redaction', redacts: doomed.eventId, content: {} });
    const later = await rs.sendEvent({ roomId, sender: ALICE, type: 'm.room.message', content: { msgtype: 'm.text', body: 'telescope again' } });
    const restarted = new SearchIndexer({ db, roomserver: rs, logger });
    await restarted.catchUp();
    assert.deepEqual(await found('telescope'), [later.eventId, hello.eventId]);
    const row = await db.kysely.selectFrom('event_search').select('event_id').where('event_id', '=', doomed.eventId).executeTakeFirst();
    assert.equal(row, undefined, 'the redacted event row is deleted');
  });
});
