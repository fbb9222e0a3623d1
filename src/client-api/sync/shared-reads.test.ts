import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EventsInRangeQuery, RoomEvent, Roomserver } from '../../roomserver/index.ts';
import type { StoaDatabase } from '../../storage/index.ts';
import { SharedReads } from './shared-reads.ts';

function countingRoomserver(): { roomserver: Roomserver; calls: EventsInRangeQuery[] } {
  const calls: EventsInRangeQuery[] = [];
  const roomserver = {
    eventsInRange: (query: EventsInRangeQuery) => {
      calls.push(query);
      return Promise.resolve([{ eventId: `$${query.toStream}` } as RoomEvent]);
    },
    stateAt: () => Promise.resolve(new Map()),
  } as unknown as Roomserver;
  return { roomserver, calls };
}

const db = { kysely: {} } as unknown as StoaDatabase;
const range = (toStream: number): EventsInRangeQuery => ({ roomId: '!r:x', fromStream: 3, toStream, limit: 11, direction: 'backward' });

test('client-server § Syncing: builds up to the same position read a room range once', async () => {
  const { roomserver, calls } = countingRoomserver();
  const shared = new SharedReads(roomserver, db);
  const a = shared.at(10);
  const b = shared.at(10);
  const [first, second] = await Promise.all([a.history.eventsInRange(range(10)), b.history.eventsInRange(range(10))]);
  assert.equal(calls.length, 1);
  assert.deepEqual(first, second);
  assert.notEqual(first, second, 'each caller gets its own list');
  assert.equal(a.loader, b.loader);
  await a.history.eventsInRange(range(9));
  assert.equal(calls.length, 2, 'another range is another read');
});

test('client-server § Syncing: a newer position starts afresh; an older build reads on its own', async () => {
  const { roomserver, calls } = countingRoomserver();
  const shared = new SharedReads(roomserver, db);
  const old = shared.at(10);
  await old.history.eventsInRange(range(10));
  const newer = shared.at(11);
  assert.notEqual(newer.loader, old.loader);
  await newer.history.eventsInRange(range(10));
  assert.equal(calls.length, 2, 'nothing read for position 10 is reused at 11');
  const late = shared.at(10);
  await late.history.eventsInRange(range(10));
  await late.history.eventsInRange(range(10));
  assert.equal(calls.length, 4, 'a build behind the newest position shares nothing');
});
