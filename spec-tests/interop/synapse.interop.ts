// Interop with the reference homeserver: one Stoa node and one real Synapse (Debian's
// matrix-synapse, `../shared/peers/synapse.sh`) federate over HTTPS on loopback.
// Server names are IP literals with ports, so neither side does .well-known or SRV; Synapse
// runs with certificate checks off and Stoa with `federation.verify_tls: false` (Synapse's
// certificate is self-signed).
//
// Spec: server-server § "Joining Rooms", § "Inviting to a room", § "Leaving Rooms
// (Rejecting Invites)", § "Transactions", § "Querying for information" (directory),
// § "Retrieving server keys", § "Request Authentication"; client-server § "Room aliases",
// § "Joining rooms", § "Room membership", § "Syncing".
//
// Not part of `npm test` (the peer needs root, a chroot and ~550 MB): run with
// `npm run test:interop`. Skips, with the reason, when Synapse is not installed.

import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { request, type HttpResponse } from '../rig/http.ts';
import { startNodes, stopNodes, type TestNode } from '../rig/nodes.ts';
import { expectSpecResponse } from '../rig/openapi.ts';
import { registerUser, type RegisteredUser } from '../rig/users.ts';
import { startSynapse, synapseUnavailable, type SynapsePeer, type SynapseUser } from './synapse-peer.ts';

const enc = encodeURIComponent;
const unavailable = await synapseUnavailable();

/** Polls `probe` until it returns a value (not undefined); fails with `what` and `context()` on timeout. */
async function eventually<T>(what: string, probe: () => Promise<T | undefined>, context: () => Promise<string>, timeoutMs = 30_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}\n${await context()}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

interface ClientEvent {
  readonly event_id: string;
  readonly type: string;
  readonly sender: string;
  readonly state_key?: string;
  readonly content: Record<string, unknown>;
}

interface SyncBody {
  readonly next_batch: string;
  readonly rooms?: {
    readonly invite?: Record<string, { invite_state?: { events?: ClientEvent[] } }>;
    readonly leave?: Record<string, unknown>;
  };
}

