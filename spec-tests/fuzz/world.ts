// The world a fuzz run acts in: a real user (token), a second user, a room they share with
// a message in it, and a fake remote homeserver whose signing key the node can fetch, so
// generated requests reach the deep code paths. Requests may log the user out, deactivate
// it or make it leave the room: `ensureHealthy` notices and builds a fresh world.

import type { SigningKey } from '../../src/crypto/signing-key.ts';
import { signRequest } from '../../src/crypto/x-matrix.ts';
import { testKey } from '../../src/roomserver/testing.ts';
import type { JsonValue } from '../../src/rooms/json.ts';
import { request } from '../rig/http.ts';
import { startKeyServer, type RunningKeyServer } from '../rig/key-server.ts';
import type { TestNode } from '../rig/nodes.ts';
import { registerUser } from '../rig/users.ts';
import type { FuzzIdentities } from './identities.ts';
import { PduFactory } from './pdus.ts';
import type { RequestWorld } from './requests.ts';

/** A homeserver that only publishes its key; every other request gets a 404 Matrix error. */
export class FakeRemote {
  readonly #keyServer: RunningKeyServer;
  readonly key: SigningKey;
  readonly serverName: string;

  private constructor(keyServer: RunningKeyServer, key: SigningKey) {
    this.#keyServer = keyServer;
    this.key = key;
    this.serverName = keyServer.serverName;
  }

  static async start(key: SigningKey): Promise<FakeRemote> {
    return new FakeRemote(await startKeyServer(key), key);
  }

  close(): Promise<void> {
    return this.#keyServer.close();
  }
}

function toJsonContent(content: unknown): JsonValue | undefined {
  // Signing needs a value canonical JSON can encode; anything else is sent unsigned-over-content.
  if (content === undefined) return undefined;
  return content as JsonValue;
}

export class FuzzWorld implements RequestWorld {
  readonly node: TestNode;
  readonly remote: FakeRemote;
  readonly #unpublishedKey = testKey(99, 'unpublished');
  #ids: FuzzIdentities;
  #password: string;
  #generation = 0;
  /** How many times the world was rebuilt (a request logged the user out, …). */
  rebuilds = 0;
  /** Signed PDUs for the current room, from the fake remote. */
  pdus: PduFactory | undefined;

  private constructor(node: TestNode, remote: FakeRemote, ids: FuzzIdentities, password: string) {
    this.node = node;
    this.remote = remote;
    this.#ids = ids;
    this.#password = password;
  }

  static async create(node: TestNode): Promise<FuzzWorld> {
    const remote = await FakeRemote.start(testKey(42, 'fuzz'));
    const { ids, password } = await buildIdentities(node, remote, 0);
    const world = new FuzzWorld(node, remote, ids, password);
    world.pdus = await PduFactory.load(node.clientUrl, ids, remote.key);
    return world;
  }

  get ids(): FuzzIdentities {
    return this.#ids;
  }

  signAsRemote(method: string, uri: string, content: unknown): string {
    return this.#sign(method, uri, content, this.remote.key);
  }

  signWithUnknownKey(method: string, uri: string, content: unknown): string {
    return this.#sign(method, uri, content, this.#unpublishedKey);
  }

