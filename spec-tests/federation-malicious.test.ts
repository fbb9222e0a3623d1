// A malicious peer against a real node (issue 5's acceptance; server-server § "Checks
// performed on receipt of a PDU", "Soft failure", "Inviting to a room", "Joining Rooms";
// client-server § history visibility). The peer is an in-process Stoa server that joins a
// room on the node legitimately, then uses its own room state to craft PDUs a real server
// never sends: a bad signature, a wrong content hash, a forged sender, auth-rule violations,
// an oversized event, one that must be soft-failed, and an unknown room version. Each must
// get the spec's treatment, and none may ever reach the node's clients.

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { signRequest } from '../src/crypto/x-matrix.ts';
import { RemoteMatrixError } from '../src/federation/client/errors.ts';
import { RemoteServer, testKey } from '../src/roomserver/testing.ts';
import { canonicalJson } from '../src/rooms/canonical-json.ts';
import type { JsonObject } from '../src/rooms/json.ts';
import { request, type HttpResponse } from './rig/http.ts';
import { eventually, startInProcessNode, type InProcessNode } from './rig/in-process-node.ts';
import { startNodes, stopNodes, type TestNode } from './rig/nodes.ts';
import { expectMatrixError, expectSpecResponse } from './rig/openapi.ts';
import { testCertificateAuthority } from './rig/tls.ts';
import { authHeaders, registerUser, type RegisteredUser } from './rig/users.ts';

const enc = encodeURIComponent;

let node: TestNode;
let peer: InProcessNode;
let tmp: string;
let alice: RegisteredUser;
let roomId: string;
let mallory: string;
let events: RemoteServer;
let txn = 0;

async function client(method: string, path: string, body?: unknown): Promise<HttpResponse> {
  return request(`${node.clientUrl}/_matrix/client/v3${path}`, { method, headers: authHeaders(alice), ...(body === undefined ? {} : { body }) });
}

/** PUT /send from the peer; the per-PDU results. */
async function sendPdus(pdus: JsonObject[]): Promise<Record<string, { error?: string }>> {
  const body = await peer.federation.client.put(node.serverName, `/_matrix/federation/v1/send/evil-${++txn}`, {
    origin: peer.serverName,
    origin_server_ts: Date.now(),
    pdus,
  });
  return body['pdus'] as Record<string, { error?: string }>;
}

function build(input: Parameters<RemoteServer['buildEvent']>[2]): Promise<JsonObject> {
  return events.buildEvent(peer.roomserver, roomId, { originServerTs: Date.now(), ...input });
}

function only(results: Record<string, { error?: string }>): [string, { error?: string }] {
  const entries = Object.entries(results);
  assert.equal(entries.length, 1);
  return entries[0]!;
}

/** What alice's client can see of the room: event IDs in /messages and /sync, by ID. */
async function clientView(): Promise<Map<string, Record<string, unknown>>> {
  const seen = new Map<string, Record<string, unknown>>();
  const messages = await client('GET', `/rooms/${enc(roomId)}/messages?dir=b&limit=200`);
  assert.equal(messages.status, 200);
  for (const event of (messages.body as { chunk: Array<Record<string, unknown>> }).chunk) seen.set(String(event['event_id']), event);
  const sync = await client('GET', `/sync?filter=${enc(JSON.stringify({ room: { timeline: { limit: 200 } } }))}`);
  assert.equal(sync.status, 200);
  const timeline = ((sync.body as { rooms?: { join?: Record<string, { timeline: { events: Array<Record<string, unknown>> } }> } }).rooms?.join?.[roomId]?.timeline.events ?? []);
  for (const event of timeline) seen.set(String(event['event_id']), event);
  return seen;
}

async function assertNeverShown(eventId: string): Promise<void> {
  const view = await clientView();
  assert.equal(view.has(eventId), false, `${eventId} reached the client`);
  expectMatrixError(await client('GET', `/rooms/${enc(roomId)}/event/${enc(eventId)}`), 404, 'M_NOT_FOUND');
}

