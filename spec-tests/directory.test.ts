// The room directory, room summaries and spaces across two Stoa nodes federating over HTTPS
// (issue 9 item 1). Spec: client-server § "Published room directory" (GET/PUT
// /directory/list/room, GET/POST /publicRooms), § "Room Summaries", § "Spaces"
// (GET /rooms/{roomId}/hierarchy); server-server § "Public Room Directory", § "Spaces".
//
// The tests share the nodes and build on the rooms the first ones create; they run in order.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { JsonObject } from '../src/rooms/json.ts';
import { request, type HttpResponse } from './rig/http.ts';
import { SigningPeer } from './rig/key-server.ts';
import { startNodes, stopNodes, testPostgresUrl, type TestNode } from './rig/nodes.ts';
import { expectMatrixError, expectSpecResponse } from './rig/openapi.ts';
import { authHeaders, registerUser, type RegisteredUser } from './rig/users.ts';

const enc = encodeURIComponent;

/** A user on a node, speaking the Client-Server API. */
class Client {
  readonly node: TestNode;
  readonly user: RegisteredUser;

  constructor(node: TestNode, user: RegisteredUser) {
    this.node = node;
    this.user = user;
  }

  get userId(): string {
    return this.user.userId;
  }

  /** `path` starts at `/_matrix/client/`. */
  call(method: string, path: string, body?: unknown): Promise<HttpResponse> {
    return request(`${this.node.clientUrl}/_matrix/client/${path}`, {
      method,
      headers: authHeaders(this.user),
      ...(body === undefined ? {} : { body }),
    });
  }

  async ok(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
    const res = await this.call(method, path, body);
    assert.equal(res.status, 200, `${this.userId}: ${method} ${path} answered ${res.status} ${res.text}`);
    return res.body as Record<string, unknown>;
  }

  async createRoom(body: Record<string, unknown>): Promise<string> {
    return String((await this.ok('POST', 'v3/createRoom', body))['room_id']);
  }

  async addChild(spaceId: string, childId: string, content: Record<string, unknown>): Promise<void> {
    await this.ok('PUT', `v3/rooms/${enc(spaceId)}/state/m.space.child/${enc(childId)}`, content);
  }
}

interface Chunk {
  room_id: string;
  name?: string;
  num_joined_members: number;
  room_type?: string;
  canonical_alias?: string;
  topic?: string;
  join_rule?: string;
  world_readable: boolean;
  guest_can_join: boolean;
}

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

function roomIdsOf(body: Record<string, unknown>): string[] {
  return (body['chunk'] as Chunk[]).map((c) => c.room_id);
}

function hierarchyIds(body: Record<string, unknown>): string[] {
  return (body['rooms'] as Array<{ room_id: string }>).map((r) => r.room_id);
}

