// `stoa export-room` and `stoa verify-export` as an operator runs them: real child
// processes, their exit statuses and output (issue 8 items 1–2).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { buildAuditRoom } from '../../admin/export/testing.ts';
import { FILES } from '../../admin/export/bundle-format.ts';
import { readRawEnvironment } from '../../config/env.ts';
import { formatSigningKeyFile } from '../../crypto/signing-key.ts';
import { localRoomserver, RemoteServer, testKey, TestKeyring } from '../../roomserver/testing.ts';
import { migrateToLatest, openDatabase } from '../../storage/index.ts';

const MAIN = fileURLToPath(new URL('../main.ts', import.meta.url));

function run(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(readRawEnvironment())) {
    if (value !== undefined && !name.startsWith('STOA_')) env[name] = value;
  }
  const child = spawn(process.execPath, [MAIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('stoa export-room / verify-export', () => {
  let dir = '';
  let configFile = '';
  let roomId = '';

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'stoa-export-cli-'));
    const key = testKey(1);
    await writeFile(path.join(dir, 'signing.key'), formatSigningKeyFile([key]));
    configFile = path.join(dir, 'homeserver.yaml');
    await writeFile(
      configFile,
      `server_name: local.test\nlog_level: warn\nsigning_key_path: ${path.join(dir, 'signing.key')}\ndatabase:\n  engine: pglite\n  path: ${path.join(dir, 'db')}\n`,
    );
    const db = await openDatabase({ engine: 'pglite', path: path.join(dir, 'db') });
    try {
      const report = await migrateToLatest(db);
      if (report.error !== undefined) throw report.error;
      const keyring = new TestKeyring();
      const remote = new RemoteServer('remote.test', testKey(2));
      keyring.add(remote.serverName, remote.key);
      roomId = (await buildAuditRoom(db, localRoomserver(db, keyring), remote, 60)).roomId;
    } finally {
      await db.close();
    }
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('exports a room, verifies it (exit 0), and fails a tampered copy (exit 1)', async () => {
    const out = path.join(dir, 'bundle');
    const exported = await run(['export-room', '--config', configFile, '--room', roomId, '--out', out]);
    assert.equal(exported.code, 0, exported.stderr);
    assert.match(exported.stdout, /^exported 60 events and 0 state events of /);
    const pin = /--expect-key (\S+)/.exec(exported.stdout)?.[1];
    assert.equal(pin, `${testKey(1).keyId}=${testKey(1).publicKeyBase64}`);

    const verified = await run(['verify-export', out, '--expect-key', pin ?? '']);
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
    assert.match(verified.stdout, /^VERIFIED: /m);
    assert.match(verified.stdout, /signed by the key you pinned/);
    const unpinned = await run(['verify-export', out, '--workers', '0']);
    assert.equal(unpinned.code, 0);
    assert.match(unpinned.stdout, /not pinned .*proves the bundle is intact and self-consistent, not who exported it/);

    const events = path.join(out, FILES.events);
    const lines = (await readFile(events, 'utf8')).split('\n');
    await writeFile(events, [lines[0], lines[2], lines[1], ...lines.slice(3)].join('\n'));
    const tampered = await run(['verify-export', out]);
    assert.equal(tampered.code, 1);
    assert.match(tampered.stdout, /^FAILED: \d+ problems found/m);
    assert.match(tampered.stdout, /\[chain\] events\.jsonl: the hash chain/);
    assert.match(tampered.stdout, /\[stream-order\] events\.jsonl line 3 /);
  });

  test('--archive writes the bundle as one .tar; verify-export checks the archive (exit 0) and a damaged one (exit 1)', async () => {
    const archive = path.join(dir, 'room.tar');
    const exported = await run(['export-room', '--config', configFile, '--room', roomId, '--archive', archive]);
    assert.equal(exported.code, 0, exported.stderr);
    assert.match(exported.stdout, /^exported 60 events and 0 state events of /);
    const verified = await run(['verify-export', archive]);
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
    assert.match(verified.stdout, /^VERIFIED: /m);

    const bytes = await readFile(archive);
    const at = bytes.indexOf('"stream_ordering":', bytes.indexOf('"stream_ordering":') + 1);
    bytes[at + 18] = bytes[at + 18] === 0x31 ? 0x32 : 0x31;
    const damaged = path.join(dir, 'damaged.tar');
    await writeFile(damaged, bytes);
    const failed = await run(['verify-export', damaged]);
    assert.equal(failed.code, 1, failed.stdout);
    assert.match(failed.stdout, /^FAILED: /m);
    const notTar = path.join(dir, 'not.tar');
    await writeFile(notTar, 'hello');
    const unreadable = await run(['verify-export', notTar]);
    assert.equal(unreadable.code, 1);
    const both = await run(['export-room', '--config', configFile, '--room', roomId, '--archive', archive, '--out', dir]);
    assert.equal(both.code, 2);
  });

  test('a custodian export writes one bundle per room; verify-export checks them all', async () => {
    const out = path.join(dir, 'custodian');
    const exported = await run(['export-room', '--config', configFile, '--user', '@alice:local.test', '--out', out, '--since', '2000-01-01']);
    assert.equal(exported.code, 0, exported.stderr);
    const verified = await run(['verify-export', out]);
    assert.equal(verified.code, 0, verified.stdout);
    assert.match(verified.stdout, /custodian @alice:local\.test/);
  });

  test('every export (folder, archive, custodian) is in the audit log; verify-audit-log finds an altered entry (exit 1)', async () => {
    const intact = await run(['verify-audit-log', '--config', configFile]);
    assert.equal(intact.code, 0, intact.stdout + intact.stderr);
    assert.match(intact.stdout, /^VERIFIED: 3 audit log entries, chain intact; head 3:[0-9a-f]{64}/);
    const head = /head (\S+)/.exec(intact.stdout)?.[1] ?? '';
    const db = await openDatabase({ engine: 'pglite', path: path.join(dir, 'db') });
    try {
      const first = await db.kysely.selectFrom('admin_audit_log').selectAll().where('seq', '=', 1).executeTakeFirstOrThrow();
      assert.equal(first.action, 'export-room');
      assert.equal(first.target, roomId);
      assert.match(first.origin, /^cli@/);
      await db.kysely.updateTable('admin_audit_log').set({ target: '!another:local.test' }).where('seq', '=', 1).execute();
    } finally {
      await db.close();
    }
    const altered = await run(['verify-audit-log', '--config', configFile, '--expect-head', head]);
    assert.equal(altered.code, 1);
    assert.match(altered.stdout, /entry 1: the entry was altered/);
  });

  test('bad command lines exit 2 with the usage; an unknown room exits 1', async () => {
    const both = await run(['export-room', '--config', configFile, '--room', roomId, '--user', '@a:b', '--out', path.join(dir, 'x')]);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /^stoa: export-room: give either --room ROOM_ID or --user USER_ID\nUsage:/);
    const badTime = await run(['export-room', '--config', configFile, '--room', roomId, '--out', path.join(dir, 'x'), '--since', 'yesterday']);
    assert.equal(badTime.code, 2);
    const badPin = await run(['verify-export', path.join(dir, 'bundle'), '--expect-key', 'abc']);
    assert.equal(badPin.code, 2);
    assert.match(badPin.stderr, /--expect-key must look like ed25519:KEYID=BASE64/);
    const noBundle = await run(['verify-export', path.join(dir, 'nothing-here')]);
    assert.equal(noBundle.code, 1);
    const unknown = await run(['export-room', '--config', configFile, '--room', '!missing:local.test', '--out', path.join(dir, 'y')]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /^stoa: export failed: unknown room !missing:local\.test/);
  });
});
