import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { UserDirectoryConfig } from '../../config/types.ts';
import { localRoomserver, TestKeyring } from '../../roomserver/testing.ts';
import { UserDirectoryRepository } from '../../storage/user-directory-repository.ts';
import { describeEngines } from '../../storage/testing.ts';
import { createProfileAccess } from './profile-access.ts';
import { UserDirectoryService, wordsOf } from './user-directory-service.ts';

const SERVER = 'local.test';
const ALICE = '@alice:local.test';
const BOB = '@bob:local.test';
const CAROL = '@carol:local.test';
const DAN = '@dan:local.test';

const DEFAULTS: UserDirectoryConfig = {
  enabled: true,
  search_all_users: false,
  include_public_rooms: true,
  require_auth_for_profile_requests: false,
  limit_profile_requests_to_users_who_share_rooms: false,
};

test('wordsOf splits user IDs and names into lower-cased words', () => {
  assert.deepEqual(wordsOf('@Alice-B:example.org'), ['alice', 'b', 'example', 'org']);
  assert.deepEqual(wordsOf('  Zoë  Ørsted '), ['zoë', 'ørsted']);
});

describeEngines('User directory and profile visibility (client-server § User directory, § Profiles)', (getDb) => {
  let ready: Promise<void> | undefined;
  async function fixture(): Promise<void> {
    const db = getDb();
    const rs = localRoomserver(db, new TestKeyring());
    for (const [userId, name] of [[ALICE, 'Alice Liddell'], [BOB, 'Bobby Tables'], [CAROL, 'Carol Ørsted'], [DAN, 'Dan Liddell']] as const) {
      await db.kysely.insertInto('users').values({ user_id: userId, password_hash: null, created_ts: 1 }).execute();
      await db.kysely.insertInto('profiles').values({ user_id: userId, fields: JSON.stringify({ displayname: name }), updated_ts: 1 }).execute();
    }
    // Private room of Alice and Bob; Bob's member event carries a room-specific name.
    const { roomId: privateRoom } = await rs.createRoom({
      creator: ALICE,
      roomVersion: '10',
      initialState: [{ type: 'm.room.join_rules', stateKey: '', content: { join_rule: 'invite' } }],
    });
    await rs.setMembership({ roomId: privateRoom, sender: ALICE, target: BOB, membership: 'invite' });
    await rs.setMembership({ roomId: privateRoom, sender: BOB, target: BOB, membership: 'join', extraContent: { displayname: 'Bob in the room' } });
    // Dan's public room.
    await rs.createRoom({
      creator: DAN,
      roomVersion: '10',
      creatorMemberContent: { displayname: 'Dan Public' },
      initialState: [{ type: 'm.room.join_rules', stateKey: '', content: { join_rule: 'public' } }],
    });
  }
  const setup = () => (ready ??= fixture());
  const service = (config: Partial<UserDirectoryConfig> = {}, serverName = SERVER) =>
    new UserDirectoryService({ db: getDb(), config: { ...DEFAULTS, ...config }, serverName });
  const ids = async (s: UserDirectoryService, searcher: string, term: string, limit = 10) =>
    (await s.search(searcher, term, limit)).results.map((u) => u.userId);

  test('finds users who share a room by display-name prefix, and public-room members', async () => {
    await setup();
    const s = service();
    assert.deepEqual(await s.search(ALICE, 'TAB', 10), { results: [{ userId: BOB, displayName: 'Bobby Tables', avatarUrl: undefined }], limited: false });
    assert.deepEqual(await ids(s, ALICE, 'bobby ta'), [BOB]);
    assert.deepEqual(await ids(s, ALICE, 'obby'), []);
    assert.deepEqual(await ids(s, ALICE, 'dan'), [DAN]);
    assert.deepEqual(await ids(service({ include_public_rooms: false }), ALICE, 'dan'), []);
    assert.deepEqual(await ids(service({ enabled: false }), ALICE, 'bob'), []);
  });

  test('a stranger only with search_all_users; non-ASCII names match case-insensitively', async () => {
    await setup();
    assert.deepEqual(await ids(service(), ALICE, 'carol'), []);
    assert.deepEqual(await ids(service({ search_all_users: true }), ALICE, 'carol'), [CAROL]);
    assert.deepEqual(await ids(service({ search_all_users: true }), ALICE, 'ØRS'), [CAROL]);
  });

  test('remote users are named by their member events; ranking and limited', async () => {
    await setup();
    // Seen from another server, every user here is remote: names come from member events.
    const remote = service({}, 'elsewhere.test');
    assert.deepEqual(await remote.search(ALICE, 'room', 10), { results: [{ userId: BOB, displayName: 'Bob in the room', avatarUrl: undefined }], limited: false });
    const all = service({ search_all_users: true });
    assert.deepEqual(await ids(all, BOB, 'l'), [ALICE, DAN]);
    assert.deepEqual(await ids(all, BOB, 'alice liddell'), [ALICE]);
    const one = await all.search(BOB, 'l', 1);
    assert.equal(one.results.length, 1);
    assert.equal(one.limited, true);
  });

  test('profile access: shared rooms and public rooms are visible, others 403; anonymous 401 when required', async () => {
    await setup();
    const repo = new UserDirectoryRepository(getDb().kysely);
    assert.equal(await repo.isVisible(ALICE, BOB), true);
    assert.equal(await repo.isVisible(CAROL, BOB), false);
    assert.equal(await repo.isVisible(CAROL, DAN), true);
    assert.equal(await repo.isVisible(undefined, DAN), true);
    assert.equal(await repo.isVisible(CAROL, CAROL), true);
    const open = createProfileAccess(DEFAULTS, repo);
    await open.check(undefined, BOB);
    const limited = createProfileAccess({ ...DEFAULTS, require_auth_for_profile_requests: true, limit_profile_requests_to_users_who_share_rooms: true }, repo);
    await assert.rejects(limited.check(undefined, DAN), { errcode: 'M_MISSING_TOKEN' });
    await assert.rejects(limited.check(CAROL, BOB), { errcode: 'M_FORBIDDEN' });
    await limited.check(ALICE, BOB);
    await limited.check(CAROL, DAN);
  });
});
