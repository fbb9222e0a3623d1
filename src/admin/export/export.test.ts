// The audit export end to end (issue 8, items 1–2): a room built through the roomserver —
// local and remote senders, edits, redactions, state changes, rejected and soft-failed
// events — exported, verified offline, then tampered with in each way the issue lists.
// Events, hashes and signatures: server-server API § "Signing Events"; event IDs: rooms/v4+
// "Event IDs"; redaction: rooms/v11 "Redactions".

import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Roomserver } from '../../roomserver/roomserver.ts';
import { localRoomserver, RemoteServer, testKey, TestKeyring } from '../../roomserver/testing.ts';
import { describeEngines } from '../../storage/testing.ts';
import { FILES, type Manifest } from './bundle-format.ts';
import { exportCustodian, exportRoom, ExportError, type ExportDeps } from './exporter.ts';
import { ALICE, buildAuditRoom, BOB, type AuditRoom } from './testing.ts';
import { verifyExport, type ProblemCode, type VerifyReport } from './verifier.ts';

/** The issue asks for 10,000 events; CI builds 1,000 (STOA_EXPORT_TEST_EVENTS overrides). */
const ROOM_EVENTS = Number(process.env['STOA_EXPORT_TEST_EVENTS'] ?? 1000);

let work = '';
before(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'stoa-export-'));
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

function codes(report: VerifyReport): Set<ProblemCode> {
  return new Set(report.problems.map((p) => p.code));
}

function problemText(report: VerifyReport): string {
  return report.problems.map((p) => `${p.code} line ${p.line ?? '-'} ${p.eventId ?? ''}: ${p.message}`).join('\n');
}

async function readLines(dir: string): Promise<string[]> {
  return (await readFile(path.join(dir, FILES.events), 'utf8')).split('\n').filter((l) => l !== '');
}

async function tamperedCopy(source: string, name: string, edit: (dir: string) => Promise<void>): Promise<string> {
  const dir = path.join(work, name);
  await cp(source, dir, { recursive: true });
  await edit(dir);
  return dir;
}

async function rewriteEvents(dir: string, change: (lines: string[]) => string[]): Promise<void> {
  await writeFile(path.join(dir, FILES.events), change(await readLines(dir)).map((l) => `${l}\n`).join(''));
}

