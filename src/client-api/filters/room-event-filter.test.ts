// client-server § "Filtering": RoomEventFilter parsing and matching (definitions/event_filter.yaml,
// room_event_filter.yaml).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  matchesRoomEventFilter,
  NO_ROOM_EVENT_FILTER,
  parseRoomEventFilter,
  parseRoomEventFilterParam,
  RoomEventFilterError,
  typeMatches,
  type FilterableEvent,
} from './room-event-filter.ts';

const message: FilterableEvent = { type: 'm.room.message', sender: '@a:x', roomId: '!r:x', content: { body: 'hi' } };
const image: FilterableEvent = {
  type: 'm.room.message',
  sender: '@b:x',
  roomId: '!r:x',
  content: { body: 'pic', url: 'mxc://x/y' },
};
const topic: FilterableEvent = { type: 'm.room.topic', sender: '@a:x', roomId: '!r:x', content: { topic: 't' } };

test('filtering § an absent filter passes everything', () => {
  for (const e of [message, image, topic]) assert.equal(matchesRoomEventFilter(NO_ROOM_EVENT_FILTER, e), true);
  assert.equal(parseRoomEventFilterParam(null), NO_ROOM_EVENT_FILTER);
});

test('filtering § types and not_types with * wildcards; not_types wins', () => {
  const f = parseRoomEventFilter({ types: ['m.room.*'], not_types: ['m.room.topic'] });
  assert.equal(matchesRoomEventFilter(f, message), true);
  assert.equal(matchesRoomEventFilter(f, topic), false);
  assert.equal(matchesRoomEventFilter(parseRoomEventFilter({ types: ['m.room.topic'] }), message), false);
  assert.equal(matchesRoomEventFilter(parseRoomEventFilter({ types: [] }), message), false);
});

test('filtering § senders and not_senders; not_senders wins', () => {
  assert.equal(matchesRoomEventFilter(parseRoomEventFilter({ senders: ['@b:x'] }), message), false);
  assert.equal(matchesRoomEventFilter(parseRoomEventFilter({ senders: ['@b:x'] }), image), true);
  assert.equal(matchesRoomEventFilter(parseRoomEventFilter({ senders: ['@a:x'], not_senders: ['@a:x'] }), message), false);
});

test('filtering § rooms and not_rooms', () => {
  assert.equal(matchesRoomEventFilter(parseRoomEventFilter({ rooms: ['!other:x'] }), message), false);
  assert.equal(matchesRoomEventFilter(parseRoomEventFilter({ not_rooms: ['!r:x'], rooms: ['!r:x'] }), message), false);
});

test('filtering § contains_url true, false and absent', () => {
  const withUrl = parseRoomEventFilter({ contains_url: true });
  const withoutUrl = parseRoomEventFilter({ contains_url: false });
  assert.deepEqual([message, image].map((e) => matchesRoomEventFilter(withUrl, e)), [false, true]);
  assert.deepEqual([message, image].map((e) => matchesRoomEventFilter(withoutUrl, e)), [true, false]);
});

test('filtering § limit and lazy-loading flags', () => {
  const f = parseRoomEventFilter({ limit: 5, lazy_load_members: true, include_redundant_members: true });
  assert.equal(f.limit, 5);
  assert.equal(f.lazyLoadMembers, true);
  assert.equal(f.includeRedundantMembers, true);
});

test('filtering § malformed filters are typed errors', () => {
  for (const bad of [
    '[]',
    '{"limit":0}',
    '{"limit":1.5}',
    '{"limit":"3"}',
    '{"types":"m.room.message"}',
    '{"senders":[1]}',
    '{"contains_url":"yes"}',
    '{"lazy_load_members":1}',
    'not json',
  ]) {
    assert.throws(() => parseRoomEventFilterParam(bad), RoomEventFilterError, bad);
  }
});

/** Reference: the glob as a regular expression. */
function globRegExp(pattern: string): RegExp {
  return new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 's');
}

test('filtering § * matches any sequence of characters (against a regular-expression oracle)', () => {
  const alphabet = fc.constantFrom('a', 'b', '.', '*');
  const text = fc.array(alphabet, { maxLength: 8 }).map((a) => a.join(''));
  fc.assert(
    fc.property(text, text, (pattern, type) => {
      assert.equal(typeMatches(pattern, type), globRegExp(pattern).test(type), `${pattern} vs ${type}`);
    }),
    { numRuns: 2000 },
  );
});
