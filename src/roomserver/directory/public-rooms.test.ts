// client-server § "Published room directory": the page, its filters and its tokens.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodePageToken, encodePageToken, parsePublicRoomsRequest, publicRoomsPage, type PublicRoomsQuery } from './public-rooms.ts';
import type { RoomSummary } from './summary.ts';

function room(roomId: string, members: number, extra: Partial<RoomSummary> = {}): RoomSummary {
  return {
    roomId,
    roomVersion: '12',
    numJoinedMembers: members,
    name: undefined,
    topic: undefined,
    canonicalAlias: undefined,
    avatarUrl: undefined,
    joinRule: 'public',
    worldReadable: false,
    guestCanJoin: false,
    roomType: undefined,
    allowedRoomIds: [],
    encryption: undefined,
    ...extra,
  };
}

const query = (q: Partial<PublicRoomsQuery>): PublicRoomsQuery => ({ limit: undefined, since: undefined, searchTerm: undefined, roomTypes: undefined, ...q });
const ids = (page: Record<string, unknown>) => (page['chunk'] as Array<{ room_id: string }>).map((c) => c.room_id);

const rooms = [room('!c', 5), room('!a', 5), room('!d', 1), room('!b', 9), room('!e', 0), room('!f', 3)];
const ORDER = ['!b', '!a', '!c', '!f', '!d', '!e'];

test('client-server-api § GET /publicRooms: largest rooms first, ties by room ID', () => {
  assert.deepEqual(ids(publicRoomsPage(rooms, query({}))), ORDER);
});

test('client-server-api § GET /publicRooms: next_batch and prev_batch walk every page both ways', () => {
  const forward: string[][] = [];
  let page = publicRoomsPage(rooms, query({ limit: 4 }));
  assert.equal(page['prev_batch'], undefined);
  forward.push(ids(page));
  while (typeof page['next_batch'] === 'string') {
    page = publicRoomsPage(rooms, query({ limit: 4, since: decodePageToken(page['next_batch']) }));
    forward.push(ids(page));
  }
  assert.deepEqual(forward, [['!b', '!a', '!c', '!f'], ['!d', '!e']]);
  const back = publicRoomsPage(rooms, query({ limit: 4, since: decodePageToken(String(page['prev_batch'])) }));
  assert.deepEqual(ids(back), ['!b', '!a', '!c', '!f']);
  assert.equal(back['prev_batch'], undefined);
  assert.equal(typeof back['next_batch'], 'string');

  // A room joining the directory between pages does not repeat or hide the rest.
  const first = publicRoomsPage(rooms, query({ limit: 2 }));
  const grown = [...rooms, room('!0', 100)];
  assert.deepEqual(ids(publicRoomsPage(grown, query({ limit: 10, since: decodePageToken(String(first['next_batch'])) }))), ['!c', '!f', '!d', '!e']);
});

test('client-server-api § POST /publicRooms: generic_search_term and room_types', () => {
  const named = [
    room('!1', 1, { name: 'Cheese Lovers' }),
    room('!2', 1, { topic: 'all about CHEESE' }),
    room('!3', 1, { canonicalAlias: '#cheddar:x' }),
    room('!4', 1, { name: 'Space', roomType: 'm.space' }),
  ];
  assert.deepEqual(ids(publicRoomsPage(named, query({ searchTerm: 'cheese' }))), ['!1', '!2']);
  assert.deepEqual(ids(publicRoomsPage(named, query({ searchTerm: 'CHEDDAR' }))), ['!3']);
  assert.deepEqual(ids(publicRoomsPage(named, query({ roomTypes: ['m.space'] }))), ['!4']);
  assert.deepEqual(ids(publicRoomsPage(named, query({ roomTypes: [null] }))), ['!1', '!2', '!3']);
  assert.deepEqual(ids(publicRoomsPage(named, query({ roomTypes: [] }))), []);
});

test('client-server-api § POST /publicRooms: request checks', () => {
  const base = { limit: undefined, since: undefined, filter: undefined, includeAllNetworks: undefined, thirdPartyInstanceId: undefined };
  assert.equal(parsePublicRoomsRequest({ ...base, limit: '-1' }).ok, false);
  assert.equal(parsePublicRoomsRequest({ ...base, limit: 1.5 }).ok, false);
  assert.equal(parsePublicRoomsRequest({ ...base, since: 'nope' }).ok, false);
  assert.equal(parsePublicRoomsRequest({ ...base, filter: { room_types: [1] } }).ok, false);
  assert.equal(parsePublicRoomsRequest({ ...base, includeAllNetworks: true, thirdPartyInstanceId: 'irc' }).ok, false);
  const third = parsePublicRoomsRequest({ ...base, thirdPartyInstanceId: 'irc' });
  assert.ok(third.ok && third.thirdPartyNetwork);
  const token = encodePageToken({ direction: 'backward', members: 3, roomId: '!x' });
  const parsed = parsePublicRoomsRequest({ ...base, limit: '10', since: token, filter: { generic_search_term: 'x', room_types: [null, 'm.space'] } });
  assert.ok(parsed.ok);
  assert.deepEqual(parsed.query, { limit: 10, since: { direction: 'backward', members: 3, roomId: '!x' }, searchTerm: 'x', roomTypes: [null, 'm.space'] });
});
