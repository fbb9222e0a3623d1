// The single-file bundle ("archive format", issue 8 item 1): a ustar archive of the bundle
// files, manifest first, that system tar reads and `verify-export` checks after extracting.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { testKey } from '../../roomserver/testing.ts';
import { bundleFiles, withExtractedArchive } from './archive.ts';
import { FILES } from './bundle-format.ts';
import { writeBundle } from './bundle-writer.ts';
import { extractTarFile, TarError, writeTarFile } from './tar.ts';
import { syntheticRoomRows } from './testing.ts';
import { verifyExport } from './verifier.ts';

const HOME = { name: 'home.test', key: testKey(11) };
let work = '';
let bundle = '';
let archive = '';

before(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'stoa-archive-'));
  bundle = path.join(work, 'bundle');
  await mkdir(bundle);
  const rows = [...syntheticRoomRows({ roomVersion: '10', events: 300, servers: [HOME] })];
  const create = JSON.parse(rows[0]?.json ?? '{}') as { room_id: string };
  async function* iterate<T>(items: Iterable<T>): AsyncGenerator<T> {
    yield* items;
  }
  await writeBundle({
    outDir: bundle,
    serverName: HOME.name,
    signingKey: HOME.key,
    roomVersion: '10',
    scope: { room_id: create.room_id, since_ts: null, until_ts: null, custodian: null, up_to_stream_ordering: rows.length },
    exportedAt: 1_750_000_000_000,
    stateEvents: iterate([]),
    events: iterate(rows),
    keysFor: async () => ({ servers: { [HOME.name]: { [HOME.key.keyId]: { key: HOME.key.publicKeyBase64, valid_until_ts: null, expired_ts: null, source: 'own' } } } }),
  });
  archive = path.join(work, 'bundle.tar');
  await writeTarFile(bundle, await bundleFiles(bundle), archive);
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

test('archive format: a ustar archive, manifest first, that system tar lists and extracts byte for byte', async () => {
  const listed = execFileSync('tar', ['-tf', archive], { encoding: 'utf8' }).trim().split('\n');
  assert.deepEqual(listed, [FILES.manifest, FILES.events, FILES.state, FILES.keys, FILES.transcript]);
  const out = path.join(work, 'by-tar');
  await mkdir(out);
  execFileSync('tar', ['-xf', archive, '-C', out]);
  for (const file of listed) assert.deepEqual(await readFile(path.join(out, file)), await readFile(path.join(bundle, file)), file);
});

test('verify-export on an archive: extracted and verified; a flipped byte is detected', async () => {
  const report = await withExtractedArchive(archive, (dir) => verifyExport(dir, { workers: 0 }));
  assert.equal(report.ok, true, report.problems.map((p) => p.message).join('\n'));
  assert.equal(report.stats.events, 301);

  const bytes = await readFile(archive);
  const at = bytes.indexOf('message 150');
  assert.ok(at > 0);
  bytes[at + 8] = '9'.charCodeAt(0);
  const tampered = path.join(work, 'tampered.tar');
  await writeFile(tampered, bytes);
  const bad = await withExtractedArchive(tampered, (dir) => verifyExport(dir, { workers: 0 }));
  assert.equal(bad.ok, false);
  assert.ok(bad.problems.some((p) => p.code === 'content-hash'), 'the edited event is named');
});

test('an archive is untrusted: path traversal and non-files are refused', async () => {
  const evil = path.join(work, 'evil.tar');
  const src = path.join(work, 'evil-src');
  await mkdir(src);
  await writeFile(path.join(src, 'x'), 'x');
  await writeTarFile(src, ['x'], evil);
  const bytes = await readFile(evil);
  // Rename the entry to ../x and fix the header checksum.
  bytes.write('../x\0', 0, 'utf8');
  bytes.write('        ', 148, 'ascii');
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += bytes[i] ?? 0;
  bytes.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  await writeFile(evil, bytes);
  const dest = path.join(work, 'evil-out');
  await mkdir(dest);
  await assert.rejects(extractTarFile(evil, dest), TarError);
  const damaged = Buffer.from(bytes);
  damaged[0] = 'y'.charCodeAt(0);
  await writeFile(evil, damaged);
  await assert.rejects(extractTarFile(evil, dest), /checksum/);
});

test('--with-media: media the events name is bundled by SHA-256, listed in the signed manifest and checked offline', async () => {
  const dir = path.join(work, 'with-media');
  await mkdir(dir);
  const rows = [...syntheticRoomRows({ roomVersion: '10', events: 40, servers: [HOME], body: (n) => (n % 10 === 0 ? `see mxc://home.test/file${n % 20} and mxc://gone.test/x` : `message ${n}`) })];
  const create = JSON.parse(rows[0]?.json ?? '{}') as { room_id: string };
  const files: Record<string, string> = { 'mxc://home.test/file0': 'zero bytes here', 'mxc://home.test/file10': 'ten' };
  async function* iterate<T>(items: Iterable<T>): AsyncGenerator<T> {
    yield* items;
  }
  const manifest = await writeBundle({
    outDir: dir,
    serverName: HOME.name,
    signingKey: HOME.key,
    roomVersion: '10',
    scope: { room_id: create.room_id, since_ts: null, until_ts: null, custodian: null, up_to_stream_ordering: rows.length },
    exportedAt: 1_750_000_000_000,
    stateEvents: iterate([]),
    events: iterate(rows),
    keysFor: async () => ({ servers: { [HOME.name]: { [HOME.key.keyId]: { key: HOME.key.publicKeyBase64, valid_until_ts: null, expired_ts: null, source: 'own' } } } }),
    media: {
      open: async (uri) => {
        const text = files[uri];
        return text === undefined ? undefined : { contentType: 'text/plain', body: iterate([Buffer.from(text)]) };
      },
    },
  });
  assert.deepEqual(manifest.media?.missing, ['mxc://gone.test/x']);
  assert.deepEqual(manifest.media?.files.map((f) => [f.uri, f.bytes]), [['mxc://home.test/file0', 15], ['mxc://home.test/file10', 3]]);
  const ok = await verifyExport(dir, { workers: 0 });
  assert.equal(ok.ok, true, ok.problems.map((p) => p.message).join('\n'));

  const tarFile = path.join(work, 'with-media.tar');
  await writeTarFile(dir, await bundleFiles(dir), tarFile);
  const listed = execFileSync('tar', ['-tf', tarFile], { encoding: 'utf8' }).trim().split('\n');
  assert.ok(listed.includes(`media/${manifest.media?.files[1]?.sha256 ?? ''}`));

  const ten = path.join(dir, 'media', manifest.media?.files[1]?.sha256 ?? '');
  await writeFile(ten, 'TEN');
  const altered = await verifyExport(dir, { workers: 0 });
  assert.ok(altered.problems.some((p) => p.code === 'file-hash' && p.message.includes('mxc://home.test/file10')), 'an altered media file is named');
  await rm(ten);
  const removed = await verifyExport(dir, { workers: 0 });
  assert.ok(removed.problems.some((p) => p.code === 'file-missing'));
});