before(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'stoa-malicious-'));
  const caPath = join(tmp, 'ca.crt');
  await writeFile(caPath, (await testCertificateAuthority()).certificate);
  [[node], peer] = await Promise.all([startNodes(1, { tls: true }) as Promise<[TestNode]>, startInProcessNode(31, caPath)]);
  alice = await registerUser(node, 'alice');
  const created = await client('POST', '/createRoom', { preset: 'public_chat', name: 'target' });
  roomId = String((created.body as { room_id: string }).room_id);
  mallory = peer.user('mallory');
  await peer.federation.remoteMembership.join({ roomId, userId: mallory, servers: [node.serverName], content: {} });
  events = new RemoteServer(peer.serverName, peer.key);
});

after(async () => {
  await stopNodes(node === undefined ? [] : [node]);
  await peer?.close();
  await rm(tmp, { recursive: true, force: true });
});

describe('server-server § Checks performed on receipt of a PDU: a malicious peer against a real node', () => {
  test('control: a well-formed message from the joined peer user is accepted and shown', async () => {
    const pdu = await build({ type: 'm.room.message', sender: mallory, content: { msgtype: 'm.text', body: 'hello' } });
    const [id, result] = only(await sendPdus([pdu]));
    assert.deepEqual(result, {});
    assert.equal((await clientView()).get(id)?.['sender'], mallory);
  });

  test('2. a PDU with a bad signature is rejected with a per-PDU error and never shown', async () => {
    const forger = new RemoteServer(peer.serverName, testKey(99, peer.key.keyId.split(':')[1] ?? 'x'));
    const pdu = await forger.buildEvent(peer.roomserver, roomId, { type: 'm.room.message', sender: mallory, content: { msgtype: 'm.text', body: 'forged' }, originServerTs: Date.now() });
    const [id, result] = only(await sendPdus([pdu]));
    assert.match(result.error ?? '', /signature/i);
    await assertNeverShown(id);
  });

  test('3. a PDU whose content hash does not match is stored redacted: clients see no content', async () => {
    const pdu = await build({ type: 'm.room.message', sender: mallory, content: { msgtype: 'm.text', body: 'original' } });
    const tampered = { ...pdu, content: { msgtype: 'm.text', body: 'tampered by the peer' } };
    const [id, result] = only(await sendPdus([tampered]));
    assert.deepEqual(result, {});
    const shown = (await clientView()).get(id);
    assert.ok(shown !== undefined, 'the redacted event is part of the room');
    assert.deepEqual(shown['content'], {});
  });

  test('a forged sender (a user of the node, signed only by the peer) is rejected and never shown', async () => {
    const pdu = await build({ type: 'm.room.message', sender: alice.userId, content: { msgtype: 'm.text', body: 'I am alice' } });
    const [id, result] = only(await sendPdus([pdu]));
    assert.ok(result.error !== undefined, 'the forged event was accepted');
    await assertNeverShown(id);
  });

  test('4. auth-rule violations are rejected: a power-level grab, and a message from a user who never joined', async () => {
    const grab = await build({
      type: 'm.room.power_levels',
      stateKey: '',
      sender: mallory,
      content: { users: { [mallory]: 100 }, users_default: 0 },
    });
    const [grabId, grabResult] = only(await sendPdus([grab]));
    assert.ok(grabResult.error !== undefined, 'the power-level grab was accepted');
    await assertNeverShown(grabId);
    const levels = await client('GET', `/rooms/${enc(roomId)}/state/m.room.power_levels/`);
    assert.equal(((levels.body as { users?: Record<string, number> }).users ?? {})[mallory], undefined);

    const stranger = await build({ type: 'm.room.message', sender: peer.user('eve'), content: { msgtype: 'm.text', body: 'not a member' } });
    const [strangerId, strangerResult] = only(await sendPdus([stranger]));
    assert.ok(strangerResult.error !== undefined, 'a non-member\u2019s message was accepted');
    await assertNeverShown(strangerId);
  });

  test('§ Size limits: a PDU over 65,536 bytes is rejected and never shown', async () => {
    const pdu = await build({ type: 'm.room.message', sender: mallory, content: { msgtype: 'm.text', body: 'x'.repeat(70_000) } });
    const [id, result] = only(await sendPdus([pdu]));
    assert.ok(result.error !== undefined, 'the oversized PDU was accepted');
    await assertNeverShown(id);
  });

  test('a transaction body over the request limit is refused with 413 before it is read whole', async () => {
    const huge = { origin: peer.serverName, origin_server_ts: Date.now(), pdus: [], edus: [{ edu_type: 'm.padding', content: { pad: 'x'.repeat(11 * 1024 * 1024) } }] };
    const uri = `/_matrix/federation/v1/send/evil-huge`;
    const authorization = signRequest({ method: 'PUT', uri, origin: peer.serverName, destination: node.serverName, content: huge }, peer.key);
    let res: HttpResponse | undefined;
    try {
      res = await request(`${node.federationUrl}${uri}`, {
        method: 'PUT',
        headers: { authorization, 'content-type': 'application/json' },
        body: canonicalJson(huge),
        ca: node.caCertificate,
      });
    } catch (error) {
      // The node may answer 413 and close while the body is still being written; the client
      // then sees the connection end (EPIPE, reset) instead of reading the answer. Either way
      // the body was refused: the node must still be up and answering.
      assert.match(String((error as { cause?: { code?: string } }).cause?.code ?? error), /EPIPE|ECONNRESET|UND_ERR_SOCKET|other side closed/);
    }
    if (res !== undefined) expectMatrixError(res, 413, 'M_TOO_LARGE');
    const alive = await request(`${node.federationUrl}/_matrix/federation/v1/version`, { ca: node.caCertificate });
    assert.equal(alive.status, 200);
  });

  test('§ Soft failure: an event allowed by its own state but not by the current state is kept from clients', async () => {
    const mallet = peer.user('mallet');
    const { eventId: joinId } = await peer.federation.remoteMembership.join({ roomId, userId: mallet, servers: [node.serverName], content: {} });
    const banned = await client('POST', `/rooms/${enc(roomId)}/ban`, { user_id: mallet, reason: 'test' });
    assert.equal(banned.status, 200);
    await eventually('the ban at the peer', async () => ((await peer.roomserver.membership(roomId, mallet)) === 'ban' ? true : undefined));
    // Built on the state at mallet's join (before the ban), as a server that missed the ban would.
    const pdu = await build({ type: 'm.room.message', sender: mallet, content: { msgtype: 'm.text', body: 'sneaking in' }, prevEvents: [joinId], stateFrom: joinId });
    const [id, result] = only(await sendPdus([pdu]));
    assert.deepEqual(result, {}, 'soft failure is not an error to the sending server');
    await assertNeverShown(id);
  });
});

