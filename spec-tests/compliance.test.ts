// Compliance on a real node (issue 8 items 1, 3, 4 and 7): legal holds, message retention
// (m.room.retention, MSC1763 as Synapse implements it: docs/message_retention_policies.md),
// activity reports and the audit export as one archive through the admin API. These are
// Stoa's own admin endpoints (`/_stoa/admin/v1/...`): no OpenAPI in the Matrix spec, so
// shapes are checked field by field; errors with the spec's standard error response
// (client-server § "Standard error response"); client calls against the spec's OpenAPI.

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { clientCalls, ok } from './rig/client-calls.ts';
import { request } from './rig/http.ts';
import { startComplianceNode } from './rig/compliance-node.ts';
import { runStoaCommand, stopNodes, type TestNode } from './rig/nodes.ts';
import { expectMatrixError, expectSpecResponse } from './rig/openapi.ts';
import type { RegisteredUser } from './rig/users.ts';

type Json = Record<string, unknown>;

let node: TestNode;
let admin: RegisteredUser;
let officer: RegisteredUser;
let alice: RegisteredUser;
let bob: RegisteredUser;
let work = '';
const enc = encodeURIComponent;
const { call, createRoom, send, nextTxnId } = clientCalls(() => node.clientUrl, { txnPrefix: 'c' });

async function event(user: RegisteredUser, roomId: string, eventId: string): Promise<Json> {
  const res = await call(user, 'GET', `/_matrix/client/v3/rooms/${enc(roomId)}/event/${enc(eventId)}`);
  expectSpecResponse(res, 'getOneRoomEvent');
  return res.body as Json;
}
async function auditActions(): Promise<Json[]> {
  const page = await ok(call(admin, 'GET', '/_stoa/admin/v1/audit_log?from=0&limit=1000'));
  return page['entries'] as Json[];
}
function expectHold(value: unknown): asserts value is Json {
  const hold = value as Json;
  for (const key of ['id', 'scope', 'target', 'reason', 'created_by']) assert.equal(typeof hold[key], 'string', key);
  assert.equal(typeof hold['created_ts'], 'number');
  assert.equal(typeof hold['active'], 'boolean');
  assert.ok(hold['released_ts'] === null || typeof hold['released_ts'] === 'number');
}

before(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'stoa-compliance-'));
  ({ node, admin, officer, alice, bob } = await startComplianceNode());
});
after(async () => {
  await stopNodes([node]);
  await rm(work, { recursive: true, force: true });
});

describe('legal holds', () => {
  test('POST/GET /_stoa/admin/v1/legal_holds: only the compliance role creates and releases; every change is audit-logged', async () => {
    const roomId = await createRoom(alice, { preset: 'public_chat' });
    const body = { scope: 'room', target: roomId, reason: 'case 2026-17' };
    expectMatrixError(await call(alice, 'POST', '/_stoa/admin/v1/legal_holds', body), 403, 'M_FORBIDDEN');
    expectMatrixError(await call(admin, 'POST', '/_stoa/admin/v1/legal_holds', body), 403, 'M_FORBIDDEN');
    expectMatrixError(await call(undefined, 'POST', '/_stoa/admin/v1/legal_holds', body), 401, 'M_MISSING_TOKEN');
    expectMatrixError(await call(officer, 'POST', '/_stoa/admin/v1/legal_holds', { ...body, scope: 'planet' }), 400, 'M_INVALID_PARAM');
    expectMatrixError(await call(officer, 'POST', '/_stoa/admin/v1/legal_holds', { ...body, target: 'not-a-room' }), 400, 'M_INVALID_PARAM');
    expectMatrixError(await call(officer, 'POST', '/_stoa/admin/v1/legal_holds', { ...body, reason: '  ' }), 400, 'M_INVALID_PARAM');
    expectMatrixError(await call(officer, 'POST', '/_stoa/admin/v1/legal_holds', { scope: 'room', target: roomId }), 400, 'M_BAD_JSON');

    const hold = await ok(call(officer, 'POST', '/_stoa/admin/v1/legal_holds', body));
    expectHold(hold);
    assert.deepEqual([hold['scope'], hold['target'], hold['reason'], hold['created_by'], hold['active']], ['room', roomId, 'case 2026-17', officer.userId, true]);

    const list = await ok(call(admin, 'GET', '/_stoa/admin/v1/legal_holds'));
    assert.ok((list['legal_holds'] as Json[]).some((h) => h['id'] === hold['id']), 'admins list holds');
    const one = await ok(call(officer, 'GET', `/_stoa/admin/v1/legal_holds/${enc(hold['id'] as string)}`));
    assert.equal(one['id'], hold['id']);
    expectMatrixError(await call(officer, 'GET', '/_stoa/admin/v1/legal_holds/hold_nope'), 404, 'M_NOT_FOUND');
    expectMatrixError(await call(alice, 'GET', '/_stoa/admin/v1/legal_holds'), 403, 'M_FORBIDDEN');

    expectMatrixError(await call(admin, 'POST', `/_stoa/admin/v1/legal_holds/${enc(hold['id'] as string)}/release`, {}), 403, 'M_FORBIDDEN');
    const released = await ok(call(officer, 'POST', `/_stoa/admin/v1/legal_holds/${enc(hold['id'] as string)}/release`, { reason: 'case closed' }));
    expectHold(released);
    assert.equal(released['active'], false);
    assert.equal(released['released_by'], officer.userId);
    const again = await call(officer, 'POST', `/_stoa/admin/v1/legal_holds/${enc(hold['id'] as string)}/release`, {});
    assert.equal(again.status, 409);
    const active = await ok(call(officer, 'GET', `/_stoa/admin/v1/legal_holds?target=${enc(roomId)}`));
    assert.deepEqual(active['legal_holds'], [], 'released holds are listed only when asked');
    const all = await ok(call(officer, 'GET', `/_stoa/admin/v1/legal_holds?target=${enc(roomId)}&include_released=true`));
    assert.equal((all['legal_holds'] as Json[]).length, 1);

    const entries = await auditActions();
    const created = entries.find((e) => e['action'] === 'legal-hold-create' && e['target'] === roomId);
    const release = entries.find((e) => e['action'] === 'legal-hold-release' && e['target'] === roomId);
    assert.equal(created?.['actor'], officer.userId);
    assert.equal((created?.['details'] as Json)['reason'], 'case 2026-17');
    assert.equal((release?.['details'] as Json)['reason'], 'case closed');
  });
});

