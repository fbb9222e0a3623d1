// The room-writing and alias endpoints over HTTP, in process, on a real roomserver and
// database (every engine): client-server § "Creation" (create_room.yaml), § "Room aliases"
// (directory.yaml), § "Room membership" (joining, inviting, kicking, banning, leaving,
// knocking), § "Sending events to a room" (room_send.yaml, room_state.yaml), § "Redactions".

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Requester } from '../../../http/define-endpoint.ts';
import { startApp, silentLogger, type RunningApp } from '../../../http/testing.ts';
import { getField, isJsonObject, type JsonObject } from '../../../rooms/json.ts';
import type { Roomserver } from '../../../roomserver/index.ts';
import { localRoomserver, TestKeyring } from '../../../roomserver/testing.ts';
import { ForgottenRoomsRepository } from '../../../storage/forgotten-rooms-repository.ts';
import { describeEngines } from '../../../storage/testing.ts';
import { AliasDirectory, aliasEndpoints } from '../aliases/index.ts';
import { roomsWriteEndpoints } from './index.ts';

const SERVER = 'local.test';
const ALICE = `@alice:${SERVER}`;
const BOB = `@bob:${SERVER}`;
const CAROL = `@carol:${SERVER}`;
const users: Record<string, Requester> = {
  alice: { userId: ALICE, deviceId: 'ALICEDEV', isGuest: false },
  alice2: { userId: ALICE, deviceId: 'ALICEPHONE', isGuest: false },
  bob: { userId: BOB, deviceId: 'BOBDEV', isGuest: false },
  carol: { userId: CAROL, deviceId: 'CAROLDEV', isGuest: false },
};

interface Res {
  status: number;
  body: JsonObject;
}