describe('interop with Synapse', { skip: unavailable }, () => {
  let stoa: TestNode;
  let synapse: SynapsePeer;
  // Synapse users
  let alice: SynapseUser;
  let carol: SynapseUser;
  // Stoa users
  let bob: RegisteredUser;
  let dave: RegisteredUser;
  let synapseRoom: string;
  let stoaRoom: string;

  function stoaCall(user: RegisteredUser, method: string, path: string, body?: unknown): Promise<HttpResponse> {
    return request(`${stoa.clientUrl}/_matrix/client/v3${path}`, {
      method,
      headers: { authorization: `Bearer ${user.accessToken}` },
      ...(body === undefined ? {} : { body }),
    });
  }

  function synapseCall(user: SynapseUser, method: string, path: string, body?: unknown): Promise<HttpResponse> {
    return synapse.client(user, `/_matrix/client/v3${path}`, { method, ...(body === undefined ? {} : { body }) });
  }

  async function logs(): Promise<string> {
    // Without the client API's access lines (the polling above makes most of them).
    const stoaTail = stoa
      .logs()
      .split('\n')
      .filter((line) => !line.includes('"listener":"client"'))
      .slice(-40)
      .join('\n');
    return `--- Synapse (${synapse.serverName}) homeserver.log tail:\n${await synapse.logTail()}\n--- Stoa (${stoa.serverName}) log tail:\n${stoaTail}`;
  }

  async function ok(res: HttpResponse, what: string): Promise<HttpResponse> {
    if (res.status !== 200) assert.fail(`${what}: ${res.status} ${res.text}\n${await logs()}`);
    return res;
  }

  /** The room's most recent events as `user` sees them on Stoa (/messages backwards). */
  async function stoaTimeline(user: RegisteredUser, roomId: string): Promise<ClientEvent[]> {
    const res = await stoaCall(user, 'GET', `/rooms/${enc(roomId)}/messages?dir=b&limit=50`);
    return res.status === 200 ? ((res.body as { chunk: ClientEvent[] }).chunk ?? []) : [];
  }

  async function synapseTimeline(user: SynapseUser, roomId: string): Promise<ClientEvent[]> {
    const res = await synapseCall(user, 'GET', `/rooms/${enc(roomId)}/messages?dir=b&limit=50`);
    return res.status === 200 ? ((res.body as { chunk: ClientEvent[] }).chunk ?? []) : [];
  }

  async function stoaMembership(user: RegisteredUser, roomId: string, target: string): Promise<string | undefined> {
    const res = await stoaCall(user, 'GET', `/rooms/${enc(roomId)}/state/m.room.member/${enc(target)}`);
    return res.status === 200 ? ((res.body as { membership?: string }).membership ?? undefined) : undefined;
  }

  async function synapseMembership(user: SynapseUser, roomId: string, target: string): Promise<string | undefined> {
    const res = await synapseCall(user, 'GET', `/rooms/${enc(roomId)}/state/m.room.member/${enc(target)}`);
    return res.status === 200 ? ((res.body as { membership?: string }).membership ?? undefined) : undefined;
  }

  /**
   * Follows `/sync` as a client does (initial, then `since` the last `next_batch`, long-
   * polling) until `pick` finds something in a response. Synapse caches a completed
   * response per request, so repeating an identical initial sync would never see news.
   */
  async function syncUntil<T>(
    what: string,
    get: (path: string) => Promise<HttpResponse>,
    pick: (body: SyncBody) => T | undefined,
  ): Promise<{ value: T; response: HttpResponse }> {
    let since: string | undefined;
    return eventually(what, async () => {
      const response = await get(since === undefined ? '/sync?timeout=0' : `/sync?timeout=1000&since=${enc(since)}`);
      if (response.status !== 200) return undefined;
      const body = response.body as SyncBody;
      since = body.next_batch;
      const value = pick(body);
      return value === undefined ? undefined : { value, response };
    }, logs);
  }

  const invitedTo = (roomId: string) => (body: SyncBody) => body.rooms?.invite?.[roomId];

  const withBody = (events: ClientEvent[], body: string): ClientEvent | undefined =>
    events.find((e) => e.type === 'm.room.message' && e.content['body'] === body);

  before(async () => {
    [[stoa], synapse] = await Promise.all([
      startNodes(1, { tls: true, configOverrides: { federation: { verify_tls: false, allow_private_addresses: true } } }) as Promise<[TestNode]>,
      startSynapse('stoa-interop'),
    ]);
    [alice, carol, bob, dave] = await Promise.all([
      synapse.register('alice', { admin: true }),
      synapse.register('carol'),
      registerUser(stoa, 'bob'),
      registerUser(stoa, 'dave'),
    ]);
  });

  after(async () => {
    // STOA_INTEROP_LOGS=<folder> keeps both servers' logs (Synapse's go with its data folder).
    const keep = process.env['STOA_INTEROP_LOGS'];
    if (keep !== undefined && keep !== '' && stoa !== undefined && synapse !== undefined) {
      await mkdir(keep, { recursive: true });
      await writeFile(join(keep, 'stoa.log'), stoa.logs());
      await writeFile(join(keep, 'synapse.log'), await synapse.logTail(Number.MAX_SAFE_INTEGER));
    }
    await Promise.allSettled([stoa === undefined ? undefined : stopNodes([stoa]), synapse?.stop()]);
  });

  test('a Stoa user joins a Synapse room by alias (make_join / send_join against Synapse)', async () => {
    const created = await ok(
      await synapseCall(alice, 'POST', '/createRoom', { preset: 'public_chat', room_alias_name: 'synapse-side', name: 'On Synapse' }),
      'createRoom on Synapse',
    );
    synapseRoom = (created.body as { room_id: string }).room_id;
    const alias = `#synapse-side:${synapse.serverName}`;

    // The alias resolves through Stoa (federation directory query to Synapse).
    const resolved = await ok(await stoaCall(bob, 'GET', `/directory/room/${enc(alias)}`), 'alias lookup via Stoa');
    expectSpecResponse(resolved, 'getRoomIdByAlias');
    assert.equal((resolved.body as { room_id: string }).room_id, synapseRoom);

    const joined = await ok(await stoaCall(bob, 'POST', `/join/${enc(alias)}`, {}), 'join by alias via Stoa');
    expectSpecResponse(joined, 'joinRoom');
    assert.deepEqual(joined.body, { room_id: synapseRoom });

    assert.equal(await stoaMembership(bob, synapseRoom, bob.userId), 'join');
    const nameOnStoa = await stoaCall(bob, 'GET', `/rooms/${enc(synapseRoom)}/state/m.room.name/`);
    assert.deepEqual(nameOnStoa.body, { name: 'On Synapse' }, 'Stoa holds the room state Synapse sent');
    await eventually('Synapse to see the Stoa user joined', async () =>
      (await synapseMembership(alice, synapseRoom, bob.userId)) === 'join' ? true : undefined, logs);
  });

  test('messages flow both ways in the Synapse room', async () => {
    await ok(await synapseCall(alice, 'PUT', `/rooms/${enc(synapseRoom)}/send/m.room.message/s1`, { msgtype: 'm.text', body: 'hello from Synapse' }), 'send on Synapse');
    const atStoa = await eventually('Synapse\u2019s message on Stoa', async () => withBody(await stoaTimeline(bob, synapseRoom), 'hello from Synapse'), logs);
    assert.equal(atStoa.sender, alice.userId);

    await ok(await stoaCall(bob, 'PUT', `/rooms/${enc(synapseRoom)}/send/m.room.message/t1`, { msgtype: 'm.text', body: 'hello from Stoa' }), 'send on Stoa');
    const atSynapse = await eventually('Stoa\u2019s message on Synapse', async () => withBody(await synapseTimeline(alice, synapseRoom), 'hello from Stoa'), logs);
    assert.equal(atSynapse.sender, bob.userId);
  });

  test('room version 12 on Synapse (room ID from the create event): join by alias, messages in Stoa\u2019s /sync', async () => {
    const created = await ok(
      await synapseCall(alice, 'POST', '/createRoom', { preset: 'public_chat', room_alias_name: 'synapse-v12', room_version: '12' }),
      'v12 createRoom on Synapse',
    );
    const roomId = (created.body as { room_id: string }).room_id;
    assert.doesNotMatch(roomId, /:/, 'v12 room IDs name no server');
    let since: string | undefined;
    await syncUntil('bob\u2019s first /sync', (path) => stoaCall(bob, 'GET', path), (body) => (since = body.next_batch));
    const joined = await ok(await stoaCall(bob, 'POST', `/join/${enc(`#synapse-v12:${synapse.serverName}`)}`, {}), 'join v12 room by alias via Stoa');
    assert.deepEqual(joined.body, { room_id: roomId });
    await ok(await synapseCall(alice, 'PUT', `/rooms/${enc(roomId)}/send/m.room.message/v12`, { msgtype: 'm.text', body: 'v12 from Synapse' }), 'send on Synapse');
    // Incremental /sync from before the join: the room under `join`, Synapse's message in its timeline.
    const found = await eventually('the message in bob\u2019s /sync', async () => {
      const res = await stoaCall(bob, 'GET', `/sync?timeout=1000&since=${enc(since ?? '')}`);
      const timeline = (res.body as { rooms?: { join?: Record<string, { timeline?: { events?: ClientEvent[] } }> } }).rooms?.join?.[roomId]?.timeline?.events ?? [];
      return withBody(timeline, 'v12 from Synapse') === undefined ? undefined : res;
    }, logs);
    expectSpecResponse(found, 'sync');
    await ok(await stoaCall(bob, 'PUT', `/rooms/${enc(roomId)}/send/m.room.message/v12`, { msgtype: 'm.text', body: 'v12 from Stoa' }), 'send on Stoa');
    await eventually('Stoa\u2019s message on Synapse', async () => withBody(await synapseTimeline(alice, roomId), 'v12 from Stoa'), logs);
  });

  test('a Synapse user joins a Stoa room by alias (Synapse against Stoa\u2019s make_join / send_join)', async () => {
    const created = await ok(
      await stoaCall(bob, 'POST', '/createRoom', { preset: 'public_chat', room_alias_name: 'stoa-side', name: 'On Stoa' }),
      'createRoom on Stoa',
    );
    stoaRoom = (created.body as { room_id: string }).room_id;
    const alias = `#stoa-side:${stoa.serverName}`;

    const joined = await ok(await synapseCall(alice, 'POST', `/join/${enc(alias)}`, {}), 'join by alias via Synapse');
    assert.equal((joined.body as { room_id: string }).room_id, stoaRoom);
    assert.equal(await synapseMembership(alice, stoaRoom, alice.userId), 'join');
    await eventually('Stoa to see the Synapse user joined', async () =>
      (await stoaMembership(bob, stoaRoom, alice.userId)) === 'join' ? true : undefined, logs);

    await ok(await stoaCall(bob, 'PUT', `/rooms/${enc(stoaRoom)}/send/m.room.message/t2`, { msgtype: 'm.text', body: 'welcome from Stoa' }), 'send on Stoa');
    await eventually('Stoa\u2019s message on Synapse', async () => withBody(await synapseTimeline(alice, stoaRoom), 'welcome from Stoa'), logs);
    await ok(await synapseCall(alice, 'PUT', `/rooms/${enc(stoaRoom)}/send/m.room.message/s2`, { msgtype: 'm.text', body: 'thanks from Synapse' }), 'send on Synapse');
    await eventually('Synapse\u2019s message on Stoa', async () => withBody(await stoaTimeline(bob, stoaRoom), 'thanks from Synapse'), logs);
  });

  test('invites both ways: Stoa invites a Synapse user, Synapse invites a Stoa user', async () => {
    // Stoa → Synapse: bob invites carol into the Stoa room; carol sees it in her /sync and joins.
    await ok(await stoaCall(bob, 'POST', `/rooms/${enc(stoaRoom)}/invite`, { user_id: carol.userId }), 'invite via Stoa');
    const atCarol = await syncUntil('the invite in carol\u2019s Synapse /sync', (path) => synapseCall(carol, 'GET', path), invitedTo(stoaRoom));
    const carolInviteState = atCarol.value.invite_state?.events ?? [];
    assert.ok(carolInviteState.some((e) => e.type === 'm.room.name' && e.content['name'] === 'On Stoa'), 'Stoa\u2019s stripped state reaches Synapse');
    await ok(await synapseCall(carol, 'POST', `/rooms/${enc(stoaRoom)}/join`, {}), 'carol accepts via Synapse');
    await eventually('Stoa to see carol joined', async () => ((await stoaMembership(bob, stoaRoom, carol.userId)) === 'join' ? true : undefined), logs);

    // Synapse → Stoa: alice invites dave into a private Synapse room; dave sees it in /sync and joins.
    // Version 12: the room ID names no server, so Stoa must go through the inviter's server.
    const created = await ok(await synapseCall(alice, 'POST', '/createRoom', { preset: 'private_chat', name: 'Private on Synapse', room_version: '12' }), 'private room on Synapse');
    const privateRoom = (created.body as { room_id: string }).room_id;
    await ok(await synapseCall(alice, 'POST', `/rooms/${enc(privateRoom)}/invite`, { user_id: dave.userId }), 'invite via Synapse');
    const atDave = await syncUntil('the invite in dave\u2019s Stoa /sync', (path) => stoaCall(dave, 'GET', path), invitedTo(privateRoom));
    expectSpecResponse(atDave.response, 'sync');
    const daveInviteState = atDave.value.invite_state?.events ?? [];
    assert.ok(daveInviteState.some((e) => e.type === 'm.room.name' && e.content['name'] === 'Private on Synapse'), 'Synapse\u2019s stripped state reaches dave');
    assert.ok(daveInviteState.some((e) => e.type === 'm.room.member' && e.state_key === dave.userId && e.content['membership'] === 'invite'));
    const joined = await ok(await stoaCall(dave, 'POST', `/rooms/${enc(privateRoom)}/join`, {}), 'dave accepts via Stoa');
    assert.deepEqual(joined.body, { room_id: privateRoom });
    await eventually('Synapse to see dave joined', async () =>
      (await synapseMembership(alice, privateRoom, dave.userId)) === 'join' ? true : undefined, logs);
  });

  test('invites can be rejected both ways', async () => {
    // Synapse → Stoa, rejected on Stoa (make_leave / send_leave against Synapse).
    const created = await ok(await synapseCall(alice, 'POST', '/createRoom', { preset: 'private_chat', room_version: '12' }), 'room on Synapse');
    const room = (created.body as { room_id: string }).room_id;
    await ok(await synapseCall(alice, 'POST', `/rooms/${enc(room)}/invite`, { user_id: dave.userId }), 'invite via Synapse');
    let daveSince: string | undefined;
    await syncUntil('the invite on Stoa', (path) => stoaCall(dave, 'GET', path), (body) => {
      daveSince = body.next_batch;
      return invitedTo(room)(body);
    });
    await ok(await stoaCall(dave, 'POST', `/rooms/${enc(room)}/leave`, {}), 'dave rejects via Stoa');
    await eventually('Synapse to see dave\u2019s rejection', async () => ((await synapseMembership(alice, room, dave.userId)) === 'leave' ? true : undefined), logs);
    // Dave's next /sync moves the room from invite to leave.
    const afterReject = await stoaCall(dave, 'GET', `/sync?timeout=0&since=${enc(daveSince ?? '')}`);
    expectSpecResponse(afterReject, 'sync');
    const rooms = (afterReject.body as SyncBody).rooms;
    assert.ok(rooms?.leave?.[room] !== undefined && rooms.invite?.[room] === undefined, `the rejected invite is a left room: ${afterReject.text}`);

    // Stoa → Synapse, rejected on Synapse (Synapse against Stoa's make_leave / send_leave).
    const own = await ok(await stoaCall(bob, 'POST', '/createRoom', { preset: 'private_chat' }), 'room on Stoa');
    const stoaPrivate = (own.body as { room_id: string }).room_id;
    await ok(await stoaCall(bob, 'POST', `/rooms/${enc(stoaPrivate)}/invite`, { user_id: carol.userId }), 'invite via Stoa');
    await syncUntil('the invite on Synapse', (path) => synapseCall(carol, 'GET', path), invitedTo(stoaPrivate));
    await ok(await synapseCall(carol, 'POST', `/rooms/${enc(stoaPrivate)}/leave`, {}), 'carol rejects via Synapse');
    await eventually('Stoa to see carol\u2019s rejection', async () => ((await stoaMembership(bob, stoaPrivate, carol.userId)) === 'leave' ? true : undefined), logs);
  });

  test('leaves both ways', async () => {
    await ok(await stoaCall(bob, 'POST', `/rooms/${enc(synapseRoom)}/leave`, {}), 'bob leaves the Synapse room via Stoa');
    await eventually('Synapse to see bob left', async () => ((await synapseMembership(alice, synapseRoom, bob.userId)) === 'leave' ? true : undefined), logs);

    await ok(await synapseCall(alice, 'POST', `/rooms/${enc(stoaRoom)}/leave`, {}), 'alice leaves the Stoa room via Synapse');
    await eventually('Stoa to see alice left', async () => ((await stoaMembership(bob, stoaRoom, alice.userId)) === 'leave' ? true : undefined), logs);

    // The room still works for those who stayed: carol (Synapse) still gets Stoa's messages.
    await ok(await stoaCall(bob, 'PUT', `/rooms/${enc(stoaRoom)}/send/m.room.message/t3`, { msgtype: 'm.text', body: 'after the leave' }), 'send on Stoa');
    await eventually('Stoa\u2019s message on Synapse for carol', async () => withBody(await synapseTimeline(carol, stoaRoom), 'after the leave'), logs);
  });
});
