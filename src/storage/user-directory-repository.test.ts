import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeEngines } from './testing.ts';
import { UserDirectoryRepository } from './user-directory-repository.ts';

const A = '@alice:x';
const B = '@bob:x';
const C = '@carol:x';
const D = '@dan:x';

describeEngines('UserDirectoryRepository (client-server § User directory, § Profiles)', (getDb) => {
  let n = 0;
  async function state(roomId: string, type: string, stateKey: string, content: Record<string, unknown>): Promise<void> {
    const eventId = `$s${++n}`;
    const kysely = getDb().kysely;
    await kysely
      .insertInto('events')
      .values({
        event_id: eventId,
        room_id: roomId,
        stream_ordering: n,
        depth: n,
        type,
        state_key: stateKey,
        sender: stateKey.startsWith('@') ? stateKey : A,
        origin_server_ts: n,
        json: JSON.stringify({ type, state_key: stateKey, content }),
        room_version: '10',
        outlier: false,
        rejected_reason: null,
        redacted_by: null,
        state_before_snapshot_id: null,
        received_ts: n,
      })
      .execute();
    const membership = type === 'm.room.member' ? String(content['membership']) : null;
    await kysely
      .insertInto('current_state')
      .values({ room_id: roomId, type, state_key: stateKey, event_id: eventId, membership })
      .onConflict((oc) => oc.columns(['room_id', 'type', 'state_key']).doUpdateSet({ event_id: eventId, membership }))
      .execute();
  }
  let ready: Promise<void> | undefined;
  const setup = () =>
    (ready ??= (async () => {
      // !private: alice and bob (bob named "Bobby" there); !world: dan, world_readable history.
      await state('!private:x', 'm.room.join_rules', '', { join_rule: 'invite' });
      await state('!private:x', 'm.room.member', A, { membership: 'join' });
      await state('!private:x', 'm.room.member', B, { membership: 'join', displayname: 'Bobby' });
      await state('!private:x', 'm.room.member', C, { membership: 'leave' });
      await state('!world:x', 'm.room.join_rules', '', { join_rule: 'invite' });
      await state('!world:x', 'm.room.history_visibility', '', { history_visibility: 'world_readable' });
      await state('!world:x', 'm.room.member', D, { membership: 'join', displayname: 'Dan' });
      await getDb().kysely.insertInto('users').values([{ user_id: C, password_hash: null, created_ts: 1 }]).execute();
      await getDb().kysely.insertInto('profiles').values([{ user_id: C, fields: '{"displayname":"Carol"}', updated_ts: 1 }]).execute();
    })());
  const scope = { searcher: A, publicRooms: true, allLocalUsers: false };

  test('candidates: co-members and members of world_readable rooms, narrowed by word; local users on request', async () => {
    await setup();
    const repo = new UserDirectoryRepository(getDb().kysely);
    const ids = async (s: typeof scope, words: string[]) => (await repo.candidates(s, words)).map((c) => c.userId).sort();
    assert.deepEqual(await ids(scope, ['bobby']), [B]);
    assert.deepEqual(await ids(scope, ['dan']), [D]);
    assert.deepEqual(await ids({ ...scope, publicRooms: false }, ['dan']), []);
    assert.deepEqual(await ids(scope, ['carol']), [], 'carol left the room');
    assert.deepEqual(await ids({ ...scope, allLocalUsers: true }, ['carol']), [C]);
    const [bob] = await repo.candidates(scope, ['bobby']);
    assert.equal(JSON.parse(bob?.memberEventJson ?? '{}').content.displayname, 'Bobby');
  });

  test('isVisible: shared rooms, world_readable rooms, oneself; not after leaving', async () => {
    await setup();
    const repo = new UserDirectoryRepository(getDb().kysely);
    assert.equal(await repo.isVisible(A, B), true);
    assert.equal(await repo.isVisible(B, A), true);
    assert.equal(await repo.isVisible(C, B), false);
    assert.equal(await repo.isVisible(A, C), false);
    assert.equal(await repo.isVisible(C, D), true);
    assert.equal(await repo.isVisible(undefined, D), true);
    assert.equal(await repo.isVisible(undefined, B), false);
    assert.equal(await repo.isVisible(C, C), true);
  });
});