describe('server-server § room versions: a peer using a version the node does not know', () => {
  test('§ Inviting to a room: an invite for an unknown room version is 400 M_INCOMPATIBLE_ROOM_VERSION', async () => {
    const eventId = '$unknown-version-invite';
    const uri = `/_matrix/federation/v2/invite/${enc('!elsewhere:' + peer.serverName)}/${enc(eventId)}`;
    const body = {
      room_version: '999',
      event: { type: 'm.room.member', state_key: alice.userId, sender: mallory, content: { membership: 'invite' }, room_id: '!elsewhere:' + peer.serverName, origin_server_ts: Date.now() },
      invite_room_state: [],
    };
    const authorization = signRequest({ method: 'PUT', uri, origin: peer.serverName, destination: node.serverName, content: body }, peer.key);
    const res = await request(`${node.federationUrl}${uri}`, {
      method: 'PUT',
      headers: { authorization, 'content-type': 'application/json' },
      body: canonicalJson(body),
      ca: node.caCertificate,
    });
    expectMatrixError(res, 400, 'M_INCOMPATIBLE_ROOM_VERSION');
    assert.equal((res.body as { room_version?: string }).room_version, '999');
  });

  test('§ Joining Rooms: make_join offering only unknown versions is 400 M_INCOMPATIBLE_ROOM_VERSION', async () => {
    try {
      await peer.federation.client.get(node.serverName, `/_matrix/federation/v1/make_join/${enc(roomId)}/${enc(peer.user('newcomer'))}`, { ver: ['999'] });
      assert.fail('make_join succeeded');
    } catch (error) {
      assert.ok(error instanceof RemoteMatrixError, String(error));
      expectMatrixError({ status: error.status, body: error.body, headers: new Headers(), text: '' } as HttpResponse, 400, 'M_INCOMPATIBLE_ROOM_VERSION');
      expectSpecResponse({ status: error.status, body: error.body, headers: new Headers(), text: '' } as HttpResponse, 'server-server:makeJoin');
    }
  });
});