describe('retention and legal hold', () => {
  let openRoom = '';
  let heldRoom = '';
  let openOld: string[] = [];
  let heldOld = '';
  let redactedHeld = '';

  test('m.room.retention: the purge removes expired messages\' content, not state, not the latest event, nothing held', async () => {
    // max_lifetime 1 ms: everything but the room's latest event has expired by the purge.
    const retention = { type: 'm.room.retention', state_key: '', content: { max_lifetime: 1 } };
    openRoom = await createRoom(alice, { preset: 'public_chat', name: 'Open', initial_state: [retention] });
    heldRoom = await createRoom(alice, { preset: 'public_chat', name: 'Held', initial_state: [retention] });
    openOld = [await send(alice, openRoom, { msgtype: 'm.text', body: 'open 1' }), await send(alice, openRoom, { msgtype: 'm.text', body: 'open 2' })];
    const openLatest = await send(alice, openRoom, { msgtype: 'm.text', body: 'open latest' });
    heldOld = await send(alice, heldRoom, { msgtype: 'm.text', body: 'held 1' });
    redactedHeld = await send(alice, heldRoom, { msgtype: 'm.text', body: 'regrettable' });
    const redaction = await call(alice, 'PUT', `/_matrix/client/v3/rooms/${enc(heldRoom)}/redact/${enc(redactedHeld)}/${nextTxnId('r')}`, {});
    expectSpecResponse(redaction, 'redactEvent');
    await send(alice, heldRoom, { msgtype: 'm.text', body: 'held latest' });
    await ok(call(officer, 'POST', '/_stoa/admin/v1/legal_holds', { scope: 'room', target: heldRoom, reason: 'preserve' }));

    expectMatrixError(await call(officer, 'POST', '/_stoa/admin/v1/retention/purge', {}), 403, 'M_FORBIDDEN');
    const summary = await ok(call(admin, 'POST', '/_stoa/admin/v1/retention/purge', {}));
    assert.equal(typeof summary['expired_events'], 'number');
    assert.equal((summary['rooms'] as Json)[openRoom], 2, 'the two old messages of the open room');
    assert.equal((summary['rooms'] as Json)[heldRoom], undefined, 'nothing of the held room');

    for (const id of openOld) assert.deepEqual((await event(alice, openRoom, id))['content'], {}, 'content purged');
    assert.equal(((await event(alice, openRoom, openLatest))['content'] as Json)['body'], 'open latest');
    assert.equal(((await event(alice, heldRoom, heldOld))['content'] as Json)['body'], 'held 1', 'held room kept');
    assert.deepEqual((await event(alice, heldRoom, redactedHeld))['content'], {}, 'a redaction still hides content from clients');
    const state = await call(alice, 'GET', `/_matrix/client/v3/rooms/${enc(openRoom)}/state/m.room.name/`);
    expectSpecResponse(state, 'getRoomStateWithKey');
    assert.equal((state.body as Json)['name'], 'Open', 'state is never purged');

    const purged = await ok(call(officer, 'GET', `/_stoa/admin/v1/retention/purged?room_id=${enc(openRoom)}`));
    assert.deepEqual((purged['purged_events'] as Json[]).map((p) => p['event_id']).sort(), [...openOld].sort());
    assert.ok((purged['purged_events'] as Json[]).every((p) => p['reason'] === 'retention' && /^[0-9a-f]{64}$/.test(p['original_sha256'] as string)));
    assert.ok((await auditActions()).some((e) => e['action'] === 'retention-purge' && e['actor'] === 'system:retention'));
  });

  test('GET /_stoa/admin/v1/rooms/{roomId}/export: a tar archive that verifies offline, with a held redacted event\'s original content', async () => {
    expectMatrixError(await call(alice, 'GET', `/_stoa/admin/v1/rooms/${enc(heldRoom)}/export`), 403, 'M_FORBIDDEN');
    expectMatrixError(await call(officer, 'GET', `/_stoa/admin/v1/rooms/${enc('!nope:example.org')}/export`), 404, 'M_NOT_FOUND');
    expectMatrixError(await call(officer, 'GET', `/_stoa/admin/v1/rooms/${enc(heldRoom)}/export?since=yesterday`), 400, 'M_INVALID_PARAM');
    const response = await fetch(`${node.clientUrl}/_stoa/admin/v1/rooms/${enc(heldRoom)}/export`, { headers: { Authorization: `Bearer ${officer.accessToken}` } });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-type'), 'application/x-tar');
    const bytes = Buffer.from(await response.arrayBuffer());
    assert.equal(bytes.length, Number(response.headers.get('content-length')));
    const archive = path.join(work, 'held.tar');
    await writeFile(archive, bytes);
    const verified = await runStoaCommand(['verify-export', archive]);
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
    assert.match(verified.stdout, /VERIFIED/);

    const out = path.join(work, 'held');
    execFileSync('mkdir', ['-p', out]);
    execFileSync('tar', ['-xf', archive, '-C', out]);
    const lines = readFileSync(path.join(out, 'events.jsonl'), 'utf8').split('\n').filter((l) => l !== '');
    const line = JSON.parse(lines.find((l) => l.includes(redactedHeld)) ?? '{}') as Json;
    assert.equal(typeof line['redacted_by'], 'string');
    assert.equal(((line['pdu'] as Json)['content'] as Json)['body'], 'regrettable', 'the original is kept for export under hold');
    const entry = (await auditActions()).find((e) => e['action'] === 'export-room' && e['target'] === heldRoom);
    assert.equal(entry?.['actor'], officer.userId);
    assert.equal((entry?.['details'] as Json)['chain_head'], response.headers.get('x-stoa-export-chain-head'));

    // The open room's purged events verify too (stored as their redacted form).
    const openTar = await fetch(`${node.clientUrl}/_stoa/admin/v1/rooms/${enc(openRoom)}/export`, { headers: { Authorization: `Bearer ${admin.accessToken}` } });
    const openArchive = path.join(work, 'open.tar');
    await writeFile(openArchive, Buffer.from(await openTar.arrayBuffer()));
    const openVerified = await runStoaCommand(['verify-export', openArchive]);
    assert.equal(openVerified.code, 0, openVerified.stdout + openVerified.stderr);
  });
});