  #sign(method: string, uri: string, content: unknown, key: SigningKey): string {
    const parts = { method, uri, origin: this.remote.serverName, destination: this.node.serverName };
    try {
      return signRequest({ ...parts, content: toJsonContent(content) }, key);
    } catch {
      // Content canonical JSON refuses (a lone surrogate, say): sign without it; the node
      // must then refuse the signature, which is what such a request deserves.
      return signRequest({ ...parts, content: undefined }, key);
    }
  }

  /**
   * Repairs the world after a destructive request: logs in again when the token died
   * (logout), rejoins when the user left the room, and builds a fresh user and room only
   * when that fails (deactivated, locked, banned).
   */
  async ensureHealthy(): Promise<void> {
    let ids = this.#ids;
    const client = this.node.clientUrl;
    const whoami = await request(`${client}/_matrix/client/v3/account/whoami`, { headers: { authorization: `Bearer ${ids.accessToken}` } });
    if (whoami.status !== 200) {
      const login = await request(`${client}/_matrix/client/v3/login`, {
        method: 'POST',
        body: { type: 'm.login.password', identifier: { type: 'm.id.user', user: ids.userId }, password: this.#password },
      });
      const session = login.body as { access_token?: unknown; device_id?: unknown } | undefined;
      if (login.status !== 200 || typeof session?.access_token !== 'string' || typeof session.device_id !== 'string') return this.#rebuild();
      ids = { ...ids, accessToken: session.access_token, deviceId: session.device_id };
      this.#ids = ids;
    }
    const headers = { authorization: `Bearer ${ids.accessToken}` };
    const roomPath = `${client}/_matrix/client/v3/rooms/${encodeURIComponent(ids.roomId)}`;
    const members = await request(`${roomPath}/joined_members`, { headers });
    const joined = members.status === 200 && typeof (members.body as { joined?: Record<string, unknown> }).joined?.[ids.userId] === 'object';
    if (joined) return;
    const rejoin = await request(`${roomPath}/join`, { method: 'POST', headers, body: {} });
    if (rejoin.status !== 200) return this.#rebuild();
  }

  async #rebuild(): Promise<void> {
    this.#generation++;
    this.rebuilds++;
    ({ ids: this.#ids, password: this.#password } = await buildIdentities(this.node, this.remote, this.#generation));
    this.pdus = await PduFactory.load(this.node.clientUrl, this.#ids, this.remote.key);
  }

  async close(): Promise<void> {
    await this.remote.close();
  }
}

async function buildIdentities(node: TestNode, remote: FakeRemote, generation: number): Promise<{ ids: FuzzIdentities; password: string }> {
  const suffix = `${generation}${Math.floor(Math.random() * 1e6)}`;
  const user = await registerUser(node, `fuzzer${suffix}`);
  const other = await registerUser(node, `other${suffix}`);
  const headers = { authorization: `Bearer ${user.accessToken}` };
  const aliasLocalpart = `fuzzroom${suffix}`;
  const created = await request(`${node.clientUrl}/_matrix/client/v3/createRoom`, {
    method: 'POST',
    headers,
    body: { preset: 'public_chat', room_alias_name: aliasLocalpart, name: 'fuzz', topic: 'fuzz' },
  });
  const roomId = (created.body as { room_id?: unknown } | undefined)?.room_id;
  if (created.status !== 200 || typeof roomId !== 'string') throw new Error(`fuzz world: createRoom answered ${created.status} ${created.text}`);
  const joined = await request(`${node.clientUrl}/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/join`, {
    method: 'POST',
    headers: { authorization: `Bearer ${other.accessToken}` },
    body: {},
  });
  if (joined.status !== 200) throw new Error(`fuzz world: join answered ${joined.status} ${joined.text}`);
  const sent = await request(`${node.clientUrl}/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/world${suffix}`, {
    method: 'PUT',
    headers,
    body: { msgtype: 'm.text', body: 'hello fuzz' },
  });
  const eventId = (sent.body as { event_id?: unknown } | undefined)?.event_id;
  if (sent.status !== 200 || typeof eventId !== 'string') throw new Error(`fuzz world: send answered ${sent.status} ${sent.text}`);
  const ids: FuzzIdentities = {
    serverName: node.serverName,
    userId: user.userId,
    accessToken: user.accessToken,
    deviceId: user.deviceId,
    otherUserId: other.userId,
    roomId,
    roomAlias: `#${aliasLocalpart}:${node.serverName}`,
    eventId,
    remoteServerName: remote.serverName,
  };
  return { ids, password: user.password };
}
