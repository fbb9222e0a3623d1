// The bundle format, the hash chain and the offline verifier on synthetic bundles (no
// database): rooms of several versions and servers, signed as the server-server API's
// "Signing Events" says, with event IDs per rooms/v1 ("event_id" field) and v4+ (reference
// hash), then tampered with.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { canonicalJson } from '../../rooms/canonical-json.ts';
import { testKey } from '../../roomserver/testing.ts';
import { FILES, formatEventLine, type ExportScope, type KeysFile } from './bundle-format.ts';
import { writeBundle } from './bundle-writer.ts';
import { EventIdSet } from './event-id-set.ts';
import { HashChain } from './hash-chain.ts';
import { syntheticRoomRows, type SyntheticRow } from './testing.ts';
import { escapeHtml } from './transcript.ts';
import { verifyExport } from './verifier.ts';

const HOME = { name: 'home.test', key: testKey(11) };
const PEER = { name: 'peer.test', key: testKey(12) };

let work = '';
before(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'stoa-verify-'));
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

async function* iterate<T>(items: Iterable<T>): AsyncGenerator<T> {
  yield* items;
}

function keysOf(servers: ReadonlyArray<{ name: string; key: typeof HOME.key }>): KeysFile {
  return {
    servers: Object.fromEntries(
      servers.map((s) => [s.name, { [s.key.keyId]: { key: s.key.publicKeyBase64, valid_until_ts: null, expired_ts: null, source: 'cache' as const } }]),
    ),
  };
}

let counter = 0;
async function bundleOf(rows: SyntheticRow[], overrides: { scope?: Partial<ExportScope>; keys?: KeysFile; roomId?: string } = {}) {
  const dir = path.join(work, `b${++counter}`);
  await import('node:fs/promises').then((fs) => fs.mkdir(dir));
  const create = JSON.parse(rows[0]?.json ?? '{}');
  const roomId = overrides.roomId ?? (create.room_id as string | undefined) ?? `!${rows[0]?.eventId.slice(1)}`;
  const manifest = await writeBundle({
    outDir: dir,
    serverName: HOME.name,
    signingKey: HOME.key,
    roomVersion: rows[0]?.roomVersion ?? '10',
    scope: { room_id: roomId, since_ts: null, until_ts: null, custodian: null, up_to_stream_ordering: rows.length, ...overrides.scope },
    exportedAt: 1_750_000_000_000,
    stateEvents: iterate([]),
    events: iterate(rows),
    keysFor: async () => overrides.keys ?? keysOf([HOME, PEER]),
  });
  return { dir, manifest };
}

describe('hash chain (bundle format stoa-export-v1)', () => {
  const scope: ExportScope = { room_id: '!r:x', since_ts: null, until_ts: null, custodian: null, up_to_stream_ordering: 9 };
  const sha = (...parts: (string | Buffer)[]): Buffer => {
    const hash = createHash('sha256');
    for (const part of parts) hash.update(part);
    return hash.digest();
  };

  test('h0 = sha256(format ‖ canonical scope), h_i = sha256(h_{i-1} ‖ sha256(line_i))', () => {
    const chain = new HashChain(scope);
    const h0 = sha(`stoa-export-v1${canonicalJson(scope)}`);
    assert.equal(chain.head, h0.toString('hex'));
    chain.push('first');
    chain.push(Buffer.from('second'));
    const h1 = sha(h0, sha('first'));
    assert.equal(chain.head, sha(h1, sha('second')).toString('hex'));
    assert.equal(chain.length, 2);
  });

  test('order, content and scope all change the head', () => {
    const head = (s: ExportScope, lines: string[]): string => {
      const chain = new HashChain(s);
      for (const line of lines) chain.push(line);
      return chain.head;
    };
    const base = head(scope, ['a', 'b']);
    assert.notEqual(head(scope, ['b', 'a']), base);
    assert.notEqual(head(scope, ['a', 'c']), base);
    assert.notEqual(head(scope, ['a']), base);
    assert.notEqual(head({ ...scope, up_to_stream_ordering: 10 }, ['a', 'b']), base);
  });

  test('a PDU stored with line breaks keeps its value on one line', () => {
    const line = formatEventLine(
      { event_id: '$e', stream_ordering: 1, outlier: false, rejected_reason: null, soft_failed: false, redacted_by: null, received_ts: 5 },
      '{\n  "type": "m.room.message",\r\n  "content": {"body": "a\\nb"}\n}',
    );
    assert.doesNotMatch(line, /[\r\n]/);
    assert.deepEqual(JSON.parse(line).pdu, { type: 'm.room.message', content: { body: 'a\nb' } });
  });

  test('the compact event ID set grows and answers like a Set', () => {
    const set = new EventIdSet();
    for (let i = 0; i < 5000; i++) assert.equal(set.add(`$event${i}`), true);
    assert.equal(set.size, 5000);
    assert.equal(set.add('$event123'), false);
    assert.equal(set.has('$event4999'), true);
    assert.equal(set.has('$event5000'), false);
  });

  test('transcript escaping covers the HTML metacharacters', () => {
    assert.equal(escapeHtml(`<script>alert("x")</script>&'`), '&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62;&#38;&#39;');
  });
});