describe('activity reports', () => {
  const DAY_FIELDS = ['messages', 'active_users', 'media_uploads', 'media_bytes'];

  test('GET /_stoa/admin/v1/reports/server and /reports/rooms/{roomId}: JSON and CSV', async () => {
    const roomId = await createRoom(alice, { preset: 'public_chat' });
    const join = await call(bob, 'POST', `/_matrix/client/v3/join/${enc(roomId)}`, {});
    expectSpecResponse(join, 'joinRoomById');
    await send(alice, roomId, { msgtype: 'm.text', body: 'question?' });
    await send(bob, roomId, { msgtype: 'm.text', body: 'answer' });
    await send(alice, roomId, { msgtype: 'm.image', body: 'pic.png', url: 'mxc://example.org/abc', info: { size: 1234, mimetype: 'image/png' } });

    const room = await ok(call(officer, 'GET', `/_stoa/admin/v1/reports/rooms/${enc(roomId)}`));
    assert.equal(room['scope'], 'room');
    assert.equal(room['room_id'], roomId);
    const days = room['days'] as Json[];
    assert.ok(days.length >= 30 && days.length <= 31, 'one row per day of the last 30 days');
    for (const day of days) {
      assert.match(day['date'] as string, /^\d{4}-\d{2}-\d{2}$/);
      for (const field of DAY_FIELDS) assert.equal(typeof day[field], 'number', field);
      assert.ok(day['median_response_ms'] === null || typeof day['median_response_ms'] === 'number');
    }
    const totals = room['totals'] as Json;
    assert.equal(totals['messages'], 3);
    assert.equal(totals['active_users'], 2);
    assert.equal(totals['responses'], 2, 'bob answered alice, alice answered bob');
    assert.equal(typeof totals['median_response_ms'], 'number');
    assert.equal(totals['media_uploads'], 1);
    assert.equal(totals['media_bytes'], 1234);

    const server = await ok(call(admin, 'GET', '/_stoa/admin/v1/reports/server'));
    assert.equal(server['scope'], 'server');
    assert.ok(((server['totals'] as Json)['messages'] as number) >= 3);

    const csv = await call(officer, 'GET', `/_stoa/admin/v1/reports/rooms/${enc(roomId)}?format=csv`);
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get('content-type') ?? '', /^text\/csv/);
    const rows = csv.text.trim().split('\r\n');
    assert.equal(rows[0], 'date,messages,active_users,median_response_ms,media_uploads,media_bytes');
    assert.match(rows.at(-1) ?? '', /^total,3,2,\d+(\.\d+)?,1,1234$/);

    const today = new Date().toISOString().slice(0, 10);
    const ranged = await ok(call(officer, 'GET', `/_stoa/admin/v1/reports/server?from=${today}&to=${Date.now() + 1000}`));
    assert.equal((ranged['days'] as Json[]).length, 1);

    expectMatrixError(await call(alice, 'GET', '/_stoa/admin/v1/reports/server'), 403, 'M_FORBIDDEN');
    expectMatrixError(await call(officer, 'GET', '/_stoa/admin/v1/reports/server?from=soon'), 400, 'M_INVALID_PARAM');
    expectMatrixError(await call(officer, 'GET', '/_stoa/admin/v1/reports/server?from=2000&to=1000'), 400, 'M_INVALID_PARAM');
    expectMatrixError(await call(officer, 'GET', '/_stoa/admin/v1/reports/server?format=xml'), 400, 'M_INVALID_PARAM');
    expectMatrixError(await call(officer, 'GET', `/_stoa/admin/v1/reports/rooms/${enc('!missing:example.org')}`), 404, 'M_NOT_FOUND');
  });
});

