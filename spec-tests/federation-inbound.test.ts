// Inbound federation against the federation pieces in-process (a Roomserver, createFederation,
// the koa app) while the client API that would create rooms over HTTP is being built: fake
// remote servers with their own signing keys serve `/_matrix/key/v2/server` over real HTTPS
// (a certificate from the rig's test CA, which our node trusts through extra_ca_paths) and
// send signed requests. Spec: server-server § "Transactions", "Checks performed on receipt
// of a PDU", "Retrieving events", "Backfilling and retrieving missing events", "Server ACLs".

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { signedKeyDocument } from '../src/crypto/server-key-testing.ts';
import type { SigningKey } from '../src/crypto/signing-key.ts';
import { signRequest } from '../src/crypto/x-matrix.ts';
import { createFederation, createFederationTransport, type Federation, type FederationTransport } from '../src/federation/index.ts';
import { silentLogger, startApp, testConfig, type RunningApp } from '../src/http/testing.ts';
import { Roomserver } from '../src/roomserver/index.ts';
import { RemoteServer, testKey } from '../src/roomserver/testing.ts';
import { canonicalJson } from '../src/rooms/canonical-json.ts';
import type { JsonObject } from '../src/rooms/json.ts';
import { migrateToLatest } from '../src/storage/index.ts';
import { AccountsRepository } from '../src/storage/accounts-repository.ts';
import { ProfilesRepository } from '../src/storage/profiles-repository.ts';
import { createTestDatabase, type TestDatabase } from '../src/storage/testing.ts';
import { request as rigRequest } from './rig/http.ts';
import { startNodes, stopNodes, type TestNode } from './rig/nodes.ts';
import { expectMatrixError, expectSpecResponse } from './rig/openapi.ts';
import { testCertificateAuthority } from './rig/tls.ts';

const OUR_NAME = 'stoa.test';
const ALICE = `@alice:${OUR_NAME}`;

/** A remote homeserver: its key server on HTTPS, and signed requests to our federation app. */
class FakeRemote {
  readonly server: Server;
  readonly key: SigningKey;
  serverName = '';
  events!: RemoteServer;

  constructor(server: Server, key: SigningKey) {
    this.server = server;
    this.key = key;
  }