describeEngines('export-room and verify-export', (getDb) => {
  const keyring = new TestKeyring();
  const remote = new RemoteServer('remote.test', testKey(2));
  keyring.add(remote.serverName, remote.key);
  let rs: Roomserver;
  let room: AuditRoom;
  let deps: ExportDeps;
  let bundle = '';
  let manifest: Manifest;

  before(async () => {
    rs = localRoomserver(getDb(), keyring);
    room = await buildAuditRoom(getDb(), rs, remote, ROOM_EVENTS);
    deps = {
      db: getDb(),
      serverName: 'local.test',
      signingKey: testKey(1),
      stateBefore: (eventId) => rs.stateAt(eventId, 'before'),
      clock: () => 1_750_000_000_000,
    };
    bundle = path.join(work, `bundle-${Math.random().toString(36).slice(2)}`);
    manifest = (await exportRoom(deps, { roomId: room.roomId, outDir: bundle, pageSize: 97 })).manifest;
  });

  test('the bundle holds every event, as stored, with the manifest counts and statuses', async () => {
    const lines = await readLines(bundle);
    assert.equal(lines.length, room.eventCount);
    assert.equal(manifest.counts.events, room.eventCount);
    assert.equal(manifest.counts.rejected, 1);
    assert.equal(manifest.counts.soft_failed, 1);
    assert.equal(manifest.counts.redacted, room.redactedIds.length);
    assert.ok(room.redactedIds.length > 0 && room.remoteMessageIds.length > 0);
    assert.deepEqual(manifest.boundary_events, [], 'a whole-room export has no boundary');
    assert.equal(manifest.scope.room_id, room.roomId);
    assert.equal(manifest.encryption.encrypted, false);
    assert.equal(manifest.counts.servers, 2);

    const byId = new Map(lines.map((l) => [JSON.parse(l).event_id as string, l]));
    // Exactly as stored: the line's pdu is the stored JSON text.
    for (const id of [room.remoteMessageIds[0] ?? '', room.rejectedId, room.softFailedId]) {
      const stored = await rs.event(id, 'stored');
      assert.ok(stored !== undefined);
      assert.deepEqual(JSON.parse(byId.get(id) ?? '{}').pdu, stored.json);
    }
    const rejected = JSON.parse(byId.get(room.rejectedId) ?? '{}');
    assert.ok(typeof rejected.rejected_reason === 'string' && rejected.rejected_reason !== '');
    assert.equal(JSON.parse(byId.get(room.softFailedId) ?? '{}').soft_failed, true);
    // A redacted event keeps its original content, marked with the redaction.
    const redacted = JSON.parse(byId.get(room.redactedIds[0] ?? '') ?? '{}');
    assert.match(redacted.pdu.content.body, /message/);
    assert.match(redacted.redacted_by, /^\$/);

    const keys = JSON.parse(await readFile(path.join(bundle, FILES.keys), 'utf8'));
    assert.equal(keys.servers['remote.test'][remote.key.keyId].key, remote.key.publicKeyBase64);
    assert.equal(keys.servers['local.test'][testKey(1).keyId].source, 'own');

    const html = await readFile(path.join(bundle, FILES.transcript), 'utf8');
    assert.match(html, /Audit &#60;room&#62; &#38; &#34;friends&#34;/, 'the room name is escaped');
    assert.match(html, /&#60;b&#62;message&#60;\/b&#62;/, 'message bodies are escaped');
    assert.doesNotMatch(html, /<b>message/);
    assert.match(html, /\(edit of \$/);
    assert.match(html, /soft-failed/);
    assert.match(html, /bob says/);
  });

  test('an untouched bundle verifies, on worker threads and inline, with the manifest key pinned', async () => {
    const threaded = await verifyExport(bundle, { workers: 2 });
    assert.equal(threaded.ok, true, problemText(threaded));
    assert.equal(threaded.stats.events, room.eventCount);
    assert.equal(threaded.stats.redactedOnReceipt, 1, 'the redacted copy stored on a hash mismatch is expected, not a problem');
    const pinned = await verifyExport(bundle, { workers: 0, expectKeys: [{ keyId: testKey(1).keyId, publicKey: testKey(1).publicKeyBase64 }] });
    assert.equal(pinned.ok, true, problemText(pinned));
    assert.equal(pinned.pinned, true);
    const wrongPin = await verifyExport(bundle, { workers: 0, expectKeys: [{ keyId: testKey(1).keyId, publicKey: testKey(7).publicKeyBase64 }] });
    assert.deepEqual([...codes(wrongPin)], ['pinned-key']);
  });

  test('one byte of an event changed: content hash failure naming the event, chain and file hash', async () => {
    const target = room.remoteMessageIds[1] ?? '';
    const dir = await tamperedCopy(bundle, 'byte', (d) =>
      rewriteEvents(d, (lines) => lines.map((l) => (l.includes(`"event_id":"${target}"`) ? l.replace('bob says', 'bob sayz') : l))),
    );
    const report = await verifyExport(dir, { workers: 0 });
    assert.equal(report.ok, false);
    const hash = report.problems.find((p) => p.code === 'content-hash');
    assert.equal(hash?.eventId, target);
    assert.match(hash?.message ?? '', /content hash mismatch/);
    assert.ok(codes(report).has('chain'));
    assert.ok(codes(report).has('file-hash'));
    assert.equal(report.problems.filter((p) => p.code === 'content-hash').length, 1);

    // A byte outside the content: the recomputed ID and the signature both fail.
    const tsDir = await tamperedCopy(bundle, 'byte-ts', (d) =>
      rewriteEvents(d, (lines) =>
        lines.map((l) => (l.includes(`"event_id":"${target}"`) ? l.replace(/"origin_server_ts":(\d)/, (_m, digit: string) => `"origin_server_ts":${(Number(digit) + 1) % 10}`) : l)),
      ),
    );
    const tsReport = await verifyExport(tsDir, { workers: 0 });
    assert.equal(tsReport.problems.find((p) => p.code === 'event-id')?.eventId, target);
    assert.equal(tsReport.problems.find((p) => p.code === 'signature')?.eventId, target);
  });

  test('one line dropped: the chain, the count and the DAG gap name it', async () => {
    const dir = await tamperedCopy(bundle, 'drop', (d) => rewriteEvents(d, (lines) => lines.filter((_l, i) => i !== 40)));
    const report = await verifyExport(dir, { workers: 0 });
    const found = codes(report);
    assert.ok(found.has('chain') && found.has('count') && found.has('dag-missing-prev'), problemText(report));
    assert.match(report.problems.find((p) => p.code === 'count')?.message ?? '', /removed or added/);
  });

  test('two lines swapped: the chain and the order checks', async () => {
    const dir = await tamperedCopy(bundle, 'swap', (d) =>
      rewriteEvents(d, (lines) => {
        const copy = [...lines];
        [copy[30], copy[31]] = [copy[31] ?? '', copy[30] ?? ''];
        return copy;
      }),
    );
    const report = await verifyExport(dir, { workers: 0 });
    const found = codes(report);
    assert.ok(found.has('chain') && found.has('stream-order'), problemText(report));
    assert.ok(!found.has('content-hash') && !found.has('signature'), 'the events themselves are intact');
  });

  test('a line added or repeated: chain, count and duplicate', async () => {
    const dir = await tamperedCopy(bundle, 'dup', (d) => rewriteEvents(d, (lines) => [...lines, lines[10] ?? '']));
    const found = codes(await verifyExport(dir, { workers: 0 }));
    assert.ok(found.has('chain') && found.has('count') && found.has('duplicate'));
  });

  test("a key replaced in keys.json: the file hash and every signature of that server's events", async () => {
    const dir = await tamperedCopy(bundle, 'key', async (d) => {
      const file = path.join(d, FILES.keys);
      const keys = JSON.parse(await readFile(file, 'utf8'));
      keys.servers['remote.test'][remote.key.keyId].key = testKey(8).publicKeyBase64;
      await writeFile(file, JSON.stringify(keys));
    });
    const report = await verifyExport(dir, { workers: 0, maxProblems: 1_000_000 });
    assert.ok(codes(report).has('file-hash'));
    const failed = new Set(report.problems.filter((p) => p.code === 'signature').map((p) => p.eventId));
    for (const id of room.remoteMessageIds) assert.ok(failed.has(id), `signature of ${id} reported`);
    assert.ok(!failed.has(room.redactedIds[0]), 'local events still verify');
  });

  test('the manifest edited: its signature fails', async () => {
    const dir = await tamperedCopy(bundle, 'manifest', async (d) => {
      const file = path.join(d, FILES.manifest);
      const edited = JSON.parse(await readFile(file, 'utf8'));
      edited.counts.events -= 1;
      await writeFile(file, JSON.stringify(edited));
    });
    const report = await verifyExport(dir, { workers: 0 });
    const signature = report.problems.find((p) => p.code === 'manifest-signature');
    assert.match(signature?.message ?? '', /manifest was altered/);
    assert.ok(codes(report).has('count'));
  });

  test('a missing file and an unreadable manifest are reported, not thrown', async () => {
    const noKeys = await tamperedCopy(bundle, 'nokeys', (d) => rm(path.join(d, FILES.keys)));
    const report = await verifyExport(noKeys, { workers: 0 });
    assert.ok(codes(report).has('file-missing'));
    assert.ok(codes(report).has('no-key'));
    const noManifest = await tamperedCopy(bundle, 'nomanifest', (d) => writeFile(path.join(d, FILES.manifest), '{"format":'));
    assert.deepEqual([...codes(await verifyExport(noManifest, { workers: 0 }))], ['manifest']);
  });

  test('a time range exports the state at its start and declares its boundary', async () => {
    const lines = await readLines(bundle);
    const start = lines.slice(Math.floor(lines.length / 2)).map((l) => JSON.parse(l)).find((l) => l.pdu.sender === ALICE);
    const middle = start.pdu.origin_server_ts as number;
    const dir = path.join(work, `range-${Math.random().toString(36).slice(2)}`);
    const ranged = (await exportRoom(deps, { roomId: room.roomId, outDir: dir, sinceTs: middle })).manifest;
    assert.ok(ranged.counts.events > 0 && ranged.counts.events < room.eventCount);
    assert.ok(ranged.counts.state_events >= 6, 'create, members, power levels, join rules… at the start');
    assert.ok(ranged.boundary_events.length >= 1);
    const report = await verifyExport(dir, { workers: 0 });
    assert.equal(report.ok, true, problemText(report));
  });

  test('by custodian: one verified bundle per room of the user; bad requests are ExportErrors', async () => {
    const dir = path.join(work, `custodian-${Math.random().toString(36).slice(2)}`);
    const summaries = await exportCustodian(deps, { userId: BOB, outDir: dir });
    assert.ok(summaries.some((s) => s.manifest.scope.room_id === room.roomId));
    for (const summary of summaries) {
      assert.equal(summary.manifest.scope.custodian, BOB);
      assert.equal((await verifyExport(summary.dir, { workers: 0 })).ok, true);
    }
    await assert.rejects(exportRoom(deps, { roomId: '!nope:local.test', outDir: path.join(work, 'x') }), ExportError);
    await assert.rejects(exportRoom(deps, { roomId: room.roomId, outDir: bundle }), /not empty/);
    await assert.rejects(exportCustodian(deps, { userId: '@nobody:local.test', outDir: path.join(work, 'y') }), ExportError);
  });
});