describe('export with media', () => {
  test('GET /_stoa/admin/v1/rooms/{roomId}/export?with_media=true: uploaded media is in the archive, listed by SHA-256', async () => {
    const upload = await request(`${node.clientUrl}/_matrix/media/v3/upload?filename=note.txt`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${alice.accessToken}`, 'Content-Type': 'text/plain' },
      body: 'evidence bytes',
    });
    expectSpecResponse(upload, 'uploadContent');
    const uri = (upload.body as Json)['content_uri'] as string;
    const roomId = await createRoom(alice, { preset: 'private_chat' });
    await send(alice, roomId, { msgtype: 'm.file', body: 'note.txt', url: uri, info: { size: 14, mimetype: 'text/plain' } });

    const response = await fetch(`${node.clientUrl}/_stoa/admin/v1/rooms/${enc(roomId)}/export?with_media=true`, { headers: { Authorization: `Bearer ${officer.accessToken}` } });
    assert.equal(response.status, 200);
    const archive = path.join(work, 'media.tar');
    await writeFile(archive, Buffer.from(await response.arrayBuffer()));
    const out = path.join(work, 'media');
    execFileSync('mkdir', ['-p', out]);
    execFileSync('tar', ['-xf', archive, '-C', out]);
    const manifest = JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8')) as Json;
    const files = (manifest['media'] as Json)['files'] as Json[];
    assert.equal(files.length, 1);
    assert.equal(files[0]?.['uri'], uri);
    assert.equal(readFileSync(path.join(out, 'media', files[0]?.['sha256'] as string), 'utf8'), 'evidence bytes');
    const verified = await runStoaCommand(['verify-export', archive]);
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
  });
});
