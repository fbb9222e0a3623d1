// Filters (client-server § "Filtering"; definitions/sync_filter.yaml, event_filter.yaml,
// room_event_filter.yaml).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MatrixError } from '../../http/matrix-error.ts';
import {
  DEFAULT_SYNC_FILTER,
  eventFilterAllows,
  MAX_FILTER_LIMIT,
  parseSyncFilter,
  projectEventFields,
  roomEventFilterAllows,
} from './sync-filter.ts';

test('Filtering: an empty filter has the defaults', () => {
  assert.equal(DEFAULT_SYNC_FILTER.eventFormat, 'client');
  assert.equal(DEFAULT_SYNC_FILTER.room.includeLeave, false);
  assert.equal(DEFAULT_SYNC_FILTER.room.timeline.limit, undefined);
  assert.equal(DEFAULT_SYNC_FILTER.room.state.lazyLoadMembers, false);
  assert.equal(eventFilterAllows(DEFAULT_SYNC_FILTER.room.timeline, { type: 'anything', sender: '@a:x' }), true);
});

test('Filtering: the spec example filter parses', () => {
  const filter = parseSyncFilter({
    room: {
      state: { types: ['m.room.*'], not_rooms: ['!726s6s6q:example.com'], lazy_load_members: true },
      timeline: { limit: 10, types: ['m.room.message'], not_rooms: ['!726s6s6q:example.com'], not_senders: ['@spam:example.com'] },
      ephemeral: { types: ['m.receipt', 'm.typing'] },
    },
    presence: { types: ['m.presence'], not_senders: ['@alice:example.com'] },
    event_format: 'client',
    event_fields: ['type', 'content', 'sender'],
  });
  assert.equal(filter.room.timeline.limit, 10);
  assert.equal(filter.room.state.lazyLoadMembers, true);
  assert.deepEqual(filter.eventFields, ['type', 'content', 'sender']);
  const timeline = filter.room.timeline;
  assert.equal(roomEventFilterAllows(timeline, { type: 'm.room.message', sender: '@bob:x', roomId: '!a:x' }), true);
  assert.equal(roomEventFilterAllows(timeline, { type: 'm.room.message', sender: '@spam:example.com', roomId: '!a:x' }), false);
  assert.equal(roomEventFilterAllows(timeline, { type: 'm.room.message', sender: '@bob:x', roomId: '!726s6s6q:example.com' }), false);
  assert.equal(roomEventFilterAllows(timeline, { type: 'm.room.topic', sender: '@bob:x', roomId: '!a:x' }), false);
  assert.equal(eventFilterAllows(filter.room.state, { type: 'm.room.name' }), true);
  assert.equal(eventFilterAllows(filter.room.state, { type: 'm.roomx' }), false);
});

test('event_filter.yaml: not_types wins over types; * matches any run of characters', () => {
  const filter = parseSyncFilter({ room: { timeline: { types: ['m.*'], not_types: ['m.room.member', '*.secret'] } } }).room.timeline;
  assert.equal(eventFilterAllows(filter, { type: 'm.room.message' }), true);
  assert.equal(eventFilterAllows(filter, { type: 'm.room.member' }), false);
  assert.equal(eventFilterAllows(filter, { type: 'm.very.secret' }), false);
  assert.equal(eventFilterAllows(filter, { type: 'org.example' }), false);
  // Regex metacharacters in types are literal.
  const literal = parseSyncFilter({ room: { timeline: { types: ['a.b'] } } }).room.timeline;
  assert.equal(eventFilterAllows(literal, { type: 'aXb' }), false);
});

test('room_event_filter.yaml: contains_url', () => {
  const withUrl = parseSyncFilter({ room: { timeline: { contains_url: true } } }).room.timeline;
  const withoutUrl = parseSyncFilter({ room: { timeline: { contains_url: false } } }).room.timeline;
  assert.equal(roomEventFilterAllows(withUrl, { type: 't', content: { url: 'mxc://a/b' } }), true);
  assert.equal(roomEventFilterAllows(withUrl, { type: 't', content: {} }), false);
  assert.equal(roomEventFilterAllows(withoutUrl, { type: 't', content: {} }), true);
});

test('Filtering: bad filters are M_BAD_JSON', () => {
  for (const bad of [
    [],
    { room: [] },
    { room: { timeline: { limit: 0 } } },
    { room: { timeline: { limit: 1.5 } } },
    { room: { timeline: { limit: '5' } } },
    { room: { timeline: { types: 'm.room.message' } } },
    { room: { timeline: { types: [1] } } },
    { room: { state: { lazy_load_members: 'yes' } } },
    { event_format: 'xml' },
    { presence: { senders: [null] } },
  ]) {
    assert.throws(() => parseSyncFilter(bad as never), (e: unknown) => e instanceof MatrixError && e.errcode === 'M_BAD_JSON', JSON.stringify(bad));
  }
});

test('event_filter.yaml limit: capped at the server maximum', () => {
  assert.equal(parseSyncFilter({ room: { timeline: { limit: 10 ** 9 } } }).room.timeline.limit, MAX_FILTER_LIMIT);
});

test('sync_filter.yaml event_fields: dot-separated paths with escapes (appendices)', () => {
  const event = { type: 't', content: { body: 'hi', 'm.relates_to': { rel_type: 'x' }, other: 1 }, sender: '@a:x' };
  assert.deepEqual(projectEventFields(event, ['type', 'content.body']), { type: 't', content: { body: 'hi' } });
  assert.deepEqual(projectEventFields(event, ['content.m\\.relates_to.rel_type']), { content: { 'm.relates_to': { rel_type: 'x' } } });
  assert.deepEqual(projectEventFields(event, ['missing.path']), {});
});
