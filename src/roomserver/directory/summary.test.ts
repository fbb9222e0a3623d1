// client-server § "Published room directory" (public_rooms_chunk.yaml), § "Room Summaries"
// and § "Spaces" ("Ordering of children within a space").

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { orderSpaceChildren, spaceChildFromEvent, spaceChildrenFromStripped, type SpaceChild } from './space-children.ts';
import { parseRoomSummary, publicRoomsChunk, roomSummaryJson, summaryFromState } from './summary.ts';

test('client-server-api § Room Summaries: built from state; the text/plain topic; restricted allow list', () => {
  const state = new Map([
    ['m.room.create', { type: 'm.space' }],
    ['m.room.name', { name: 'Room' }],
    ['m.room.topic', { topic: 'fallback', 'm.topic': { 'm.text': [{ mimetype: 'text/html', body: '<b>x</b>' }, { body: 'plain' }] } }],
    ['m.room.canonical_alias', { alias: 'not-an-alias' }],
    ['m.room.join_rules', { join_rule: 'restricted', allow: [{ type: 'm.room_membership', room_id: '!p:x' }, { type: 'other', room_id: '!q:x' }] }],
    ['m.room.history_visibility', { history_visibility: 'world_readable' }],
    ['m.room.encryption', { algorithm: 'm.megolm.v1.aes-sha2' }],
  ]);
  const summary = summaryFromState('!r:x', '12', 4, state);
  assert.deepEqual(roomSummaryJson(summary), {
    room_id: '!r:x',
    num_joined_members: 4,
    world_readable: true,
    guest_can_join: false,
    name: 'Room',
    topic: 'plain',
    join_rule: 'restricted',
    room_type: 'm.space',
    allowed_room_ids: ['!p:x'],
    encryption: 'm.megolm.v1.aes-sha2',
    room_version: '12',
  });
  assert.equal(publicRoomsChunk(summary)['allowed_room_ids'], undefined, 'the directory chunk has no allow list');
  assert.deepEqual(parseRoomSummary(roomSummaryJson(summary)), summary);
  assert.equal(parseRoomSummary({ room_id: 'no' }), undefined);
  assert.equal(summaryFromState('!r:x', '12', 0, new Map([['m.room.topic', { topic: 'only this' }]])).topic, 'only this');
});

test('client-server-api § Spaces: ordering of children (the spec\'s example), via required', () => {
  const child = (roomId: string, ts: number, content: Record<string, unknown>): SpaceChild => {
    const parsed = spaceChildFromEvent({ type: 'm.space.child', state_key: roomId, sender: '@a:x', origin_server_ts: ts, content: { via: ['x'], ...content } });
    assert.ok(parsed);
    return parsed;
  };
  const ordered = orderSpaceChildren([
    child('!b:example.org', 1640341000000, { order: ' ' }),
    child('!a:example.org', 1640141000000, { order: 'aaaa' }),
    child('!c:example.org', 1640841000000, { order: 'first' }),
    child('!e:example.org', 1640641000000, {}),
    child('!d:example.org', 1640741000000, {}),
    child('!f:example.org', 1640641000000, { order: '\u00e9' }),
  ]);
  assert.deepEqual(ordered.map((c) => c.roomId), ['!b:example.org', '!a:example.org', '!c:example.org', '!e:example.org', '!f:example.org', '!d:example.org']);
  assert.equal(spaceChildFromEvent({ type: 'm.space.child', state_key: '!x:y', content: {} }), undefined, 'no via: removed');
  assert.equal(spaceChildFromEvent({ type: 'm.space.child', state_key: '!x:y', content: { via: [] } }), undefined);
  const stripped = spaceChildrenFromStripped([{ type: 'm.space.child', state_key: '!x:y', content: { via: ['y'], suggested: true }, sender: '@a:y', origin_server_ts: 5 }, 'junk']);
  assert.equal(stripped.length, 1);
  assert.equal(stripped[0]?.suggested, true);
  assert.deepEqual(stripped[0]?.stripped, { type: 'm.space.child', state_key: '!x:y', content: { via: ['y'], suggested: true }, sender: '@a:y', origin_server_ts: 5 });
});
