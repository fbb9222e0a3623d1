// The room directory's bulk reads (client-server § "Published room directory", § "Spaces").

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PublicRoomsRepository } from './public-rooms-repository.ts';
import { RoomsRepository } from './rooms-repository.ts';
import { StateRepository } from './state-repository.ts';
import { describeEngines } from './testing.ts';

describeEngines('public rooms repository', (getDb) => {
  test('published rooms, state of types across rooms, joined counts, server membership', async () => {
    const db = getDb();
    const rooms = new RoomsRepository(db.kysely);
    const state = new StateRepository(db.kysely);
    const repo = new PublicRoomsRepository(db.kysely);
    for (const roomId of ['!a:x', '!b:x', '!c:x']) await rooms.insert({ roomId, roomVersion: '12', creator: '@u:x', createdTs: 0 });
    await rooms.setPublic('!a:x', true);
    await rooms.setPublic('!c:x', true);
    const member = (userId: string, eventId: string, membership: string) => ({ type: 'm.room.member', stateKey: userId, eventId, membership });
    await state.applyCurrentStateChanges('!a:x', [
      { type: 'm.room.create', stateKey: '', eventId: '$create-a', membership: null },
      { type: 'm.room.name', stateKey: '', eventId: '$name-a', membership: null },
      member('@u:x', '$m1', 'join'),
      member('@v:other.example', '$m2', 'join'),
      member('@w:x_y', '$m3', 'join'),
      member('@z:y', '$m4', 'leave'),
    ]);
    await state.applyCurrentStateChanges('!b:x', [member('@u:x', '$m5', 'join')]);

    assert.deepEqual(await repo.publishedRoomIds(), ['!a:x', '!c:x']);
    const rows = await repo.currentStateOfTypes(['!a:x', '!b:x'], ['m.room.create', 'm.room.name']);
    assert.deepEqual(rows.map((r) => r.eventId).sort(), ['$create-a', '$name-a']);
    assert.deepEqual(await repo.currentStateOfTypes(['!a:x'], []), []);
    const counts = await repo.joinedMemberCounts(['!a:x', '!b:x', '!c:x']);
    assert.deepEqual([...counts].sort(), [['!a:x', 3], ['!b:x', 1]]);
    assert.deepEqual([...(await repo.roomVersions(['!a:x', '!zz:x']))], [['!a:x', '12']]);

    assert.equal(await repo.serverJoinedToAny(['!a:x'], 'other.example'), true);
    assert.equal(await repo.serverJoinedToAny(['!a:x'], 'example'), false, 'a suffix of a server name is not that server');
    assert.equal(await repo.serverJoinedToAny(['!a:x'], 'y'), false, 'left members do not count');
    // `_` is a LIKE wildcard: it must match only itself.
    assert.equal(await repo.serverJoinedToAny(['!b:x'], 'x'), true);
    assert.equal(await repo.serverJoinedToAny(['!a:x'], 'xzy'), false);
    assert.equal(await repo.serverJoinedToAny(['!a:x'], 'x_y'), true);
    assert.equal(await repo.serverJoinedToAny([], 'x'), false);
    assert.deepEqual([...(await repo.roomsJoinedByServer(['!a:x', '!b:x', '!c:x'], 'x'))].sort(), ['!a:x', '!b:x']);
    assert.deepEqual([...(await repo.roomsJoinedByServer(['!a:x', '!b:x'], 'other.example'))], ['!a:x']);
  });
});