describeEngines('rooms-write endpoints', (getDb) => {
  let app: RunningApp;
  let rs: Roomserver;

  before(async () => {
    rs = localRoomserver(getDb(), new TestKeyring());
    const aliases = new AliasDirectory({ db: getDb(), roomserver: rs, serverName: SERVER, clock: Date.now });
    const endpoints = [
      ...roomsWriteEndpoints({
        db: getDb(),
        roomserver: rs,
        serverName: SERVER,
        logger: silentLogger(),
        clock: Date.now,
        aliases,
        profiles: { get: async (userId) => (userId === ALICE ? { displayname: 'Alice A.' } : {}) },
      }),
      ...aliasEndpoints(aliases, rs),
    ];
    app = await startApp({ endpoints, accessTokens: { verify: async (token) => users[token] } });
  });
  after(() => app?.close());

  async function call(who: string | undefined, method: string, path: string, body?: unknown): Promise<Res> {
    const res = await fetch(`${app.url}/_matrix/client/v3${path}`, {
      method,
      headers: { ...(who === undefined ? {} : { Authorization: `Bearer ${who}` }), 'Content-Type': 'application/json' },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as JsonObject };
  }

  async function createRoom(who: string, body: JsonObject): Promise<string> {
    const res = await call(who, 'POST', '/createRoom', body);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(typeof res.body['room_id'], 'string');
    return res.body['room_id'] as string;
  }

  async function stateContent(roomId: string, type: string, stateKey = ''): Promise<JsonObject | undefined> {
    const event = await rs.stateEvent(roomId, type, stateKey);
    const content = event?.json['content'];
    return isJsonObject(content) ? content : undefined;
  }

  const enc = encodeURIComponent;

  test('createRoom § presets: join_rules, history_visibility and guest_access per the table; default version 12', async () => {
    const expected = {
      private_chat: ['invite', 'shared', 'can_join'],
      trusted_private_chat: ['invite', 'shared', 'can_join'],
      public_chat: ['public', 'shared', 'forbidden'],
    } as const;
    for (const [preset, [joinRule, history, guest]] of Object.entries(expected)) {
      const roomId = await createRoom('alice', { preset });
      assert.equal(await rs.roomVersion(roomId), '12');
      assert.equal((await stateContent(roomId, 'm.room.join_rules'))?.['join_rule'], joinRule, preset);
      assert.equal((await stateContent(roomId, 'm.room.history_visibility'))?.['history_visibility'], history, preset);
      assert.equal((await stateContent(roomId, 'm.room.guest_access'))?.['guest_access'], guest, preset);
      const pl = await stateContent(roomId, 'm.room.power_levels');
      // v12: creators are not listed; tombstone above state_default.
      assert.deepEqual(pl?.['users'], {});
      assert.equal(getField(pl?.['events'] as JsonObject, 'm.room.tombstone'), 150);
      assert.equal((await stateContent(roomId, 'm.room.member', ALICE))?.['displayname'], 'Alice A.');
    }
    // No preset: visibility decides (public → public_chat).
    const publicRoom = await createRoom('alice', { visibility: 'public' });
    assert.equal((await stateContent(publicRoom, 'm.room.join_rules'))?.['join_rule'], 'public');
    const privateRoom = await createRoom('alice', {});
    assert.equal((await stateContent(privateRoom, 'm.room.join_rules'))?.['join_rule'], 'invite');
  });

  test('createRoom § event order: create, join, power levels, alias, preset, initial_state, name, topic, invites', async () => {
    const roomId = await createRoom('alice', {
      preset: 'private_chat',
      room_alias_name: 'ordered',
      initial_state: [
        { type: 'm.room.history_visibility', content: { history_visibility: 'joined' } },
        { type: 'm.room.name', content: { name: 'overridden' } },
        { type: 'org.example.custom', state_key: 'k', content: { x: 1 } },
      ],
      name: 'The Name',
      topic: 'The Topic',
      invite: [BOB],
      is_direct: true,
      room_version: '10',
    });
    const timeline = await rs.eventsInRange({ roomId, fromStream: 0, toStream: Number.MAX_SAFE_INTEGER, limit: 100, direction: 'forward' });
    assert.deepEqual(
      timeline.map((e) => `${e.type}|${e.stateKey ?? ''}`),
      [
        'm.room.create|',
        `m.room.member|${ALICE}`,
        'm.room.power_levels|',
        'm.room.canonical_alias|',
        'm.room.join_rules|',
        'm.room.guest_access|',
        'm.room.history_visibility|',
        'org.example.custom|k',
        'm.room.name|',
        'm.room.topic|',
        `m.room.member|${BOB}`,
      ],
    );
    assert.equal((await stateContent(roomId, 'm.room.history_visibility'))?.['history_visibility'], 'joined');
    assert.equal((await stateContent(roomId, 'm.room.name'))?.['name'], 'The Name');
    assert.deepEqual(await stateContent(roomId, 'm.room.topic'), {
      topic: 'The Topic',
      'm.topic': { 'm.text': [{ body: 'The Topic', mimetype: 'text/plain' }] },
    });
    assert.deepEqual(await stateContent(roomId, 'm.room.member', BOB), { membership: 'invite', is_direct: true });
    assert.equal((await stateContent(roomId, 'm.room.create'))?.['creator'], ALICE);
    assert.deepEqual(await stateContent(roomId, 'm.room.canonical_alias'), { alias: `#ordered:${SERVER}` });
    // v1–v11: the creator is listed at 100 in the default power levels.
    assert.equal(getField((await stateContent(roomId, 'm.room.power_levels'))?.['users'] as JsonObject, ALICE), 100);
    const resolved = await call(undefined, 'GET', `/directory/room/${enc(`#ordered:${SERVER}`)}`);
    assert.equal(resolved.status, 200);
    assert.deepEqual(resolved.body, { room_id: roomId, servers: [SERVER] });
  });

  test('createRoom § trusted_private_chat: invitees as powerful as the creator (v10: users 100; v12: additional_creators)', async () => {
    const v10 = await createRoom('alice', { preset: 'trusted_private_chat', invite: [BOB], room_version: '10' });
    assert.equal(getField((await stateContent(v10, 'm.room.power_levels'))?.['users'] as JsonObject, BOB), 100);
    const v12 = await createRoom('alice', { preset: 'trusted_private_chat', invite: [BOB], creation_content: { additional_creators: [CAROL] } });
    assert.deepEqual((await stateContent(v12, 'm.room.create'))?.['additional_creators'], [CAROL, BOB]);
    assert.deepEqual((await stateContent(v12, 'm.room.power_levels'))?.['users'], {});
  });

  test('createRoom § power_level_content_override and creation_content are applied; creator/room_version are the server\'s', async () => {
    const roomId = await createRoom('alice', {
      room_version: '1',
      power_level_content_override: { events_default: 20, users: { [ALICE]: 100, [CAROL]: 70 } },
      creation_content: { 'm.federate': false, creator: '@mallory:evil.test', room_version: '99' },
    });
    const pl = await stateContent(roomId, 'm.room.power_levels');
    assert.equal(pl?.['events_default'], 20);
    assert.deepEqual(pl?.['users'], { [ALICE]: 100, [CAROL]: 70 });
    assert.equal(pl?.['kick'], 50);
    const create = await stateContent(roomId, 'm.room.create');
    assert.equal(create?.['creator'], ALICE);
    assert.equal(create?.['room_version'], '1');
    assert.equal(create?.['m.federate'], false);
  });

  test('createRoom § errors: unknown version, taken alias, refused initial state, malformed bodies — and no room left behind', async () => {
    const unsupported = await call('alice', 'POST', '/createRoom', { room_version: '999' });
    assert.equal(unsupported.status, 400);
    assert.equal(unsupported.body['errcode'], 'M_UNSUPPORTED_ROOM_VERSION');

    await createRoom('alice', { room_alias_name: 'taken' });
    const taken = await call('bob', 'POST', '/createRoom', { room_alias_name: 'taken' });
    assert.equal(taken.status, 400);
    assert.equal(taken.body['errcode'], 'M_ROOM_IN_USE');

    const before = (await rs.roomsForUser(ALICE, 'join')).length;
    // The creator lowers themselves below state_default: the name cannot be set.
    const refused = await call('alice', 'POST', '/createRoom', {
      room_version: '10',
      power_level_content_override: { users: { [ALICE]: 10 } },
      name: 'cannot',
    });
    assert.equal(refused.status, 400);
    assert.equal(refused.body['errcode'], 'M_INVALID_ROOM_STATE');
    // v12: listing a creator in `users` is refused by the auth rules.
    const listed = await call('alice', 'POST', '/createRoom', { power_level_content_override: { users: { [ALICE]: 100 } } });
    assert.equal(listed.body['errcode'], 'M_INVALID_ROOM_STATE');
    assert.equal((await rs.roomsForUser(ALICE, 'join')).length, before);

    for (const [body, errcode] of [
      [{ preset: 'nope' }, 'M_BAD_JSON'],
      [{ invite: ['not-a-user'] }, 'M_INVALID_PARAM'],
      [{ room_alias_name: 'a:b' }, 'M_INVALID_PARAM'],
      [{ initial_state: [{ type: 'm.room.create', content: {} }] }, 'M_BAD_JSON'],
      [{ initial_state: [{ type: 'x' }] }, 'M_BAD_JSON'],
      [{ creation_content: { additional_creators: ['nope'] } }, 'M_BAD_JSON'],
      [{ invite_3pid: [{ id_server: 'x', medium: 'email', address: 'a@b' }] }, 'M_INVALID_PARAM'],
    ] as const) {
      const res = await call('alice', 'POST', '/createRoom', body);
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.body['errcode'], errcode, JSON.stringify(body));
    }
    const notJson = await call('alice', 'POST', '/createRoom', '{nope');
    assert.equal(notJson.body['errcode'], 'M_NOT_JSON');
    const anonymous = await call(undefined, 'POST', '/createRoom', {});
    assert.equal(anonymous.status, 401);
  });

  test('membership § invite, join, kick, ban, unban, leave and the 403s', async () => {
    const roomId = await createRoom('alice', { preset: 'private_chat', room_version: '11' });
    // Not invited: an invite-only room refuses the join.
    const uninvited = await call('bob', 'POST', `/rooms/${enc(roomId)}/join`, {});
    assert.equal(uninvited.status, 403);
    assert.equal(uninvited.body['errcode'], 'M_FORBIDDEN');

    assert.deepEqual((await call('alice', 'POST', `/rooms/${enc(roomId)}/invite`, { user_id: BOB, reason: 'welcome' })).body, {});
    assert.deepEqual(await stateContent(roomId, 'm.room.member', BOB), { membership: 'invite', reason: 'welcome' });
    // "or was already invited": 200 and no second event.
    const inviteEvent = (await rs.stateEvent(roomId, 'm.room.member', BOB))?.eventId;
    assert.equal((await call('alice', 'POST', `/rooms/${enc(roomId)}/invite`, { user_id: BOB })).status, 200);
    assert.equal((await rs.stateEvent(roomId, 'm.room.member', BOB))?.eventId, inviteEvent);

    const joined = await call('bob', 'POST', `/join/${enc(roomId)}`, { reason: 'hi' });
    assert.deepEqual(joined.body, { room_id: roomId });
    assert.equal(await rs.membership(roomId, BOB), 'join');

    // Bob (power 0) may not kick or ban Alice.
    const badKick = await call('bob', 'POST', `/rooms/${enc(roomId)}/kick`, { user_id: ALICE });
    assert.equal(badKick.status, 403);
    const badBan = await call('bob', 'POST', `/rooms/${enc(roomId)}/ban`, { user_id: ALICE });
    assert.equal(badBan.status, 403);
    // Kicking someone not in the room.
    const kickNobody = await call('alice', 'POST', `/rooms/${enc(roomId)}/kick`, { user_id: CAROL });
    assert.equal(kickNobody.status, 403);

    assert.equal((await call('alice', 'POST', `/rooms/${enc(roomId)}/kick`, { user_id: BOB, reason: 'jokes' })).status, 200);
    assert.deepEqual(await stateContent(roomId, 'm.room.member', BOB), { membership: 'leave', reason: 'jokes' });

    // Unbanning someone who is not banned would be a kick: refused.
    assert.equal((await call('alice', 'POST', `/rooms/${enc(roomId)}/unban`, { user_id: BOB })).status, 403);
    assert.equal((await call('alice', 'POST', `/rooms/${enc(roomId)}/ban`, { user_id: BOB, reason: 'spam' })).status, 200);
    assert.equal(await rs.membership(roomId, BOB), 'ban');
    const bannedInvite = await call('alice', 'POST', `/rooms/${enc(roomId)}/invite`, { user_id: BOB });
    assert.equal(bannedInvite.status, 403);
    const bannedJoin = await call('bob', 'POST', `/join/${enc(roomId)}`, {});
    assert.equal(bannedJoin.status, 403);
    assert.equal((await call('alice', 'POST', `/rooms/${enc(roomId)}/unban`, { user_id: BOB })).status, 200);
    assert.equal(await rs.membership(roomId, BOB), 'leave');

    // Leave: Alice leaves; a second leave is a no-op; Carol was never in the room.
    assert.equal((await call('carol', 'POST', `/rooms/${enc(roomId)}/leave`, {})).status, 403);
    const unknown = await call('alice', 'POST', `/rooms/${enc('!nope:local.test')}/leave`, {});
    assert.equal(unknown.status, 404);
    assert.equal((await call('bob', 'POST', `/rooms/${enc(roomId)}/invite`, { user_id: CAROL })).status, 403);
    const badTarget = await call('alice', 'POST', `/rooms/${enc(roomId)}/invite`, { user_id: 'bob' });
    assert.equal(badTarget.body['errcode'], 'M_BAD_JSON');
  });

  test('join § by local alias and by ID of a public room; unknown rooms and aliases are 404; via is checked', async () => {
    const roomId = await createRoom('alice', { preset: 'public_chat', room_alias_name: 'pub' });
    const byAlias = await call('carol', 'POST', `/join/${enc(`#pub:${SERVER}`)}`, {});
    assert.deepEqual(byAlias.body, { room_id: roomId });
    assert.equal(await rs.membership(roomId, CAROL), 'join');
    const missingAlias = await call('carol', 'POST', `/join/${enc(`#missing:${SERVER}`)}`, {});
    assert.equal(missingAlias.status, 404);
    assert.equal(missingAlias.body['errcode'], 'M_NOT_FOUND');
    const remoteRoom = await call('carol', 'POST', `/join/${enc('!abc:elsewhere.test')}?via=elsewhere.test`, {});
    assert.equal(remoteRoom.status, 404);
    const badVia = await call('carol', 'POST', `/join/${enc(roomId)}?via=${enc('bad server')}`, {});
    assert.equal(badVia.body['errcode'], 'M_INVALID_PARAM');
    const notARoom = await call('carol', 'POST', `/join/nonsense`, {});
    assert.equal(notARoom.body['errcode'], 'M_INVALID_PARAM');
  });

  test('knock § on a knock room (v7+), refused where the join rule does not allow it and for members', async () => {
    const roomId = await createRoom('alice', {
      preset: 'private_chat',
      initial_state: [{ type: 'm.room.join_rules', content: { join_rule: 'knock' } }],
    });
    const knocked = await call('bob', 'POST', `/knock/${enc(roomId)}`, { reason: 'let me in' });
    assert.deepEqual(knocked.body, { room_id: roomId });
    assert.equal(await rs.membership(roomId, BOB), 'knock');
    assert.equal((await call('alice', 'POST', `/knock/${enc(roomId)}`, {})).status, 403);
    // Retract the knock with /leave.
    assert.equal((await call('bob', 'POST', `/rooms/${enc(roomId)}/leave`, {})).status, 200);
    assert.equal(await rs.membership(roomId, BOB), 'leave');
    const inviteOnly = await createRoom('alice', { preset: 'private_chat' });
    const refused = await call('bob', 'POST', `/knock/${enc(inviteOnly)}`, {});
    assert.equal(refused.status, 403);
    assert.equal(refused.body['errcode'], 'M_FORBIDDEN');
    assert.equal((await call('bob', 'POST', `/knock/${enc('!unknown:local.test')}`, {})).status, 404);
  });

  test('restricted rooms § a member of an allowed room joins without an invite, authorised by a local user', async () => {
    const space = await createRoom('alice', { preset: 'public_chat' });
    const restricted = await createRoom('alice', {
      preset: 'private_chat',
      initial_state: [{ type: 'm.room.join_rules', content: { join_rule: 'restricted', allow: [{ type: 'm.room_membership', room_id: space }] } }],
    });
    assert.equal((await call('bob', 'POST', `/join/${enc(restricted)}`, {})).status, 403);
    await call('bob', 'POST', `/join/${enc(space)}`, {});
    const joined = await call('bob', 'POST', `/join/${enc(restricted)}`, {});
    assert.equal(joined.status, 200, JSON.stringify(joined.body));
    assert.equal((await stateContent(restricted, 'm.room.member', BOB))?.['join_authorised_via_users_server'], ALICE);
  });

  test('forget § only after leaving (400 M_UNKNOWN while joined); a later join ends it', async () => {
    const roomId = await createRoom('alice', { preset: 'public_chat' });
    await call('bob', 'POST', `/join/${enc(roomId)}`, {});
    const joined = await call('bob', 'POST', `/rooms/${enc(roomId)}/forget`);
    assert.equal(joined.status, 400);
    assert.equal(joined.body['errcode'], 'M_UNKNOWN');
    await call('bob', 'POST', `/rooms/${enc(roomId)}/leave`, {});
    assert.deepEqual((await call('bob', 'POST', `/rooms/${enc(roomId)}/forget`)).body, {});
    const forgotten = new ForgottenRoomsRepository(getDb().kysely);
    assert.ok(await forgotten.isForgotten(BOB, roomId));
    assert.ok((await forgotten.forgottenRooms(BOB)).has(roomId));
    await call('bob', 'POST', `/join/${enc(roomId)}`, {});
    assert.equal(await forgotten.isForgotten(BOB, roomId), false);
    // Never a member: nothing to forget, still 200.
    assert.equal((await call('carol', 'POST', `/rooms/${enc(roomId)}/forget`)).status, 200);
  });

  test('send § transaction IDs: a retry from the same device returns the same event; another device or endpoint does not', async () => {
    const roomId = await createRoom('alice', { preset: 'public_chat' });
    const path = `/rooms/${enc(roomId)}/send/m.room.message/txn1`;
    const first = await call('alice', 'PUT', path, { msgtype: 'm.text', body: 'hello' });
    assert.equal(first.status, 200);
    assert.match(first.body['event_id'] as string, /^\$/);
    const retry = await call('alice', 'PUT', path, { msgtype: 'm.text', body: 'hello' });
    assert.deepEqual(retry.body, first.body);
    const otherDevice = await call('alice2', 'PUT', path, { msgtype: 'm.text', body: 'hello' });
    assert.notEqual(otherDevice.body['event_id'], first.body['event_id']);
    const event = await rs.event(first.body['event_id'] as string);
    assert.deepEqual(event?.json['content'], { msgtype: 'm.text', body: 'hello' });
    // The same txnId on /redact is another endpoint's transaction (§ "Transaction identifiers").
    const redaction = await call('alice', 'PUT', `/rooms/${enc(roomId)}/redact/${enc(first.body['event_id'] as string)}/txn1`, {});
    assert.equal(redaction.status, 200);
    assert.notEqual(redaction.body['event_id'], first.body['event_id']);
  });

  test('send § refusals: non-members 403, m.room.create 403, bad bodies, over-long types, oversized events', async () => {
    const roomId = await createRoom('alice', { preset: 'private_chat' });
    const outsider = await call('bob', 'PUT', `/rooms/${enc(roomId)}/send/m.room.message/t1`, { body: 'x' });
    assert.equal(outsider.status, 403);
    assert.equal(outsider.body['errcode'], 'M_FORBIDDEN');
    assert.equal((await call('alice', 'PUT', `/rooms/${enc(roomId)}/send/m.room.create/t2`, {})).status, 403);
    assert.equal((await call('alice', 'PUT', `/rooms/${enc(roomId)}/send/m.room.message/t3`, '[1]')).body['errcode'], 'M_NOT_JSON');
    const longType = await call('alice', 'PUT', `/rooms/${enc(roomId)}/send/${'x'.repeat(256)}/t4`, {});
    assert.equal(longType.body['errcode'], 'M_INVALID_PARAM');
    const unknownRoom = await call('alice', 'PUT', `/rooms/${enc('!nope:local.test')}/send/m.room.message/t5`, {});
    assert.equal(unknownRoom.status, 404);
    const huge = await call('alice', 'PUT', `/rooms/${enc(roomId)}/send/m.room.message/t6`, { body: 'x'.repeat(65_300) });
    assert.equal(huge.status, 413);
    assert.equal(huge.body['errcode'], 'M_TOO_LARGE');
    const float = await call('alice', 'PUT', `/rooms/${enc(roomId)}/send/m.room.message/t7`, '{"n": 1.5}');
    assert.equal(float.body['errcode'], 'M_BAD_JSON');
  });

  for (const version of ['10', '11']) {
    test(`redaction § v${version}: own events; others' events need the redact level; via /send too (v1.18)`, async () => {
      const roomId = await createRoom('alice', { preset: 'public_chat', room_version: version });
      await call('bob', 'POST', `/join/${enc(roomId)}`, {});
      const alicesMessage = (await call('alice', 'PUT', `/rooms/${enc(roomId)}/send/m.room.message/a1`, { body: 'secret' })).body['event_id'] as string;
      const bobsMessage = (await call('bob', 'PUT', `/rooms/${enc(roomId)}/send/m.room.message/b1`, { body: 'oops' })).body['event_id'] as string;

      const refused = await call('bob', 'PUT', `/rooms/${enc(roomId)}/redact/${enc(alicesMessage)}/r1`, { reason: 'no' });
      assert.equal(refused.status, 403);
      const own = await call('bob', 'PUT', `/rooms/${enc(roomId)}/redact/${enc(bobsMessage)}/r2`, { reason: 'typo' });
      assert.equal(own.status, 200);
      const redaction = await rs.event(own.body['event_id'] as string);
      assert.equal(getField(redaction?.json['content'] as JsonObject, 'reason'), 'typo');
      if (version === '11') assert.equal(getField(redaction?.json['content'] as JsonObject, 'redacts'), bobsMessage);
      else assert.equal(redaction?.json['redacts'], bobsMessage);
      assert.deepEqual((await rs.event(bobsMessage))?.json['content'], {});
      const retry = await call('bob', 'PUT', `/rooms/${enc(roomId)}/redact/${enc(bobsMessage)}/r2`, { reason: 'typo' });
      assert.deepEqual(retry.body, own.body);

      const viaSend = await call('alice', 'PUT', `/rooms/${enc(roomId)}/send/m.room.redaction/s1`, { redacts: alicesMessage, reason: 'mine' });
      assert.equal(viaSend.status, 200);
      const sent = await rs.event(viaSend.body['event_id'] as string, 'stored');
      if (version === '11') assert.equal(getField(sent?.json['content'] as JsonObject, 'redacts'), alicesMessage);
      else assert.equal(sent?.json['redacts'], alicesMessage);
      assert.equal((await rs.event(alicesMessage))?.redactedBy, viaSend.body['event_id']);

      const missing = await call('alice', 'PUT', `/rooms/${enc(roomId)}/redact/${enc('$nothing')}/r3`, {});
      assert.equal(missing.status, 404);
      const noTarget = await call('alice', 'PUT', `/rooms/${enc(roomId)}/send/m.room.redaction/s2`, { reason: 'x' });
      assert.equal(noTarget.body['errcode'], 'M_BAD_JSON');
    });
  }

  test('state § PUT with and without a state key, dedupe of identical state, power checks, m.room.member through the rules', async () => {
    const roomId = await createRoom('alice', { preset: 'public_chat' });
    const named = await call('alice', 'PUT', `/rooms/${enc(roomId)}/state/m.room.name`, { name: 'one' });
    assert.equal(named.status, 200);
    assert.equal((await stateContent(roomId, 'm.room.name'))?.['name'], 'one');
    const slash = await call('alice', 'PUT', `/rooms/${enc(roomId)}/state/m.room.name/`, { name: 'two' });
    assert.equal(slash.status, 200);
    const again = await call('alice', 'PUT', `/rooms/${enc(roomId)}/state/m.room.name/`, { name: 'two' });
    assert.deepEqual(again.body, slash.body);
    const keyed = await call('alice', 'PUT', `/rooms/${enc(roomId)}/state/org.example.animal/${enc(ALICE)}`, { animal: 'cat' });
    assert.equal(keyed.status, 200);
    assert.deepEqual(await stateContent(roomId, 'org.example.animal', ALICE), { animal: 'cat' });

    await call('bob', 'POST', `/join/${enc(roomId)}`, {});
    const weak = await call('bob', 'PUT', `/rooms/${enc(roomId)}/state/m.room.name`, { name: 'bob was here' });
    assert.equal(weak.status, 403);
    assert.equal(weak.body['errcode'], 'M_FORBIDDEN');
    // Banning through the state endpoint (§ "Banning users in a room").
    const ban = await call('alice', 'PUT', `/rooms/${enc(roomId)}/state/m.room.member/${enc(BOB)}`, { membership: 'ban' });
    assert.equal(ban.status, 200);
    assert.equal(await rs.membership(roomId, BOB), 'ban');
    const badMember = await call('alice', 'PUT', `/rooms/${enc(roomId)}/state/m.room.member/${enc(CAROL)}`, { membership: 'dance' });
    assert.equal(badMember.body['errcode'], 'M_BAD_JSON');
    assert.equal((await call('alice', 'PUT', `/rooms/${enc(roomId)}/state/m.room.create`, {})).status, 403);
    const longKey = await call('alice', 'PUT', `/rooms/${enc(roomId)}/state/x/${'k'.repeat(256)}`, {});
    assert.equal(longKey.body['errcode'], 'M_INVALID_PARAM');
  });

  test('state § m.room.canonical_alias: new aliases must be valid and point at the room', async () => {
    const roomId = await createRoom('alice', { preset: 'public_chat', room_alias_name: 'canon' });
    const other = await createRoom('alice', { preset: 'public_chat', room_alias_name: 'other' });
    const put = (content: JsonObject) => call('alice', 'PUT', `/rooms/${enc(roomId)}/state/m.room.canonical_alias`, content);
    assert.equal((await put({ alias: 'no-sigil' })).body['errcode'], 'M_INVALID_PARAM');
    assert.equal((await put({ alias: `#other:${SERVER}` })).body['errcode'], 'M_BAD_ALIAS');
    assert.equal((await put({ alias: `#missing:${SERVER}` })).body['errcode'], 'M_BAD_ALIAS');
    assert.equal((await put({ alias: `#canon:${SERVER}`, alt_aliases: [`#canon:${SERVER}`] })).status, 200);
    assert.ok(other);
  });

  test('aliases § PUT, GET, DELETE /directory/room and GET /rooms/{roomId}/aliases', async () => {
    const roomId = await createRoom('alice', { preset: 'public_chat' });
    const alias = `#fresh:${SERVER}`;
    const path = `/directory/room/${enc(alias)}`;
    assert.equal((await call('alice', 'PUT', path, { room_id: roomId })).status, 200);
    const taken = await call('alice', 'PUT', path, { room_id: roomId });
    assert.equal(taken.status, 409);
    assert.equal(taken.body['errcode'], 'M_ROOM_IN_USE');
    assert.equal((await call('alice', 'PUT', `/directory/room/${enc('#x:elsewhere.test')}`, { room_id: roomId })).body['errcode'], 'M_INVALID_PARAM');
    assert.equal((await call('alice', 'PUT', `/directory/room/${enc('nope')}`, { room_id: roomId })).body['errcode'], 'M_INVALID_PARAM');
    assert.equal((await call('alice', 'PUT', `/directory/room/${enc('#y:local.test')}`, { room_id: '!unknown:local.test' })).status, 404);
    assert.equal((await call('bob', 'PUT', `/directory/room/${enc('#z:local.test')}`, { room_id: roomId })).status, 403);

    assert.deepEqual((await call(undefined, 'GET', path)).body, { room_id: roomId, servers: [SERVER] });
    assert.equal((await call(undefined, 'GET', `/directory/room/${enc('#x:elsewhere.test')}`)).status, 404);
    assert.deepEqual((await call('alice', 'GET', `/rooms/${enc(roomId)}/aliases`)).body, { aliases: [alias] });
    assert.equal((await call('bob', 'GET', `/rooms/${enc(roomId)}/aliases`)).status, 403);

    // Bob joins but has no power over aliases and did not create this one.
    await call('bob', 'POST', `/join/${enc(roomId)}`, {});
    assert.equal((await call('bob', 'DELETE', path)).status, 403);
    await call('alice', 'PUT', `/rooms/${enc(roomId)}/state/m.room.canonical_alias`, { alias, alt_aliases: [alias] });
    assert.deepEqual((await call('alice', 'DELETE', path)).body, {});
    assert.equal((await call('alice', 'DELETE', path)).status, 404);
    assert.equal((await call(undefined, 'GET', path)).status, 404);
    // The deleted alias is dropped from the canonical alias event.
    assert.deepEqual(await stateContent(roomId, 'm.room.canonical_alias'), { alt_aliases: [] });
    // Bob's own alias: he may delete it.
    assert.equal((await call('bob', 'PUT', `/directory/room/${enc('#bobs:local.test')}`, { room_id: roomId })).status, 200);
    assert.equal((await call('bob', 'DELETE', `/directory/room/${enc('#bobs:local.test')}`)).status, 200);
  });
});
