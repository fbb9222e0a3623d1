// Multi-site rooms end to end: three real Stoa nodes on loopback, federating over HTTPS with
// certificates from the rig's test CA, driven only through the Client-Server API (issue 5's
// acceptance tests). Spec: server-server § "Joining Rooms", "Inviting to a room", "Leaving
// Rooms", "Transactions", "Typing Notifications", "Receipts", "Presence", "Backfilling and
// retrieving missing events", "Room State Resolution"; client-server § "Joining rooms",
// "Syncing", "Typing Notifications", "Receipts", "Presence".
//
// The tests run in order and share the nodes and rooms: each builds on the room the first
// one set up.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { request, type HttpResponse } from './rig/http.ts';
import { startNodes, stopNodes, type TestNode } from './rig/nodes.ts';
import { expectMatrixError, expectSpecResponse } from './rig/openapi.ts';
import { authHeaders, registerUser, type RegisteredUser } from './rig/users.ts';

/** A user on a node, speaking the Client-Server API. */
class Client {
  readonly node: TestNode;
  readonly user: RegisteredUser;
  #txn = 0;

  constructor(node: TestNode, user: RegisteredUser) {
    this.node = node;
    this.user = user;
  }

  get userId(): string {
    return this.user.userId;
  }

  call(method: string, path: string, body?: unknown): Promise<HttpResponse> {
    return request(`${this.node.clientUrl}/_matrix/client/v3${path}`, {
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

  async send(roomId: string, body: string): Promise<string> {
    const res = await this.ok('PUT', `/rooms/${enc(roomId)}/send/m.room.message/t${Date.now()}-${this.#txn++}`, { msgtype: 'm.text', body });
    return String(res['event_id']);
  }

  async membershipOf(roomId: string, userId: string): Promise<string | undefined> {
    const res = await this.call('GET', `/rooms/${enc(roomId)}/state/m.room.member/${enc(userId)}`);
    return res.status === 200 ? String((res.body as { membership?: unknown }).membership) : undefined;
  }

  /** Every event of the room's timeline this user can see, newest first, via /messages. */
  async timeline(roomId: string, max = 5_000): Promise<Array<Record<string, unknown>>> {
    const events: Array<Record<string, unknown>> = [];
    let from: string | undefined;
    for (;;) {
      const query = new URLSearchParams({ dir: 'b', limit: '500' });
      if (from !== undefined) query.set('from', from);
      const page = await this.ok('GET', `/rooms/${enc(roomId)}/messages?${query}`);
      const chunk = page['chunk'] as Array<Record<string, unknown>>;
      events.push(...chunk);
      if (chunk.length === 0 || typeof page['end'] !== 'string' || events.length >= max) return events;
      from = page['end'];
    }
  }

  /** The room's current state as `(type, state_key) → event_id`, sorted. */
  async stateIds(roomId: string): Promise<Array<[string, string]>> {
    const state = (await this.callOk('GET', `/rooms/${enc(roomId)}/state`)) as Array<Record<string, unknown>>;
    return state.map((e): [string, string] => [`${String(e['type'])}|${String(e['state_key'])}`, String(e['event_id'])]).sort((a, b) => (a[0] < b[0] ? -1 : 1));
  }

  async callOk(method: string, path: string): Promise<unknown> {
    const res = await this.call(method, path);
    assert.equal(res.status, 200, `${this.userId}: ${method} ${path} answered ${res.status} ${res.text}`);
    return res.body;
  }
}

/** The event ID of `userId`'s first join to the room, from `viewer`'s timeline. */
async function firstJoinOf(viewer: Client, roomId: string, userId: string): Promise<string> {
  const joins = (await viewer.timeline(roomId)).filter(
    (e) => e['type'] === 'm.room.member' && e['state_key'] === userId && (e['content'] as { membership?: unknown }).membership === 'join',
  );
  const first = joins.at(-1);
  assert.ok(first, `${userId} joined`);
  return String(first['event_id']);
}

function enc(value: string): string {
  return encodeURIComponent(value);
}

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}${last === undefined ? '' : `: ${String(last)}`}`);
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

/** Runs `tasks` with at most `width` at a time, in order of start. */
async function inBatches<T>(count: number, width: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = [];
  for (let start = 0; start < count; start += width) {
    const batch = Array.from({ length: Math.min(width, count - start) }, (_, k) => task(start + k));
    results.push(...(await Promise.all(batch)));
  }
  return results;
}

describe('multi-site rooms: three Stoa nodes over HTTPS, driven through the client API', () => {
  let nodes: TestNode[] = [];
  let alice: Client; // on A
  let bob: Client; // on B
  let carol: Client; // on C
  let roomId: string;
  let alias: string;

  before(async () => {
    // Generous: PGlite's start-up is slow on a loaded CI machine.
    nodes = await startNodes(3, { tls: true, startTimeoutMs: 180_000 });
    const [a, b, c] = nodes as [TestNode, TestNode, TestNode];
    const [ua, ub, uc] = await Promise.all([registerUser(a, 'alice'), registerUser(b, 'bob'), registerUser(c, 'carol')]);
    alice = new Client(a, ua);
    bob = new Client(b, ub);
    carol = new Client(c, uc);
  });

  after(() => stopNodes(nodes));

  test('§ Joining Rooms: B joins by alias #room:A, C by room ID with server_name', async () => {
    const created = await alice.ok('POST', '/createRoom', { preset: 'public_chat', room_alias_name: 'multisite', name: 'Multi-site' });
    roomId = String(created['room_id']);
    alias = `#multisite:${alice.node.serverName}`;

    const byAlias = await bob.call('POST', `/join/${enc(alias)}`, {});
    expectSpecResponse(byAlias, 'joinRoom');
    assert.equal(byAlias.status, 200, byAlias.text);
    assert.equal((byAlias.body as { room_id: string }).room_id, roomId);

    const byId = await carol.call('POST', `/join/${enc(roomId)}?server_name=${enc(alice.node.serverName)}`, {});
    expectSpecResponse(byId, 'joinRoom');
    assert.equal(byId.status, 200, byId.text);

    // Every node sees all three joined.
    for (const client of [alice, bob, carol]) {
      await eventually(`${client.userId} to see three members`, async () => {
        const res = await client.call('GET', `/rooms/${enc(roomId)}/joined_members`);
        if (res.status !== 200) return undefined;
        expectSpecResponse(res, 'getJoinedMembersByRoom');
        const joined = Object.keys((res.body as { joined: Record<string, unknown> }).joined).sort();
        return joined.length === 3 ? joined : undefined;
      });
    }
    // The room's name and alias reached the joiners with the room state.
    const name = await bob.ok('GET', `/rooms/${enc(roomId)}/state/m.room.name/`);
    assert.equal(name['name'], 'Multi-site');
  });

  test('§ Transactions: messages from each node reach the other two, in /messages and /sync', async () => {
    const sent = new Map<string, string>();
    for (const client of [alice, bob, carol]) sent.set(await client.send(roomId, `hello from ${client.userId}`), client.userId);

    for (const client of [alice, bob, carol]) {
      await eventually(`${client.userId} to see all three messages`, async () => {
        const res = await client.call('GET', `/rooms/${enc(roomId)}/messages?dir=b&limit=50`);
        expectSpecResponse(res, 'getRoomEvents');
        const ids = new Set((res.body as { chunk: Array<{ event_id: string }> }).chunk.map((e) => e.event_id));
        return [...sent.keys()].every((id) => ids.has(id)) ? true : undefined;
      });
    }
    // An initial /sync on B shows A's and C's messages in the room's timeline.
    const res = await bob.call('GET', '/sync?timeout=0');
    expectSpecResponse(res, 'sync');
    const timeline = (res.body as { rooms: { join: Record<string, { timeline: { events: Array<{ event_id: string; sender: string }> } }> } }).rooms.join[roomId]?.timeline.events ?? [];
    for (const [eventId, sender] of sent) {
      if (sender === bob.userId) continue;
      assert.ok(timeline.some((e) => e.event_id === eventId && e.sender === sender), `B's /sync timeline has ${eventId} from ${sender}`);
    }
  });

  test('§ Typing Notifications and § Receipts: ephemeral events cross servers into /sync', async () => {
    const since = String((await bob.ok('GET', '/sync?timeout=0'))['next_batch']);
    const typing = await alice.call('PUT', `/rooms/${enc(roomId)}/typing/${enc(alice.userId)}`, { typing: true, timeout: 20_000 });
    expectSpecResponse(typing, 'setTyping');
    await eventually('B to see alice typing', async () => {
      const sync = await bob.ok('GET', `/sync?timeout=1000&since=${enc(since)}`);
      const room = (sync['rooms'] as { join?: Record<string, { ephemeral?: { events: Array<{ type: string; content: { user_ids?: string[] } }> } }> } | undefined)?.join?.[roomId];
      const ev = room?.ephemeral?.events.find((e) => e.type === 'm.typing');
      return ev?.content.user_ids?.includes(alice.userId) === true ? true : undefined;
    });
    await eventually('C to see alice typing', async () => {
      const sync = await carol.ok('GET', '/sync?timeout=0');
      const room = (sync['rooms'] as { join?: Record<string, { ephemeral?: { events: Array<{ type: string; content: { user_ids?: string[] } }> } }> } | undefined)?.join?.[roomId];
      const ev = room?.ephemeral?.events.find((e) => e.type === 'm.typing');
      return ev?.content.user_ids?.includes(alice.userId) === true ? true : undefined;
    });

    // Bob reads alice's latest message; A's /sync shows the receipt.
    const target = await alice.send(roomId, 'please read me');
    await eventually('B to have the message', async () => ((await bob.call('GET', `/rooms/${enc(roomId)}/event/${enc(target)}`)).status === 200 ? true : undefined));
    const receipt = await bob.call('POST', `/rooms/${enc(roomId)}/receipt/m.read/${enc(target)}`, {});
    expectSpecResponse(receipt, 'postReceipt');
    assert.equal(receipt.status, 200, receipt.text);
    await eventually('A to see bob\u2019s receipt', async () => {
      const sync = await alice.ok('GET', '/sync?timeout=0');
      const room = (sync['rooms'] as { join?: Record<string, { ephemeral?: { events: Array<{ type: string; content: Record<string, Record<string, Record<string, unknown>>> }> } }> } | undefined)?.join?.[roomId];
      const ev = room?.ephemeral?.events.find((e) => e.type === 'm.receipt');
      return ev?.content[target]?.['m.read']?.[bob.userId] !== undefined ? true : undefined;
    });
  });

  test('§ Presence: a status set on A is visible on C to a user sharing the room', async () => {
    const set = await alice.call('PUT', `/presence/${enc(alice.userId)}/status`, { presence: 'unavailable', status_msg: 'at the other site' });
    expectSpecResponse(set, 'setPresence');
    await eventually('C to see alice\u2019s status', async () => {
      const res = await carol.call('GET', `/presence/${enc(alice.userId)}/status`);
      if (res.status !== 200) return undefined;
      expectSpecResponse(res, 'getPresence');
      const body = res.body as { presence: string; status_msg?: string };
      return body.presence === 'unavailable' && body.status_msg === 'at the other site' ? true : undefined;
    });
  });

  test('§ Inviting to a room, § Leaving Rooms: remote invite, join, kick, re-invite, leave, ban', async () => {
    const created = await alice.ok('POST', '/createRoom', { preset: 'private_chat', name: 'Invite only' });
    const privateRoom = String(created['room_id']);

    // An uninvited remote user cannot get in.
    const refused = await bob.call('POST', `/join/${enc(privateRoom)}?via=${enc(alice.node.serverName)}`, {});
    assert.equal(refused.status, 403, refused.text);

    const invite = await alice.call('POST', `/rooms/${enc(privateRoom)}/invite`, { user_id: bob.userId });
    expectSpecResponse(invite, 'inviteUser');
    assert.equal(invite.status, 200, invite.text);
    await eventually('B to see the invite in /sync', async () => {
      const sync = await bob.ok('GET', '/sync?timeout=0');
      const invited = (sync['rooms'] as { invite?: Record<string, unknown> } | undefined)?.invite ?? {};
      return privateRoom in invited ? true : undefined;
    });
    const joined = await bob.call('POST', `/rooms/${enc(privateRoom)}/join`, {});
    assert.equal(joined.status, 200, joined.text);
    await eventually('A to see bob joined', async () => ((await alice.membershipOf(privateRoom, bob.userId)) === 'join' ? true : undefined));

    // An initial /sync leaves out rooms the user left; an incremental one shows the kick.
    const beforeKick = String((await bob.ok('GET', '/sync?timeout=0'))['next_batch']);
    const kick = await alice.call('POST', `/rooms/${enc(privateRoom)}/kick`, { user_id: bob.userId, reason: 'testing' });
    expectSpecResponse(kick, 'kick');
    assert.equal(kick.status, 200, kick.text);
    await eventually('B to see bob kicked', async () => {
      const sync = await bob.ok('GET', `/sync?timeout=1000&since=${enc(beforeKick)}`);
      const left = (sync['rooms'] as { leave?: Record<string, unknown> } | undefined)?.leave ?? {};
      return privateRoom in left ? true : undefined;
    });

    // Invited again, bob declines: a leave through A (make_leave/send_leave) or locally.
    assert.equal((await alice.call('POST', `/rooms/${enc(privateRoom)}/invite`, { user_id: bob.userId })).status, 200);
    await eventually('B to see the second invite', async () => {
      const sync = await bob.ok('GET', '/sync?timeout=0');
      return privateRoom in ((sync['rooms'] as { invite?: Record<string, unknown> } | undefined)?.invite ?? {}) ? true : undefined;
    });
    const declined = await bob.call('POST', `/rooms/${enc(privateRoom)}/leave`, {});
    expectSpecResponse(declined, 'leaveRoom');
    assert.equal(declined.status, 200, declined.text);
    await eventually('A to see bob\u2019s rejection', async () => ((await alice.membershipOf(privateRoom, bob.userId)) === 'leave' ? true : undefined));

    // A ban of a remote user holds on their own server: carol cannot join.
    const ban = await alice.call('POST', `/rooms/${enc(privateRoom)}/ban`, { user_id: carol.userId, reason: 'testing' });
    expectSpecResponse(ban, 'ban');
    assert.equal(ban.status, 200, ban.text);
    const banned = await carol.call('POST', `/join/${enc(privateRoom)}?via=${enc(alice.node.serverName)}`, {});
    assert.equal(banned.status, 403, banned.text);

    // A joined remote user leaves: the other servers see it.
    const extra = await alice.ok('POST', '/createRoom', { preset: 'public_chat' });
    const publicRoom = String(extra['room_id']);
    assert.equal((await carol.call('POST', `/join/${enc(publicRoom)}?via=${enc(alice.node.serverName)}`, {})).status, 200);
    await eventually('A to see carol joined', async () => ((await alice.membershipOf(publicRoom, carol.userId)) === 'join' ? true : undefined));
    assert.equal((await carol.call('POST', `/rooms/${enc(publicRoom)}/leave`, {})).status, 200);
    await eventually('A to see carol left', async () => ((await alice.membershipOf(publicRoom, carol.userId)) === 'leave' ? true : undefined));
  });

  test('partition: B is down while A sends 500 events; after B restarts it has every one of them', { timeout: 150_000 }, async () => {
    const b = bob.node;
    await b.halt();
    const sent = await inBatches(500, 8, (i) => alice.send(roomId, `during the partition #${i}`));
    await b.restart();
    // A user of B speaks once the node is back (A hears from B and retries at once).
    const fromB = await bob.send(roomId, 'back again');

    const expected = new Set(sent);
    await eventually(
      'B to have all 500 events in its timeline',
      async () => {
        const ids = new Set((await bob.timeline(roomId)).map((e) => String(e['event_id'])));
        const missing = [...expected].filter((id) => !ids.has(id));
        return missing.length === 0 ? true : undefined;
      },
      90_000,
    );
    await eventually('A to have B\u2019s message', async () => ((await alice.call('GET', `/rooms/${enc(roomId)}/event/${enc(fromB)}`)).status === 200 ? true : undefined));

    // B's timeline is A's: from bob's join on as received, and what came before backfilled
    // from A when bob's /messages paged past the join.
    const onA = (await alice.timeline(roomId)).map((e) => String(e['event_id']));
    const onB = (await bob.timeline(roomId)).map((e) => String(e['event_id']));
    const bobJoin = await firstJoinOf(alice, roomId, bob.userId);
    const sinceJoin = onA.slice(0, onA.indexOf(bobJoin) + 1);
    assert.ok(sinceJoin.length > 500, 'bob’s join is in A’s timeline');
    assert.deepEqual(new Set(onB), new Set(onA));
  });

  test('§ Room State Resolution: A and C concurrently change power levels and ban each other\u2019s users; all three nodes agree', async () => {
    const [a, , c] = nodes as [TestNode, TestNode, TestNode];
    const [ua2, uc2] = await Promise.all([registerUser(a, 'amos'), registerUser(c, 'cleo')]);
    const amos = new Client(a, ua2);
    const cleo = new Client(c, uc2);
    for (const joiner of [amos, cleo]) {
      assert.equal((await joiner.call('POST', `/join/${enc(alias)}`, {})).status, 200);
    }
    // Carol becomes an admin too, so both sides may ban and change power levels.
    const levels = await alice.ok('GET', `/rooms/${enc(roomId)}/state/m.room.power_levels/`);
    const users = { ...(levels['users'] as Record<string, number>), [carol.userId]: 100 };
    await alice.ok('PUT', `/rooms/${enc(roomId)}/state/m.room.power_levels/`, { ...levels, users });
    await eventually('every node to see amos, cleo joined and carol an admin', async () => {
      for (const client of [alice, bob, carol]) {
        if ((await client.membershipOf(roomId, amos.userId)) !== 'join' || (await client.membershipOf(roomId, cleo.userId)) !== 'join') return undefined;
        const pl = await client.ok('GET', `/rooms/${enc(roomId)}/state/m.room.power_levels/`);
        if ((pl['users'] as Record<string, number>)[carol.userId] !== 100) return undefined;
      }
      return true;
    });

    // At the same moment, on A and on C: a power-level change and a ban of the other's user.
    const [plA, plC] = await Promise.all([
      alice.ok('GET', `/rooms/${enc(roomId)}/state/m.room.power_levels/`),
      carol.ok('GET', `/rooms/${enc(roomId)}/state/m.room.power_levels/`),
    ]);
    await Promise.all([
      (async () => {
        await alice.ok('PUT', `/rooms/${enc(roomId)}/state/m.room.power_levels/`, { ...plA, users: { ...(plA['users'] as object), [amos.userId]: 50 } });
        await alice.ok('POST', `/rooms/${enc(roomId)}/ban`, { user_id: cleo.userId, reason: 'concurrent' });
      })(),
      (async () => {
        await carol.ok('PUT', `/rooms/${enc(roomId)}/state/m.room.power_levels/`, { ...plC, users: { ...(plC['users'] as object), [cleo.userId]: 50 } });
        await carol.ok('POST', `/rooms/${enc(roomId)}/ban`, { user_id: amos.userId, reason: 'concurrent' });
      })(),
    ]);

    const states = await eventually(
      'the three nodes to agree on the current state',
      async () => {
        const all = await Promise.all([alice, bob, carol].map((client) => client.stateIds(roomId)));
        const [first, ...rest] = all.map((s) => JSON.stringify(s));
        return rest.every((s) => s === first) && all[0]!.some(([key]) => key === `m.room.member|${cleo.userId}`) ? all : undefined;
      },
      30_000,
    );
    const state = new Map(states[0]);
    // Both bans stand: neither user outranked the banner.
    for (const client of [alice, bob, carol]) {
      assert.equal(await client.membershipOf(roomId, amos.userId), 'ban', `${client.userId} sees amos banned`);
      assert.equal(await client.membershipOf(roomId, cleo.userId), 'ban', `${client.userId} sees cleo banned`);
    }
    assert.ok(state.has('m.room.power_levels|'));
    const res = await bob.call('GET', `/rooms/${enc(roomId)}/state`);
    expectSpecResponse(res, 'client-server:getRoomState');
  });

  test('§ Joining Rooms: an unknown alias on a remote server is 404 M_NOT_FOUND', async () => {
    const res = await bob.call('POST', `/join/${enc(`#nothing-here:${alice.node.serverName}`)}`, {});
    expectMatrixError(res, 404, 'M_NOT_FOUND');
  });
});