describe('room directory, summaries and spaces (two Stoa nodes over HTTPS)', () => {
  let nodes: TestNode[] = [];
  let a: TestNode;
  let b: TestNode;
  let alice: Client; // on A, creates most rooms
  let carol: Client; // on A, an ordinary user
  let admin: Client; // on A, a server administrator
  let bob: Client; // on B
  let peer: SigningPeer;
  const published: Record<string, string> = {};

  before(async () => {
    // PostgreSQL when the run has one (STOA_TEST_POSTGRES_URL), else PGlite.
    nodes = await startNodes(2, { tls: true, startTimeoutMs: 180_000, ...(testPostgresUrl() === undefined ? {} : { engine: 'postgres' as const }) });
    [a, b] = nodes as [TestNode, TestNode];
    const [ua, uc, uadmin, ub] = await Promise.all([
      registerUser(a, 'alice'),
      registerUser(a, 'carol'),
      registerUser(a, 'root', { admin: true }),
      registerUser(b, 'bob'),
    ]);
    alice = new Client(a, ua);
    carol = new Client(a, uc);
    admin = new Client(a, uadmin);
    bob = new Client(b, ub);
    peer = await SigningPeer.start();
  });

  after(async () => {
    await peer?.close();
    await stopNodes(nodes);
  });

  test('client-server-api § GET/PUT /directory/list/room/{roomId}: visibility, who may publish, errors', async () => {
    const roomId = await alice.createRoom({ preset: 'public_chat', name: 'Visibility' });
    const path = `v3/directory/list/room/${enc(roomId)}`;

    let res = await request(`${a.clientUrl}/_matrix/client/${path}`);
    expectSpecResponse(res, 'getRoomVisibilityOnDirectory');
    assert.deepEqual(res.body, { visibility: 'private' });

    // Carol is not in the room: she may not publish it.
    res = await carol.call('PUT', path, { visibility: 'public' });
    expectMatrixError(res, 403, 'M_FORBIDDEN');
    // Joined, but without the power to send m.room.canonical_alias: still not.
    await carol.ok('POST', `v3/join/${enc(roomId)}`, {});
    res = await carol.call('PUT', path, { visibility: 'public' });
    expectMatrixError(res, 403, 'M_FORBIDDEN');

    res = await alice.call('PUT', path, { visibility: 'public' });
    expectSpecResponse(res, 'setRoomVisibilityOnDirectory');
    res = await alice.call('GET', path);
    expectSpecResponse(res, 'getRoomVisibilityOnDirectory');
    assert.deepEqual(res.body, { visibility: 'public' });

    // A server administrator may, member or not; `visibility` defaults to public.
    res = await admin.call('PUT', path, { visibility: 'private' });
    expectSpecResponse(res, 'setRoomVisibilityOnDirectory');
    assert.deepEqual((await alice.ok('GET', path)), { visibility: 'private' });
    res = await admin.call('PUT', path, {});
    expectSpecResponse(res, 'setRoomVisibilityOnDirectory');
    assert.deepEqual((await alice.ok('GET', path)), { visibility: 'public' });
    published['visibility'] = roomId;

    res = await alice.call('PUT', path, { visibility: 'hidden' });
    expectMatrixError(res, 400, 'M_INVALID_PARAM');
    res = await alice.call('GET', `v3/directory/list/room/${enc('!nope:example.org')}`);
    expectSpecResponse(res, 'getRoomVisibilityOnDirectory');
    expectMatrixError(res, 404, 'M_NOT_FOUND');
    res = await alice.call('PUT', `v3/directory/list/room/${enc('!nope:example.org')}`, { visibility: 'public' });
    expectSpecResponse(res, 'setRoomVisibilityOnDirectory');
    expectMatrixError(res, 404, 'M_NOT_FOUND');
  });

  test('client-server-api § GET /publicRooms: chunks carry the room details, largest rooms first', async () => {
    published['cheese'] = await alice.createRoom({
      visibility: 'public',
      preset: 'public_chat',
      name: 'Cheese Lovers',
      topic: 'Tasty tasty cheese',
      room_alias_name: 'cheese',
      initial_state: [
        { type: 'm.room.history_visibility', state_key: '', content: { history_visibility: 'world_readable' } },
        { type: 'm.room.guest_access', state_key: '', content: { guest_access: 'can_join' } },
        { type: 'm.room.avatar', state_key: '', content: { url: 'mxc://example.org/cheese' } },
      ],
    });
    published['wine'] = await alice.createRoom({ visibility: 'public', preset: 'public_chat', name: 'Wine', topic: 'Red or white?' });
    published['bread'] = await alice.createRoom({ visibility: 'public', preset: 'public_chat', name: 'Bread', room_alias_name: 'sourdough' });
    published['space'] = await alice.createRoom({
      visibility: 'public',
      preset: 'public_chat',
      name: 'Food Space',
      creation_content: { type: 'm.space' },
    });
    published['knock'] = await alice.createRoom({
      visibility: 'public',
      preset: 'private_chat',
      name: 'Knock Knock',
      initial_state: [{ type: 'm.room.join_rules', state_key: '', content: { join_rule: 'knock' } }],
    });
    // Invite-only and not world-readable: published, but not listed (Synapse leaves these out).
    const hidden = await alice.createRoom({ visibility: 'public', preset: 'private_chat', name: 'Hidden' });
    // Carol and the admin joining make the wine room the largest.
    await carol.ok('POST', `v3/join/${enc(published['wine'])}`, {});
    await admin.ok('POST', `v3/join/${enc(published['wine'])}`, {});

    const res = await request(`${a.clientUrl}/_matrix/client/v3/publicRooms`);
    expectSpecResponse(res, 'client-server:getPublicRooms');
    const body = res.body as Record<string, unknown>;
    const ids = roomIdsOf(body);
    assert.equal(ids.length, new Set(ids).size, 'no duplicates');
    for (const roomId of Object.values(published)) assert.ok(ids.includes(roomId), `${roomId} listed`);
    assert.ok(!ids.includes(hidden), 'an invite-only room is not listed');
    const chunks = body['chunk'] as Chunk[];
    assert.equal(chunks[0]?.room_id, published['wine'], 'largest room first');
    assert.equal(chunks[0]?.num_joined_members, 3);
    const counts = chunks.map((c) => c.num_joined_members);
    assert.deepEqual(counts, [...counts].sort((x, y) => y - x));
    const cheese = chunks.find((c) => c.room_id === published['cheese']);
    assert.deepEqual(cheese, {
      room_id: published['cheese'],
      name: 'Cheese Lovers',
      topic: 'Tasty tasty cheese',
      canonical_alias: `#cheese:${a.serverName}`,
      avatar_url: 'mxc://example.org/cheese',
      num_joined_members: 1,
      world_readable: true,
      guest_can_join: true,
      join_rule: 'public',
    });
    assert.equal(chunks.find((c) => c.room_id === published['space'])?.room_type, 'm.space');
    assert.equal(chunks.find((c) => c.room_id === published['knock'])?.join_rule, 'knock');
    assert.equal(body['total_room_count_estimate'], ids.length);
  });

  test('client-server-api § POST /publicRooms: generic_search_term (name, topic, alias; any case) and room_types', async () => {
    const search = async (filter: Record<string, unknown>) => {
      const res = await alice.call('POST', 'v3/publicRooms', { filter });
      expectSpecResponse(res, 'client-server:queryPublicRooms');
      return roomIdsOf(res.body as Record<string, unknown>).sort();
    };
    assert.deepEqual(await search({ generic_search_term: 'cHEESE' }), [published['cheese']]);
    assert.deepEqual(await search({ generic_search_term: 'red or' }), [published['wine']]);
    assert.deepEqual(await search({ generic_search_term: 'sourdough' }), [published['bread']]);
    assert.deepEqual(await search({ generic_search_term: 'no room has this' }), []);
    assert.deepEqual(await search({ room_types: ['m.space'] }), [published['space']]);
    const untyped = await search({ room_types: [null] });
    assert.ok(!untyped.includes(published['space']!) && untyped.includes(published['wine']!));
    assert.deepEqual(await search({ generic_search_term: 'food', room_types: [null] }), []);
  });

  test('client-server-api § GET/POST /publicRooms: pagination forwards and back, no duplicates', async () => {
    const all = roomIdsOf(await alice.ok('GET', 'v3/publicRooms'));
    assert.ok(all.length >= 5);
    const pages: string[][] = [];
    let since: string | undefined;
    let previous: Record<string, unknown> | undefined;
    for (;;) {
      const res = await alice.call('POST', 'v3/publicRooms', { limit: 2, ...(since === undefined ? {} : { since }) });
      expectSpecResponse(res, 'client-server:queryPublicRooms');
      const body = res.body as Record<string, unknown>;
      pages.push(roomIdsOf(body));
      assert.equal(pages.length === 1, body['prev_batch'] === undefined, 'prev_batch on every page but the first');
      if (pages.length === 2) previous = body;
      if (typeof body['next_batch'] !== 'string') break;
      since = body['next_batch'];
      assert.ok(pages.length < 20, 'pagination ends');
    }
    const walked = pages.flat();
    assert.deepEqual(walked, all, 'the pages, in order, are the whole directory');
    assert.ok(pages.every((page) => page.length <= 2));

    // Back from the second page is the first page; GET takes the same tokens.
    const back = await request(`${a.clientUrl}/_matrix/client/v3/publicRooms?limit=2&since=${enc(String(previous?.['prev_batch']))}`);
    expectSpecResponse(back, 'client-server:getPublicRooms');
    assert.deepEqual(roomIdsOf(back.body as Record<string, unknown>), pages[0]);
    assert.equal((back.body as Record<string, unknown>)['prev_batch'], undefined);

    const bad = await alice.call('GET', 'v3/publicRooms?since=garbage');
    expectMatrixError(bad, 400, 'M_INVALID_PARAM');
    const badLimit = await alice.call('GET', 'v3/publicRooms?limit=-1');
    expectMatrixError(badLimit, 400, 'M_INVALID_PARAM');
  });

  test('client-server-api § POST /publicRooms: third-party networks (none here) and include_all_networks', async () => {
    let res = await alice.call('POST', 'v3/publicRooms', { third_party_instance_id: 'irc-freenode' });
    expectSpecResponse(res, 'client-server:queryPublicRooms');
    assert.deepEqual((res.body as Record<string, unknown>)['chunk'], []);
    res = await alice.call('POST', 'v3/publicRooms', { include_all_networks: true });
    expectSpecResponse(res, 'client-server:queryPublicRooms');
    assert.ok(roomIdsOf(res.body as Record<string, unknown>).includes(published['cheese']!));
    res = await alice.call('POST', 'v3/publicRooms', { include_all_networks: true, third_party_instance_id: 'irc-freenode' });
    expectMatrixError(res, 400, 'M_INVALID_PARAM');
  });

  test('client-server-api § GET /publicRooms: a room\'s new name, topic and members show at once', async () => {
    const wine = published['wine']!;
    const chunkOf = async () => ((await alice.ok('GET', 'v3/publicRooms'))['chunk'] as Chunk[]).find((c) => c.room_id === wine);
    assert.equal((await chunkOf())?.name, 'Wine');
    await alice.ok('PUT', `v3/rooms/${enc(wine)}/state/m.room.name/`, { name: 'Wine Cellar' });
    await alice.ok('PUT', `v3/rooms/${enc(wine)}/state/m.room.topic/`, { topic: 'Only red' });
    await admin.ok('POST', `v3/rooms/${enc(wine)}/leave`, {});
    const chunk = await chunkOf();
    assert.equal(chunk?.name, 'Wine Cellar');
    assert.equal(chunk?.topic, 'Only red');
    assert.equal(chunk?.num_joined_members, 2);
  });

  test('client-server-api § PUT /directory/list/room: unpublishing removes the room from /publicRooms', async () => {
    const roomId = published['visibility']!;
    assert.ok(roomIdsOf(await alice.ok('GET', 'v3/publicRooms')).includes(roomId));
    await alice.ok('PUT', `v3/directory/list/room/${enc(roomId)}`, { visibility: 'private' });
    assert.ok(!roomIdsOf(await alice.ok('GET', 'v3/publicRooms')).includes(roomId));
    delete published['visibility'];
  });

  test('server-server-api § Public Room Directory: GET and POST /_matrix/federation/v1/publicRooms', async () => {
    let res = await peer.request(a, 'GET', '/_matrix/federation/v1/publicRooms?limit=3');
    expectSpecResponse(res, 'server-server:getPublicRooms');
    const first = res.body as Record<string, unknown>;
    assert.equal(roomIdsOf(first).length, 3);
    res = await peer.request(a, 'POST', '/_matrix/federation/v1/publicRooms', { filter: { generic_search_term: 'wine' } });
    expectSpecResponse(res, 'server-server:queryPublicRooms');
    assert.deepEqual(roomIdsOf(res.body as Record<string, unknown>), [published['wine']]);
    res = await peer.request(a, 'POST', '/_matrix/federation/v1/publicRooms', { limit: 3, since: String(first['next_batch']) });
    expectSpecResponse(res, 'server-server:queryPublicRooms');
    assert.ok(roomIdsOf(res.body as Record<string, unknown>).every((id) => !roomIdsOf(first).includes(id)));
    res = await request(`${a.federationUrl}/_matrix/federation/v1/publicRooms`, { ca: a.caCertificate });
    expectMatrixError(res, 401, 'M_UNAUTHORIZED');
  });

  test('client-server-api § GET/POST /publicRooms?server=: another server\'s directory over federation', async () => {
    const local = roomIdsOf(await alice.ok('GET', 'v3/publicRooms'));
    let res = await bob.call('GET', `v3/publicRooms?server=${enc(a.serverName)}`);
    expectSpecResponse(res, 'client-server:getPublicRooms');
    assert.deepEqual(roomIdsOf(res.body as Record<string, unknown>), local);

    res = await bob.call('POST', `v3/publicRooms?server=${enc(a.serverName)}`, { limit: 1, filter: { generic_search_term: 'CHEESE' } });
    expectSpecResponse(res, 'client-server:queryPublicRooms');
    assert.deepEqual(roomIdsOf(res.body as Record<string, unknown>), [published['cheese']]);

    // Paging through the remote directory with its own tokens.
    res = await bob.call('POST', `v3/publicRooms?server=${enc(a.serverName)}`, { limit: 2 });
    const next = (res.body as Record<string, unknown>)['next_batch'];
    assert.equal(typeof next, 'string');
    res = await bob.call('POST', `v3/publicRooms?server=${enc(a.serverName)}`, { limit: 2, since: next });
    expectSpecResponse(res, 'client-server:queryPublicRooms');
    assert.deepEqual(roomIdsOf(res.body as Record<string, unknown>), local.slice(2, 4));

    // B's own directory does not list A's rooms.
    res = await bob.call('GET', 'v3/publicRooms');
    expectSpecResponse(res, 'client-server:getPublicRooms');
    assert.deepEqual(roomIdsOf(res.body as Record<string, unknown>).filter((id) => local.includes(id)), []);

    res = await bob.call('GET', 'v3/publicRooms?server=not%20a%20server');
    expectMatrixError(res, 400, 'M_INVALID_PARAM');
  });

  test('client-server-api § Room Summaries: GET /room_summary by ID and alias, here and over federation', async () => {
    const cheese = published['cheese']!;
    let res = await alice.call('GET', `v1/room_summary/${enc(cheese)}`);
    expectSpecResponse(res, 'getRoomSummary');
    let body = res.body as Record<string, unknown>;
    assert.equal(body['room_id'], cheese);
    assert.equal(body['membership'], 'join');
    assert.equal(body['name'], 'Cheese Lovers');
    assert.equal(typeof body['room_version'], 'string');

    res = await carol.call('GET', `v1/room_summary/${enc(`#cheese:${a.serverName}`)}`);
    expectSpecResponse(res, 'getRoomSummary');
    body = res.body as Record<string, unknown>;
    assert.equal(body['room_id'], cheese);
    assert.equal(body['membership'], 'leave');

    // MSC3266's unstable path, which matrix-js-sdk calls, answers the same.
    res = await carol.call('GET', `unstable/im.nheko.summary/summary/${enc(cheese)}`);
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, body);

    // Anonymous callers see public or world-readable rooms, without `membership`.
    res = await request(`${a.clientUrl}/_matrix/client/v1/room_summary/${enc(cheese)}`);
    expectSpecResponse(res, 'getRoomSummary');
    assert.equal((res.body as Record<string, unknown>)['membership'], undefined);

    // An invite-only room: members only.
    const secret = await alice.createRoom({ preset: 'private_chat', name: 'Secret' });
    res = await carol.call('GET', `v1/room_summary/${enc(secret)}`);
    expectSpecResponse(res, 'getRoomSummary');
    expectMatrixError(res, 404, 'M_NOT_FOUND');
    res = await alice.call('GET', `v1/room_summary/${enc(secret)}`);
    expectSpecResponse(res, 'getRoomSummary');
    await alice.ok('POST', `v3/rooms/${enc(secret)}/invite`, { user_id: carol.userId });
    res = await carol.call('GET', `v1/room_summary/${enc(secret)}`);
    expectSpecResponse(res, 'getRoomSummary');
    assert.equal((res.body as Record<string, unknown>)['membership'], 'invite');

    // Bob's server is not in the room: it asks A (via) over federation.
    res = await bob.call('GET', `v1/room_summary/${enc(cheese)}?via=${enc(a.serverName)}`);
    expectSpecResponse(res, 'getRoomSummary');
    body = res.body as Record<string, unknown>;
    assert.equal(body['room_id'], cheese);
    assert.equal(body['name'], 'Cheese Lovers');
    assert.equal(body['num_joined_members'], 1);
    assert.equal(body['membership'], 'leave');
    // ... and through a remote alias.
    res = await bob.call('GET', `v1/room_summary/${enc(`#cheese:${a.serverName}`)}`);
    expectSpecResponse(res, 'getRoomSummary');
    assert.equal((res.body as Record<string, unknown>)['room_id'], cheese);
    // A's invite-only room is not described to B.
    res = await bob.call('GET', `v1/room_summary/${enc(secret)}?via=${enc(a.serverName)}`);
    expectMatrixError(res, 404, 'M_NOT_FOUND');

    res = await alice.call('GET', `v1/room_summary/${enc('!unknown:example.org')}`);
    expectMatrixError(res, 404, 'M_NOT_FOUND');
    res = await alice.call('GET', `v1/room_summary/${enc(`#missing:${a.serverName}`)}`);
    expectMatrixError(res, 404, 'M_NOT_FOUND');
    res = await alice.call('GET', `v1/room_summary/notaroom`);
    expectMatrixError(res, 400, 'M_INVALID_PARAM');
  });

  describe('client-server-api § Spaces: GET /rooms/{roomId}/hierarchy', () => {
    let space: string; // on A: children sub, general, secret, remote
    let sub: string; // on A, a space: child deep
    let deep: string;
    let general: string;
    let secret: string; // invite-only, alice only
    let remote: string; // on B, public
    let remoteDeep: string; // on B, child of remote (a space)

    before(async () => {
      space = await alice.createRoom({ preset: 'public_chat', name: 'Top', creation_content: { type: 'm.space' } });
      sub = await alice.createRoom({ preset: 'public_chat', name: 'Sub', creation_content: { type: 'm.space' } });
      deep = await alice.createRoom({ preset: 'public_chat', name: 'Deep' });
      general = await alice.createRoom({ preset: 'public_chat', name: 'General' });
      secret = await alice.createRoom({ preset: 'private_chat', name: 'Secret' });
      remote = await bob.createRoom({ preset: 'public_chat', name: 'Remote Space', creation_content: { type: 'm.space' } });
      remoteDeep = await bob.createRoom({ preset: 'public_chat', name: 'Remote Deep' });
      await bob.addChild(remote, remoteDeep, { via: [b.serverName] });
      // Ordered by `order`, then timestamp: sub, general, secret, remote.
      await alice.addChild(space, sub, { via: [a.serverName], order: 'a', suggested: true });
      await alice.addChild(space, general, { via: [a.serverName], order: 'b' });
      await alice.addChild(space, secret, { via: [a.serverName], order: 'c' });
      await alice.addChild(space, remote, { via: [b.serverName], order: 'd', suggested: true });
      await alice.addChild(sub, deep, { via: [a.serverName] });
      // A child without `via` is no child; a loop back to the top ends.
      await alice.addChild(sub, general, {});
      await alice.addChild(sub, space, { via: [a.serverName] });
    });

    test('the whole tree, depth first, local and remote rooms, children_state in the spec\'s shape', async () => {
      const res = await alice.call('GET', `v1/rooms/${enc(space)}/hierarchy`);
      expectSpecResponse(res, 'client-server:getSpaceHierarchy');
      const body = res.body as Record<string, unknown>;
      assert.deepEqual(hierarchyIds(body), [space, sub, deep, general, secret, remote, remoteDeep]);
      assert.equal(body['next_batch'], undefined);
      const rooms = body['rooms'] as Array<Record<string, unknown>>;
      const top = rooms[0]!;
      assert.equal(top['room_type'], 'm.space');
      const state = top['children_state'] as Array<Record<string, unknown>>;
      assert.deepEqual(state.map((e) => e['state_key']), [sub, general, secret, remote]);
      assert.equal(typeof state[0]?.['origin_server_ts'], 'number');
      const remoteRoom = rooms.find((r) => r['room_id'] === remote)!;
      assert.equal(remoteRoom['name'], 'Remote Space');
      assert.equal(remoteRoom['num_joined_members'], 1);
      assert.deepEqual(rooms.find((r) => r['room_id'] === deep)?.['children_state'], []);
    });

    test('what a user may see: an invite-only child only for its members', async () => {
      await carol.ok('POST', `v3/join/${enc(space)}`, {});
      const res = await carol.call('GET', `v1/rooms/${enc(space)}/hierarchy`);
      expectSpecResponse(res, 'client-server:getSpaceHierarchy');
      assert.deepEqual(hierarchyIds(res.body as Record<string, unknown>), [space, sub, deep, general, remote, remoteDeep]);
    });

    test('max_depth and suggested_only', async () => {
      let res = await alice.call('GET', `v1/rooms/${enc(space)}/hierarchy?max_depth=0`);
      expectSpecResponse(res, 'client-server:getSpaceHierarchy');
      assert.deepEqual(hierarchyIds(res.body as Record<string, unknown>), [space]);
      res = await alice.call('GET', `v1/rooms/${enc(space)}/hierarchy?max_depth=1`);
      expectSpecResponse(res, 'client-server:getSpaceHierarchy');
      assert.deepEqual(hierarchyIds(res.body as Record<string, unknown>), [space, sub, general, secret, remote]);
      res = await alice.call('GET', `v1/rooms/${enc(space)}/hierarchy?suggested_only=true`);
      expectSpecResponse(res, 'client-server:getSpaceHierarchy');
      assert.deepEqual(hierarchyIds(res.body as Record<string, unknown>), [space, sub, remote]);
    });

    test('pagination with limit and from, without duplicates; from pins suggested_only and max_depth', async () => {
      const seen: string[] = [];
      let from: string | undefined;
      let tokenForChecks: string | undefined;
      for (let i = 0; i < 20; i++) {
        const res = await alice.call('GET', `v1/rooms/${enc(space)}/hierarchy?limit=2&max_depth=5${from === undefined ? '' : `&from=${enc(from)}`}`);
        expectSpecResponse(res, 'client-server:getSpaceHierarchy');
        const body = res.body as Record<string, unknown>;
        assert.ok(hierarchyIds(body).length <= 2);
        seen.push(...hierarchyIds(body));
        if (typeof body['next_batch'] !== 'string') break;
        from = body['next_batch'];
        if (tokenForChecks === undefined) {
          // A second page token, used below to check the pinned parameters.
          const probe = await alice.call('GET', `v1/rooms/${enc(space)}/hierarchy?limit=2&max_depth=5&suggested_only=true&from=${enc(from)}`);
          expectSpecResponse(probe, 'client-server:getSpaceHierarchy');
          expectMatrixError(probe, 400, 'M_INVALID_PARAM');
          tokenForChecks = from;
        }
      }
      assert.deepEqual(seen, [space, sub, deep, general, secret, remote, remoteDeep]);
      const res = await alice.call('GET', `v1/rooms/${enc(space)}/hierarchy?from=unknown-token`);
      expectSpecResponse(res, 'client-server:getSpaceHierarchy');
      expectMatrixError(res, 400, 'M_INVALID_PARAM');
    });

    test('errors: unknown room and a room the user may not see are 403; bad parameters 400', async () => {
      let res = await alice.call('GET', `v1/rooms/${enc('!unknown:example.org')}/hierarchy`);
      expectSpecResponse(res, 'client-server:getSpaceHierarchy');
      expectMatrixError(res, 403, 'M_FORBIDDEN');
      res = await carol.call('GET', `v1/rooms/${enc(secret)}/hierarchy`);
      expectMatrixError(res, 403, 'M_FORBIDDEN');
      res = await alice.call('GET', `v1/rooms/${enc(space)}/hierarchy?limit=0`);
      expectMatrixError(res, 400, 'M_INVALID_PARAM');
      res = await alice.call('GET', `v1/rooms/${enc(space)}/hierarchy?max_depth=-1`);
      expectMatrixError(res, 400, 'M_INVALID_PARAM');
      res = await alice.call('GET', `v1/rooms/${enc(space)}/hierarchy?suggested_only=maybe`);
      expectMatrixError(res, 400, 'M_INVALID_PARAM');
    });

    test('a remote space the user is invited to: walked over federation from the inviter\'s server', async () => {
      const invited = await alice.createRoom({ preset: 'private_chat', name: 'Invited Space', creation_content: { type: 'm.space' } });
      await alice.addChild(invited, general, { via: [a.serverName] });
      await alice.addChild(invited, secret, { via: [a.serverName] });
      let res = await bob.call('GET', `v1/rooms/${enc(invited)}/hierarchy`);
      expectMatrixError(res, 403, 'M_FORBIDDEN');
      await alice.ok('POST', `v3/rooms/${enc(invited)}/invite`, { user_id: bob.userId });
      // The invite reaches B asynchronously; poll until B knows of it.
      res = await eventually('bob sees the invited space', async () => {
        const r = await bob.call('GET', `v1/rooms/${enc(invited)}/hierarchy`);
        return r.status === 200 ? r : undefined;
      });
      expectSpecResponse(res, 'client-server:getSpaceHierarchy');
      // The invite-only child stays hidden: B has nobody in it.
      assert.deepEqual(hierarchyIds(res.body as Record<string, unknown>), [invited, general]);
      res = await bob.call('GET', `v1/room_summary/${enc(invited)}`);
      expectSpecResponse(res, 'getRoomSummary');
      assert.equal((res.body as Record<string, unknown>)['membership'], 'invite');
      assert.equal((res.body as Record<string, unknown>)['name'], 'Invited Space');
    });

    test('server-server-api § Spaces: GET /_matrix/federation/v1/hierarchy/{roomId} with inaccessible_children', async () => {
      let res = await peer.request(a, 'GET', `/_matrix/federation/v1/hierarchy/${enc(space)}`);
      expectSpecResponse(res, 'server-server:getSpaceHierarchy');
      const body = res.body as Record<string, unknown>;
      assert.equal((body['room'] as Record<string, unknown>)['room_id'], space);
      // Direct children A is in and the peer could join; the remote one is not A's to describe.
      assert.deepEqual((body['children'] as Array<{ room_id: string }>).map((c) => c.room_id), [sub, general]);
      assert.deepEqual(body['inaccessible_children'], [secret]);

      res = await peer.request(a, 'GET', `/_matrix/federation/v1/hierarchy/${enc(space)}?suggested_only=true`);
      expectSpecResponse(res, 'server-server:getSpaceHierarchy');
      assert.deepEqual(((res.body as Record<string, unknown>)['children'] as Array<{ room_id: string }>).map((c) => c.room_id), [sub]);

      res = await peer.request(a, 'GET', `/_matrix/federation/v1/hierarchy/${enc(secret)}`);
      expectSpecResponse(res, 'server-server:getSpaceHierarchy');
      expectMatrixError(res, 404, 'M_NOT_FOUND');
      res = await peer.request(a, 'GET', `/_matrix/federation/v1/hierarchy/${enc('!unknown:example.org')}`);
      expectMatrixError(res, 404, 'M_NOT_FOUND');
    });
  });
});