describe('verify-export on synthetic bundles', () => {
  for (const version of ['1', '4', '10', '12']) {
    test(`room version ${version}: two servers' events verify; an edited body is caught by the content hash`, async () => {
      const rows = [...syntheticRoomRows({ roomVersion: version, events: 40, servers: [HOME, PEER] })];
      const { dir, manifest } = await bundleOf(rows);
      assert.equal(manifest.counts.events, 41);
      assert.equal(manifest.counts.servers, 2);
      const report = await verifyExport(dir, { workers: 0 });
      assert.equal(report.ok, true, JSON.stringify(report.problems));

      const target = rows[20];
      assert.ok(target !== undefined);
      const edited = rows.map((r) => (r === target ? { ...r, json: r.json.replace('message 20', 'message 2O') } : r));
      const tampered = await verifyExport((await bundleOf(edited)).dir, { workers: 0 });
      // Rebuilt bundles have a valid chain and manifest: only the event's own hashes can tell.
      assert.deepEqual(tampered.problems.map((p) => [p.code, p.eventId]), [['content-hash', target.eventId]]);
    });
  }

  test('an event signed with a key that is not in keys.json, or by an unknown server', async () => {
    const rows = [...syntheticRoomRows({ roomVersion: '10', events: 6, servers: [HOME, PEER] })];
    const report = await verifyExport((await bundleOf(rows, { keys: keysOf([HOME]) })).dir, { workers: 0 });
    assert.ok(report.problems.length > 0 && report.problems.every((p) => p.code === 'no-key'));
    assert.match(report.problems[0]?.message ?? '', /no key in keys\.json for the signature of peer\.test/);
    const impostor = await verifyExport((await bundleOf(rows, { keys: keysOf([HOME, { name: PEER.name, key: testKey(13) }]) })).dir, { workers: 0 });
    assert.ok(impostor.problems.every((p) => p.code === 'signature'));
  });

  test('scope: events of another room, after the end, or outside the time range', async () => {
    const rows = [...syntheticRoomRows({ roomVersion: '10', events: 10, servers: [HOME] })];
    const other = await verifyExport((await bundleOf(rows, { roomId: '!other:home.test' })).dir, { workers: 0 });
    assert.equal(other.problems.filter((p) => p.code === 'wrong-room').length, 11);
    const late = await verifyExport((await bundleOf(rows, { scope: { up_to_stream_ordering: 5 } })).dir, { workers: 0 });
    assert.equal(late.problems.filter((p) => p.code === 'out-of-scope').length, 6);
    const ts = JSON.parse(rows[4]?.json ?? '{}').origin_server_ts as number;
    const ranged = await verifyExport((await bundleOf(rows, { scope: { since_ts: ts } })).dir, { workers: 0 });
    assert.equal(ranged.problems.filter((p) => p.code === 'out-of-scope').length, 4);
  });

  test('an encrypted room says so in the manifest and exports ciphertext', async () => {
    const rows = [...syntheticRoomRows({ roomVersion: '12', events: 5, servers: [HOME], encrypted: true })];
    const { dir, manifest } = await bundleOf(rows);
    assert.equal(manifest.encryption.encrypted, true);
    assert.equal(manifest.encryption.algorithm, 'm.megolm.v1.aes-sha2');
    assert.match(manifest.encryption.note, /ciphertext and metadata/);
    assert.match(await readFile(path.join(dir, FILES.transcript), 'utf8'), /end-to-end encrypted: m\.megolm\.v1\.aes-sha2; ciphertext only/);
    assert.equal((await verifyExport(dir, { workers: 0 })).ok, true);
  });

  test('hostile bodies are escaped in the transcript and garbage lines are problems, not crashes', async () => {
    const rows = [...syntheticRoomRows({ roomVersion: '10', events: 3, servers: [HOME], body: () => '<img src=x onerror=alert(1)>' })];
    const { dir } = await bundleOf(rows);
    const html = await readFile(path.join(dir, FILES.transcript), 'utf8');
    assert.doesNotMatch(html, /<img/);
    const events = path.join(dir, FILES.events);
    await writeFile(events, `${await readFile(events, 'utf8')}not json\n{"event_id":"$x"}\n\n`);
    const report = await verifyExport(dir, { workers: 0 });
    assert.equal(report.problems.filter((p) => p.code === 'line-unreadable').length, 3);
    assert.ok(report.problems.some((p) => p.code === 'chain'));
  });

  test('a bundle of several read chunks: lines split between chunks verify, on a worker and inline; problems name their line', async () => {
    // ~700 bytes a line: some 1.3 MB, five of the verifier's 256 KB chunks.
    const rows = [...syntheticRoomRows({ roomVersion: '12', events: 1900, servers: [HOME, PEER] })];
    const { dir } = await bundleOf(rows);
    for (const workers of [0, 1]) {
      const report = await verifyExport(dir, { workers });
      assert.equal(report.ok, true, JSON.stringify(report.problems.slice(0, 3)));
      assert.equal(report.stats.events, 1901);
    }

    // Line 1,500 edited in place (past the fourth chunk boundary), and a line of 300 KB —
    // longer than a chunk — added without a final line break.
    const events = path.join(dir, FILES.events);
    const lines = (await readFile(events, 'utf8')).split('\n');
    lines[1499] = (lines[1499] ?? '').replace('message 1499', 'message l499');
    await writeFile(events, `${lines.join('\n')}${'x'.repeat(300_000)}`);
    for (const workers of [0, 1]) {
      const report = await verifyExport(dir, { workers });
      const found = report.problems.map((p) => [p.code, p.line]);
      assert.deepEqual(found.filter(([code]) => code === 'content-hash'), [['content-hash', 1500]]);
      assert.deepEqual(found.filter(([code]) => code === 'line-unreadable'), [['line-unreadable', 1902]]);
      assert.ok(report.problems.some((p) => p.code === 'chain'));
      assert.equal(report.stats.events, 1902);
    }
  });

  test('signatures: other algorithms are skipped, a malformed signature fails, an unsigned event names its server', async () => {
    const [create, ...rest] = [...syntheticRoomRows({ roomVersion: '10', events: 3, servers: [HOME] })];
    assert.ok(create !== undefined);
    const withSignatures = (row: SyntheticRow, edit: (mine: Record<string, string>) => void): SyntheticRow => {
      const pdu = JSON.parse(row.json) as { signatures: Record<string, Record<string, string>> };
      edit(pdu.signatures[HOME.name] ?? {});
      return { ...row, json: JSON.stringify(pdu) };
    };
    const rows = [
      create,
      withSignatures(rest[0] as SyntheticRow, (mine) => (mine['other:abc'] = 'not checked')),
      withSignatures(rest[1] as SyntheticRow, (mine) => (mine[HOME.key.keyId] = '!!not base64!!')),
      withSignatures(rest[2] as SyntheticRow, (mine) => delete mine[HOME.key.keyId]),
    ];
    // keys.json holds a key under the other algorithm's ID too: still not one to check.
    const keys = keysOf([HOME, PEER]);
    const home = keys.servers[HOME.name] ?? {};
    const withOther: KeysFile = { servers: { ...keys.servers, [HOME.name]: { ...home, 'other:abc': home[HOME.key.keyId] as KeysFile['servers'][string][string] } } };
    const report = await verifyExport((await bundleOf(rows, { keys: withOther })).dir, { workers: 0 });
    assert.deepEqual(
      report.problems.map((p) => [p.code, p.line]),
      [
        ['signature', 3],
        ['no-key', 4],
      ],
    );
  });

  test('problems beyond the limit are counted, not kept', async () => {
    const rows = [...syntheticRoomRows({ roomVersion: '10', events: 30, servers: [PEER] })];
    const report = await verifyExport((await bundleOf(rows, { keys: keysOf([HOME]) })).dir, { workers: 0, maxProblems: 5 });
    assert.equal(report.problems.length, 5);
    assert.equal(report.problemsOmitted, 26);
  });
});
