// Membership over federation between two in-process Stoa servers that talk real, signed
// HTTPS federation to each other (certificates from the rig's test CA): each has its own
// database, Roomserver, createFederation (sender, membership endpoints, inbound /send) and
// federation listener. The client API's join endpoint is wired to RemoteMembership in
// main.ts separately; here the federation halves are driven directly.
// Spec: server-server § "Joining Rooms" (incl. restricted rooms), "Leaving Rooms (Rejecting
// Invites)", "Inviting to a room", "Knocking upon a room", "Transactions", "Querying for
// information" (room directory).

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { signEvent } from '../src/crypto/event-signing.ts';
import { RemoteMatrixError } from '../src/federation/client/errors.ts';
import { MatrixError } from '../src/http/matrix-error.ts';
import type { JsonObject } from '../src/rooms/json.ts';
import { parsePdu } from '../src/rooms/pdu/parse.ts';
import { roomVersionRules } from '../src/rooms/room-versions.ts';
import { AliasesRepository } from '../src/storage/aliases-repository.ts';
import { expectMatrixError, expectSpecResponse } from './rig/openapi.ts';
import { testCertificateAuthority } from './rig/tls.ts';
import { eventually, startInProcessNode, type InProcessNode } from './rig/in-process-node.ts';

/** A federation call as the spec-validation helpers want it: status and body, errors included. */
async function call(run: () => Promise<JsonObject>): Promise<{ status: number; body: unknown }> {
  try {
    return { status: 200, body: await run() };
  } catch (err) {
    if (err instanceof RemoteMatrixError) return { status: err.status, body: err.body };
    throw err;
  }
}

function roomState(joinRule: JsonObject, creator: string, version: string): Array<{ type: string; stateKey: string; content: JsonObject }> {
  return [
    { type: 'm.room.power_levels', stateKey: '', content: { users: version === '12' ? {} : { [creator]: 100 }, users_default: 0 } },
    { type: 'm.room.join_rules', stateKey: '', content: joinRule },
    { type: 'm.room.history_visibility', stateKey: '', content: { history_visibility: 'shared' } },
    { type: 'm.room.name', stateKey: '', content: { name: 'federated' } },
  ];
}

