// Interop with `synadm` (Debian's package), the admin CLI written for Synapse's admin API
// (issue 8's acceptance: "synadm lists users and rooms against Stoa"). Runs the real CLI
// against a Stoa node with an admin's token and checks what it prints (JSON output).
// Skips, with the reason, when synadm is not installed; `.ci/run` installs it with apt.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { request } from '../rig/http.ts';
import { startNodes, stopNodes, type TestNode } from '../rig/nodes.ts';
import { registerUser, type RegisteredUser } from '../rig/users.ts';

const run = promisify(execFile);
const SYNADM = '/usr/bin/synadm';
const unavailable = await run(SYNADM, ['--help']).then(
  () => false as const,
  () => 'synadm is not installed (apt-get install synadm)',
);

describe('synadm (Synapse admin CLI) against Stoa', { skip: unavailable }, () => {
  let node: TestNode;
  let admin: RegisteredUser;
  let folder: string;
  let config: string;
  let roomId: string;

  async function synadm(...args: string[]): Promise<unknown> {
    const { stdout } = await run(SYNADM, ['--batch', '-o', 'json', '-c', config, ...args], { timeout: 60_000 });
    return JSON.parse(stdout) as unknown;
  }

  before(async () => {
    [node] = (await startNodes(1)) as [TestNode];
    admin = await registerUser(node, 'operator', { admin: true });
    await registerUser(node, 'worker', { displayName: 'Worker Bee' });
    const created = await request(`${node.clientUrl}/_matrix/client/v3/createRoom`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin.accessToken}` },
      body: { name: 'Operations', preset: 'private_chat' },
    });
    roomId = String((created.body as { room_id: string }).room_id);
    folder = await mkdtemp(join(tmpdir(), 'stoa-synadm-'));
    config = join(folder, 'synadm.yaml');
    await writeFile(
      config,
      [
        `user: "${admin.userId}"`,
        `token: "${admin.accessToken}"`,
        `base_url: "${node.clientUrl}"`,
        `admin_path: /_synapse/admin`,
        `matrix_path: /_matrix`,
        `timeout: 30`,
        `homeserver: "${node.serverName}"`,
        `format: json`,
        '',
      ].join('\n'),
    );
  });

  after(async () => {
    await stopNodes(node === undefined ? [] : [node]);
    if (folder !== undefined) await rm(folder, { recursive: true, force: true });
  });

  test('synadm version reads /_synapse/admin/v1/server_version', async () => {
    const version = (await synadm('version')) as { server_version?: unknown };
    assert.equal(typeof version.server_version, 'string');
  });

  test('synadm user list shows the accounts', async () => {
    const listed = (await synadm('user', 'list')) as { users: Array<{ name: string; admin: boolean | number }>; total: number };
    const names = listed.users.map((u) => u.name).sort();
    assert.ok(names.includes(admin.userId) && names.includes(`@worker:${node.serverName}`), names.join(', '));
    assert.ok(listed.total >= 2);
  });

  test('synadm user details shows one account', async () => {
    const details = (await synadm('user', 'details', `@worker:${node.serverName}`)) as { name: string; displayname?: string; deactivated: boolean | number };
    assert.equal(details.name, `@worker:${node.serverName}`);
    assert.equal(details.displayname, 'Worker Bee');
  });

  test('synadm room list and room details show the room', async () => {
    const rooms = (await synadm('room', 'list')) as { rooms: Array<{ room_id: string; name: string | null }> };
    assert.ok(rooms.rooms.some((r) => r.room_id === roomId && r.name === 'Operations'), JSON.stringify(rooms.rooms));
    const details = (await synadm('room', 'details', roomId)) as { room_id: string; joined_members: number };
    assert.equal(details.room_id, roomId);
    assert.equal(details.joined_members, 1);
  });
});