  static async start(key: SigningKey): Promise<FakeRemote> {
    const ca = await testCertificateAuthority();
    const leaf = await ca.issue('127.0.0.1');
    let remote: FakeRemote | undefined;
    const server = createServer({ cert: leaf.certificate, key: leaf.privateKey }, (req, res) => {
      res.setHeader('content-type', 'application/json');
      if (req.url === '/_matrix/key/v2/server' && remote !== undefined) {
        res.end(JSON.stringify(signedKeyDocument({ serverName: remote.serverName, key, validUntilTs: Date.now() + 86_400_000 })));
        return;
      }
      res.statusCode = 404;
      res.end(JSON.stringify({ errcode: 'M_NOT_FOUND', error: 'Not found' }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    remote = new FakeRemote(server, key);
    remote.serverName = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    remote.events = new RemoteServer(remote.serverName, key);
    return remote;
  }

  userId(localpart: string): string {
    return `@${localpart}:${this.serverName}`;
  }

  async request(app: RunningApp, method: string, uri: string, content?: JsonObject, origin = this.serverName) {
    const authorization = signRequest({ method, uri, origin, destination: OUR_NAME, content }, this.key);
    const response = await fetch(`${app.url}${uri}`, {
      method,
      headers: { authorization, ...(content === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(content === undefined ? {} : { body: canonicalJson(content) }),
    });
    const text = await response.text();
    return { status: response.status, body: JSON.parse(text) as Record<string, unknown> };
  }

  /** A signed request to a spawned node's federation listener (HTTPS, the rig's CA). */
  async requestNode(node: TestNode, method: string, uri: string, content?: JsonObject) {
    const authorization = signRequest({ method, uri, origin: this.serverName, destination: node.serverName, content }, this.key);
    return rigRequest(`${node.federationUrl}${uri}`, {
      method,
      headers: { authorization, ...(content === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(content === undefined ? {} : { body: canonicalJson(content) }),
      ca: node.caCertificate,
    });
  }

  sendTransaction(app: RunningApp, txnId: string, pdus: JsonObject[], edus: JsonObject[] = []) {
    return this.request(app, 'PUT', `/_matrix/federation/v1/send/${txnId}`, {
      origin: this.serverName,
      origin_server_ts: Date.now(),
      pdus,
      ...(edus.length === 0 ? {} : { edus }),
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

function eventIdsOf(body: Record<string, unknown>): string[] {
  return Object.keys(body['pdus'] as Record<string, unknown>);
}

describe('federation inbound (server-server API)', () => {
  let database: TestDatabase;
  let tmp: string;
  let transport: FederationTransport;
  let federation: Federation;
  let roomserver: Roomserver;
  let app: RunningApp;
  let remote: FakeRemote;
  let outsider: FakeRemote;
  let roomId: string;
  let bobJoin: string;
  let firstMessage: string;

  before(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'stoa-fed-inbound-'));
    const caPath = join(tmp, 'ca.crt');
    await writeFile(caPath, (await testCertificateAuthority()).certificate);
    database = await createTestDatabase('pglite');
    const report = await migrateToLatest(database.db);
    if (report.error !== undefined) throw report.error;
    const config = testConfig({
      server_name: OUR_NAME,
      federation: { allow_private_addresses: true, extra_ca_paths: [caPath], deny: ['denied.test'] },
    });
    const signingKey = testKey(1, 'local');
    const logger = silentLogger();
    const deps = { config, db: database.db, signingKey, logger, clock: Date.now };
    transport = await createFederationTransport(deps);
    roomserver = new Roomserver({ ...deps, serverName: OUR_NAME, remoteKeys: transport.remoteKeys, federation: transport.fetcher, queueFederation: true });
    federation = createFederation({ ...deps, roomserver, transport });
    app = await startApp({ listener: 'federation', endpoints: federation.federationEndpoints, federationAuth: federation.federationAuth });
    remote = await FakeRemote.start(testKey(2, 'remote'));
    outsider = await FakeRemote.start(testKey(3, 'outsider'));

    ({ roomId } = await roomserver.createRoom({
      creator: ALICE,
      roomVersion: '12',
      initialState: [
        { type: 'm.room.power_levels', stateKey: '', content: { users: {}, users_default: 0 } },
        { type: 'm.room.join_rules', stateKey: '', content: { join_rule: 'public' } },
        { type: 'm.room.history_visibility', stateKey: '', content: { history_visibility: 'shared' } },
      ],
    }));
  });

  after(async () => {
    await app?.close();
    await federation?.close();
    await remote?.close();
    await outsider?.close();
    await database?.dispose();
    await rm(tmp, { recursive: true, force: true });
  });

  test('§ Transactions: a signed join and message are accepted and appear in the room', async () => {
    const bob = remote.userId('bob');
    const join = await remote.events.buildEvent(roomserver, roomId, {
      type: 'm.room.member',
      stateKey: bob,
      sender: bob,
      content: { membership: 'join' },
      originServerTs: Date.now(),
    });
    const joined = await remote.sendTransaction(app, 'txn-join', [join]);
    expectSpecResponse(joined, 'server-server:sendTransaction');
    assert.equal(joined.status, 200);
    [bobJoin] = eventIdsOf(joined.body) as [string];
    assert.deepEqual(joined.body['pdus'], { [bobJoin]: {} });
    assert.equal(await roomserver.membership(roomId, bob), 'join');

    const message = await remote.events.buildEvent(roomserver, roomId, {
      type: 'm.room.message',
      sender: bob,
      content: { msgtype: 'm.text', body: 'hello from afar' },
      originServerTs: Date.now(),
    });
    const sent = await remote.sendTransaction(app, 'txn-message', [message]);
    [firstMessage] = eventIdsOf(sent.body) as [string];
    assert.deepEqual(sent.body['pdus'], { [firstMessage]: {} });
    const stored = await roomserver.event(firstMessage);
    assert.equal(stored?.json['content'] && (stored.json['content'] as JsonObject)['body'], 'hello from afar');
    assert.deepEqual(await roomserver.forwardExtremities(roomId), [firstMessage]);
  });

  test('§ Checks on receipt 2: a PDU with a bad signature is dropped with a per-PDU error', async () => {
    // Signed with another key under the same key ID as the remote's real one.
    const forger = new RemoteServer(remote.serverName, testKey(9, 'remote'));
    const forged = await forger.buildEvent(roomserver, roomId, {
      type: 'm.room.message',
      sender: remote.userId('bob'),
      content: { msgtype: 'm.text', body: 'forged' },
      originServerTs: Date.now(),
    });
    const res = await remote.sendTransaction(app, 'txn-forged', [forged]);
    expectSpecResponse(res, 'server-server:sendTransaction');
    const [id] = eventIdsOf(res.body) as [string];
    const result = (res.body['pdus'] as Record<string, { error?: string }>)[id];
    assert.match(result?.error ?? '', /signature/);
    assert.equal(await roomserver.event(id), undefined);
  });

  test('§ Checks on receipt 3: a PDU whose content hash does not match is stored redacted', async () => {
    const event = await remote.events.buildEvent(roomserver, roomId, {
      type: 'm.room.message',
      sender: remote.userId('bob'),
      content: { msgtype: 'm.text', body: 'original' },
      originServerTs: Date.now(),
    });
    // Signatures cover the redacted event, so changing the content keeps them valid.
    const tampered = { ...event, content: { msgtype: 'm.text', body: 'tampered' } };
    const res = await remote.sendTransaction(app, 'txn-hash', [tampered]);
    const [id] = eventIdsOf(res.body) as [string];
    assert.deepEqual(res.body['pdus'], { [id]: {} });
    const stored = await roomserver.event(id, 'stored');
    assert.ok(stored !== undefined);
    assert.deepEqual(stored.json['content'], {});
  });

  test('§ Transactions: a retried transaction ID is answered again, not processed again', async () => {
    const first = await remote.events.buildEvent(roomserver, roomId, {
      type: 'm.room.message',
      sender: remote.userId('bob'),
      content: { msgtype: 'm.text', body: 'once' },
      originServerTs: Date.now(),
    });
    const original = await remote.sendTransaction(app, 'txn-retry', [first]);
    const other = await remote.events.buildEvent(roomserver, roomId, {
      type: 'm.room.message',
      sender: remote.userId('bob'),
      content: { msgtype: 'm.text', body: 'not processed' },
      originServerTs: Date.now(),
    });
    const retry = await remote.sendTransaction(app, 'txn-retry', [other]);
    assert.equal(retry.status, 200);
    assert.deepEqual(retry.body, original.body);
    // The second PDU was never processed: the room does not hold it.
    const extremities = await roomserver.forwardExtremities(roomId);
    assert.deepEqual(extremities, eventIdsOf(original.body));
  });

  test('§ Transactions: more than 50 PDUs is refused with 400', async () => {
    const pdus = Array.from({ length: 51 }, () => ({ room_id: roomId }));
    const res = await remote.sendTransaction(app, 'txn-big', pdus);
    expectMatrixError(res, 400, 'M_BAD_JSON');
  });

  test('§ Transactions: a PDU for an unknown room gets a per-PDU error; the transaction still succeeds', async () => {
    const res = await remote.sendTransaction(app, 'txn-unknown', [{ room_id: '!nowhere:elsewhere', event_id: '$abc:elsewhere', type: 'm.room.message' }]);
    expectSpecResponse(res, 'server-server:sendTransaction');
    assert.match((res.body['pdus'] as Record<string, { error?: string }>)['$abc:elsewhere']?.error ?? '', /Unknown room/);
  });

  test('federation.deny: a denied origin gets 403 M_FORBIDDEN before any key is fetched', async () => {
    const res = await remote.request(app, 'PUT', '/_matrix/federation/v1/send/denied-1', { origin: 'denied.test', origin_server_ts: 0, pdus: [] }, 'denied.test');
    expectMatrixError(res, 403, 'M_FORBIDDEN');
  });

  test('§ Retrieving events: /event, /state_ids, /state, /event_auth answer servers in the room', async () => {
    const event = await remote.request(app, 'GET', `/_matrix/federation/v1/event/${encodeURIComponent(firstMessage)}`);
    expectSpecResponse(event, 'server-server:getEvent');
    assert.equal(event.status, 200);
    assert.equal(((event.body['pdus'] as JsonObject[])[0]?.['content'] as JsonObject)['body'], 'hello from afar');

    const q = `?event_id=${encodeURIComponent(firstMessage)}`;
    const stateIds = await remote.request(app, 'GET', `/_matrix/federation/v1/state_ids/${encodeURIComponent(roomId)}${q}`);
    expectSpecResponse(stateIds, 'server-server:getRoomStateIds');
    assert.equal(stateIds.status, 200);
    assert.ok((stateIds.body['pdu_ids'] as string[]).includes(bobJoin));
    assert.ok(!(stateIds.body['pdu_ids'] as string[]).includes(firstMessage));

    const state = await remote.request(app, 'GET', `/_matrix/federation/v1/state/${encodeURIComponent(roomId)}${q}`);
    expectSpecResponse(state, 'server-server:getRoomState');
    assert.equal((state.body['pdus'] as unknown[]).length, (stateIds.body['pdu_ids'] as unknown[]).length);

    const auth = await remote.request(app, 'GET', `/_matrix/federation/v1/event_auth/${encodeURIComponent(roomId)}/${encodeURIComponent(firstMessage)}`);
    expectSpecResponse(auth, 'server-server:getEventAuth');
    const authTypes = (auth.body['auth_chain'] as JsonObject[]).map((e) => e['type']);
    assert.ok(authTypes.includes('m.room.member') && authTypes.includes('m.room.power_levels'));
  });

  test('§ Backfilling: /backfill and /get_missing_events walk prev_events', async () => {
    const backfill = await remote.request(app, 'GET', `/_matrix/federation/v1/backfill/${encodeURIComponent(roomId)}?v=${encodeURIComponent(firstMessage)}&limit=3`);
    expectSpecResponse(backfill, 'server-server:backfillRoom');
    const pdus = backfill.body['pdus'] as JsonObject[];
    assert.equal(pdus.length, 3);
    assert.equal(pdus[0]?.['type'], 'm.room.message');
    assert.equal(pdus[1]?.['type'], 'm.room.member');

    const missing = await remote.request(app, 'POST', `/_matrix/federation/v1/get_missing_events/${encodeURIComponent(roomId)}`, {
      earliest_events: [],
      latest_events: [firstMessage],
      limit: 2,
    });
    expectSpecResponse(missing, 'server-server:getMissingPreviousEvents');
    const events = missing.body['events'] as JsonObject[];
    assert.equal(events.length, 2);
    // The latest event itself is not among its missing predecessors.
    assert.ok(events.every((e) => e['type'] !== 'm.room.message'));
  });

  test('history visibility for servers: a server with no member in the room gets 403', async () => {
    const roomPath = encodeURIComponent(roomId);
    const q = `?event_id=${encodeURIComponent(firstMessage)}`;
    for (const res of [
      await outsider.request(app, 'GET', `/_matrix/federation/v1/state_ids/${roomPath}${q}`),
      await outsider.request(app, 'GET', `/_matrix/federation/v1/backfill/${roomPath}?v=${encodeURIComponent(firstMessage)}&limit=5`),
      await outsider.request(app, 'POST', `/_matrix/federation/v1/get_missing_events/${roomPath}`, { earliest_events: [], latest_events: [firstMessage] }),
      await outsider.request(app, 'GET', `/_matrix/federation/v1/event/${encodeURIComponent(firstMessage)}`),
    ]) {
      expectMatrixError(res, 403, 'M_FORBIDDEN');
    }
  });

  test('§ Querying for information: /query/profile answers for local users, with one field or all', async () => {
    const now = Date.now();
    await new AccountsRepository(database.db.kysely).createUser({ userId: ALICE, passwordHash: null, createdTs: now });
    const carol = `@carol:${OUR_NAME}`;
    await new AccountsRepository(database.db.kysely).createUser({ userId: carol, passwordHash: null, createdTs: now });
    await new ProfilesRepository(database.db.kysely).update(carol, {}, () => ({ displayname: 'Carol', avatar_url: 'mxc://stoa.test/c' }), now);

    const full = await remote.request(app, 'GET', `/_matrix/federation/v1/query/profile?user_id=${encodeURIComponent(carol)}`);
    expectSpecResponse(full, 'server-server:queryProfile');
    assert.deepEqual(full.body, { displayname: 'Carol', avatar_url: 'mxc://stoa.test/c' });
    const one = await remote.request(app, 'GET', `/_matrix/federation/v1/query/profile?user_id=${encodeURIComponent(carol)}&field=displayname`);
    assert.deepEqual(one.body, { displayname: 'Carol' });
    const unset = await remote.request(app, 'GET', `/_matrix/federation/v1/query/profile?user_id=${encodeURIComponent(ALICE)}`);
    assert.deepEqual(unset.body, { displayname: 'alice' });
    expectMatrixError(await remote.request(app, 'GET', `/_matrix/federation/v1/query/profile?user_id=${encodeURIComponent('@nobody:stoa.test')}`), 404, 'M_NOT_FOUND');
    expectMatrixError(await remote.request(app, 'GET', `/_matrix/federation/v1/query/profile?user_id=${encodeURIComponent(remote.userId('bob'))}`), 400, 'M_INVALID_PARAM');
  });

  test('§ Server ACLs: PDUs from a server the room denies are refused per PDU, and reads get 403', async () => {
    await roomserver.sendEvent({
      roomId,
      sender: ALICE,
      type: 'm.room.server_acl',
      stateKey: '',
      content: { allow: ['*'], deny: ['127.0.0.1'] },
    });
    const message = await remote.events.buildEvent(roomserver, roomId, {
      type: 'm.room.message',
      sender: remote.userId('bob'),
      content: { msgtype: 'm.text', body: 'after the ACL' },
      originServerTs: Date.now(),
    });
    const res = await remote.sendTransaction(app, 'txn-acl', [message]);
    const [id] = eventIdsOf(res.body) as [string];
    assert.match((res.body['pdus'] as Record<string, { error?: string }>)[id]?.error ?? '', /ACL/);
    assert.equal(await roomserver.event(id), undefined);
    const read = await remote.request(app, 'GET', `/_matrix/federation/v1/state_ids/${encodeURIComponent(roomId)}?event_id=${encodeURIComponent(firstMessage)}`);
    expectMatrixError(read, 403, 'M_FORBIDDEN');
  });
});

describe('federation inbound on a real node (main.ts wiring)', () => {
  let nodes: TestNode[] = [];
  let remote: FakeRemote;

  before(async () => {
    nodes = await startNodes(1, { tls: true });
    remote = await FakeRemote.start(testKey(4, 'blackbox'));
  });

  after(async () => {
    await stopNodes(nodes);
    await remote?.close();
  });

  test('§ Request Authentication: PUT /send without X-Matrix is 401 M_UNAUTHORIZED', async () => {
    const node = nodes[0]!;
    const res = await rigRequest(`${node.federationUrl}/_matrix/federation/v1/send/nope`, {
      method: 'PUT',
      body: { origin: remote.serverName, origin_server_ts: 0, pdus: [] },
      ca: node.caCertificate,
    });
    expectMatrixError(res, 401, 'M_UNAUTHORIZED');
  });

  test('§ Transactions: the node fetches our key over HTTPS, then answers per PDU', async () => {
    const node = nodes[0]!;
    const res = await remote.requestNode(node, 'PUT', '/_matrix/federation/v1/send/bb-1', {
      origin: remote.serverName,
      origin_server_ts: Date.now(),
      pdus: [{ room_id: '!unknown:elsewhere', event_id: '$x:elsewhere', type: 'm.room.message' }],
      edus: [{ edu_type: 'm.typing', content: { room_id: '!unknown:elsewhere', user_id: remote.userId('bob'), typing: true } }],
    });
    expectSpecResponse(res, 'server-server:sendTransaction');
    assert.equal(res.status, 200);
    assert.match(String((res.body as { pdus: Record<string, { error?: string }> }).pdus['$x:elsewhere']?.error), /Unknown room/);
  });

  test('§ Retrieving events: an unknown event is 404 M_NOT_FOUND; an unknown room is 403 M_FORBIDDEN', async () => {
    const node = nodes[0]!;
    expectMatrixError(await remote.requestNode(node, 'GET', '/_matrix/federation/v1/event/%24nope'), 404, 'M_NOT_FOUND');
    expectMatrixError(
      await remote.requestNode(node, 'GET', '/_matrix/federation/v1/state_ids/!nope%3Aelsewhere?event_id=%24nope'),
      403,
      'M_FORBIDDEN',
    );
  });
});