describe('membership over federation (two in-process servers over HTTPS)', () => {
  let tmp: string;
  let a: InProcessNode;
  let b: InProcessNode;
  let alice: string;
  let publicRoom: string;

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'stoa-fed-membership-'));
    const caPath = join(tmp, 'ca.crt');
    await writeFile(caPath, (await testCertificateAuthority()).certificate);
    [a, b] = await Promise.all([startInProcessNode(11, caPath), startInProcessNode(12, caPath)]);
    alice = a.user('alice');
    ({ roomId: publicRoom } = await a.roomserver.createRoom({
      creator: alice,
      roomVersion: '12',
      initialState: roomState({ join_rule: 'public' }, alice, '12'),
    }));
  });

  after(async () => {
    await b?.close();
    await a?.close();
    await rm(tmp, { recursive: true, force: true });
  });

  test('§ Joining Rooms: a user of B joins A\u2019s room by ID, then messages flow both ways', async () => {
    const bob = b.user('bob');
    const joined = await b.federation.remoteMembership.join({
      roomId: publicRoom,
      userId: bob,
      servers: [a.serverName],
      content: { displayname: 'Bob' },
    });
    assert.equal(joined.roomId, publicRoom);
    assert.equal(await b.roomserver.membership(publicRoom, bob), 'join');
    assert.equal(await a.roomserver.membership(publicRoom, bob), 'join');
    assert.equal(await b.roomserver.membership(publicRoom, alice), 'join', 'B holds the room state it was sent');
    assert.equal((await b.roomserver.stateEvent(publicRoom, 'm.room.name', ''))?.json['content'] !== undefined, true);

    const fromA = await a.roomserver.sendEvent({ roomId: publicRoom, sender: alice, type: 'm.room.message', content: { msgtype: 'm.text', body: 'hello B' } });
    const atB = await eventually('A\u2019s message at B', async () => {
      const event = await b.roomserver.event(fromA.eventId);
      return event?.streamOrdering === null ? undefined : event;
    });
    assert.equal((atB.json['content'] as JsonObject)['body'], 'hello B');

    const fromB = await b.roomserver.sendEvent({ roomId: publicRoom, sender: bob, type: 'm.room.message', content: { msgtype: 'm.text', body: 'hello A' } });
    const atA = await eventually('B\u2019s message at A', async () => a.roomserver.event(fromB.eventId));
    assert.equal((atA.json['content'] as JsonObject)['body'], 'hello A');
    assert.equal(atA.outlier, false);

    const health = await eventually('A\u2019s queue to B drained', async () => {
      const row = (await a.federation.sender.health()).find((h) => h.destination === b.serverName);
      return row !== undefined && row.queued === 0 && row.lastSuccessTs !== null ? row : undefined;
    });
    assert.equal(health.failureCount, 0);
  });

  test('§ Joining Rooms: make_join and send_join v2 answer in the spec\u2019s shapes', async () => {
    const carol = b.user('carol');
    const { roomId } = await a.roomserver.createRoom({ creator: alice, roomVersion: '10', initialState: roomState({ join_rule: 'public' }, alice, '10') });
    const made = await call(() =>
      b.federation.client.get(a.serverName, `/_matrix/federation/v1/make_join/${encodeURIComponent(roomId)}/${encodeURIComponent(carol)}`, {
        ver: ['10', '11'],
      }),
    );
    expectSpecResponse(made, 'server-server:makeJoin');
    const template = (made.body as JsonObject)['event'] as JsonObject;
    const rules = roomVersionRules('10')!;
    const signed = signEvent({ ...template, origin: b.serverName, origin_server_ts: Date.now() }, b.serverName, b.key, rules);
    const parsed = parsePdu({ raw: signed, roomVersion: '10' });
    assert.ok(parsed.ok);
    const sent = await call(() =>
      b.federation.client.put(
        a.serverName,
        `/_matrix/federation/v2/send_join/${encodeURIComponent(roomId)}/${encodeURIComponent(parsed.pdu.eventId)}`,
        signed,
      ),
    );
    expectSpecResponse(sent, 'server-server:sendJoinV2');
    const body = sent.body as JsonObject;
    const stateTypes = (body['state'] as JsonObject[]).map((e) => e['type']);
    assert.ok(stateTypes.includes('m.room.create') && stateTypes.includes('m.room.power_levels'));
    assert.ok((body['auth_chain'] as JsonObject[]).length >= 3);
    assert.equal(body['members_omitted'], false);
    assert.equal(await a.roomserver.membership(roomId, carol), 'join');
  });

  test('§ Joining Rooms: refusals carry the spec\u2019s error codes', async () => {
    const dan = b.user('dan');
    const makeJoin = (roomId: string, userId: string, ver: string[]) =>
      call(() => b.federation.client.get(a.serverName, `/_matrix/federation/v1/make_join/${encodeURIComponent(roomId)}/${encodeURIComponent(userId)}`, { ver }));
    expectMatrixError(await makeJoin(`!unknown:${a.serverName}`, dan, ['10']), 404, 'M_NOT_FOUND');
    const incompatible = await makeJoin(publicRoom, dan, ['1', '2']);
    expectMatrixError(incompatible, 400, 'M_INCOMPATIBLE_ROOM_VERSION');
    assert.equal((incompatible.body as JsonObject)['room_version'], '12');
    expectMatrixError(await makeJoin(publicRoom, a.user('mallory'), ['12']), 403, 'M_FORBIDDEN');
    const { roomId: inviteOnly } = await a.roomserver.createRoom({ creator: alice, roomVersion: '12', initialState: roomState({ join_rule: 'invite' }, alice, '12') });
    expectMatrixError(await makeJoin(inviteOnly, dan, ['12']), 403, 'M_FORBIDDEN');
    await assert.rejects(
      b.federation.remoteMembership.join({ roomId: inviteOnly, userId: dan, servers: [a.serverName], content: {} }),
      (err: unknown) => err instanceof MatrixError && err.status === 403 && err.errcode === 'M_FORBIDDEN',
    );
  });

  test('§ Restricted rooms: the resident authorises and countersigns the join', async () => {
    const bob = b.user('bob');
    const { roomId } = await a.roomserver.createRoom({
      creator: alice,
      roomVersion: '10',
      initialState: roomState({ join_rule: 'restricted', allow: [{ type: 'm.room_membership', room_id: publicRoom }] }, alice, '10'),
    });
    const erin = b.user('erin');
    const refused = await call(() =>
      b.federation.client.get(a.serverName, `/_matrix/federation/v1/make_join/${encodeURIComponent(roomId)}/${encodeURIComponent(erin)}`, { ver: ['10'] }),
    );
    expectMatrixError(refused, 403, 'M_FORBIDDEN');

    const joined = await b.federation.remoteMembership.join({ roomId, userId: bob, servers: [a.serverName], content: {} });
    assert.equal(await a.roomserver.membership(roomId, bob), 'join');
    const join = await a.roomserver.event(joined.eventId, 'stored');
    assert.equal((join?.json['content'] as JsonObject)['join_authorised_via_users_server'], alice);
    assert.ok(Object.keys((join?.json['signatures'] as JsonObject)[a.serverName] as JsonObject).length > 0);
  });

  test('§ Inviting to a room / § Leaving Rooms: an invite is countersigned by the invitee\u2019s server, then rejected', async () => {
    const frank = b.user('frank');
    const { roomId } = await a.roomserver.createRoom({ creator: alice, roomVersion: '12', initialState: roomState({ join_rule: 'invite' }, alice, '12') });
    const invited = await a.federation.remoteMembership.invite({ roomId, sender: alice, target: frank, content: { membership: 'invite' } });
    assert.equal(await a.roomserver.membership(roomId, frank), 'invite');
    const invite = await a.roomserver.event(invited.eventId, 'stored');
    assert.ok((invite?.json['signatures'] as JsonObject)[b.serverName] !== undefined, 'countersigned by B');

    await b.federation.remoteMembership.rejectInvite({ roomId, userId: frank, servers: [a.serverName], content: {} });
    assert.equal(await a.roomserver.membership(roomId, frank), 'leave');
  });

  test('§ Knocking upon a room: make_knock + send_knock, and the stripped state comes back', async () => {
    const gina = b.user('gina');
    const { roomId } = await a.roomserver.createRoom({ creator: alice, roomVersion: '10', initialState: roomState({ join_rule: 'knock' }, alice, '10') });
    const made = await call(() =>
      b.federation.client.get(a.serverName, `/_matrix/federation/v1/make_knock/${encodeURIComponent(roomId)}/${encodeURIComponent(gina)}`, { ver: ['10'] }),
    );
    expectSpecResponse(made, 'server-server:makeKnock');
    const knocked = await b.federation.remoteMembership.knock({ roomId, userId: gina, servers: [a.serverName], content: { reason: 'let me in' } });
    assert.equal(await a.roomserver.membership(roomId, gina), 'knock');
    const types = knocked.knockRoomState.map((e) => e['type']);
    assert.ok(types.includes('m.room.create') && types.includes('m.room.join_rules') && types.includes('m.room.name'));
    expectSpecResponse({ status: 200, body: { knock_room_state: knocked.knockRoomState } }, 'server-server:sendKnock');
  });

  test('§ Querying for information: room aliases resolve across servers', async () => {
    const alias = `#lobby:${a.serverName}`;
    await new AliasesRepository(a.db.db.kysely).create({ alias, roomId: publicRoom, creator: alice, createdTs: Date.now() });
    const raw = await call(() => b.federation.client.get(a.serverName, '/_matrix/federation/v1/query/directory', { room_alias: alias }));
    expectSpecResponse(raw, 'server-server:queryRoomDirectory');
    const resolved = await b.federation.remoteDirectory.resolve(alias);
    assert.equal(resolved?.roomId, publicRoom);
    assert.ok(resolved?.servers.includes(a.serverName));
    assert.equal(await b.federation.remoteDirectory.resolve(`#nothing:${a.serverName}`), undefined);
    expectMatrixError(
      await call(() => b.federation.client.get(a.serverName, '/_matrix/federation/v1/query/directory', { room_alias: `#nothing:${a.serverName}` })),
      404,
      'M_NOT_FOUND',
    );
  });

  test('§ Leaving Rooms: a local leave on B reaches A through the sender', async () => {
    const bob = b.user('bob');
    await b.roomserver.setMembership({ roomId: publicRoom, sender: bob, target: bob, membership: 'leave' });
    await eventually('bob\u2019s leave at A', async () => ((await a.roomserver.membership(publicRoom, bob)) === 'leave' ? true : undefined));
  });
});
