import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { MediaKeyRing, SEGMENT_BYTES } from './blob-crypto.ts';
import { BlobDecryptionError, BlobLengthMismatchError, BlobTooLargeError, FileBlobStore } from './blob-store.ts';

async function* chunksOf(bytes: Uint8Array, size = 10_000): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

async function readAll(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

const sha = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'stoa-blobs-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

for (const encrypted of [false, true]) {
  describe(`FileBlobStore (${encrypted ? 'encrypted at rest' : 'plaintext'})`, () => {
    let store: FileBlobStore;
    let dir: string;
    const key = randomBytes(32);
    before(async () => {
      dir = join(root, encrypted ? 'enc' : 'plain');
      store = new FileBlobStore(dir, encrypted ? new MediaKeyRing([key]) : undefined);
      await store.init();
    });

    test('content-addressed: identical content is stored once, under its SHA-256', async () => {
      const bytes = randomBytes(3 * SEGMENT_BYTES + 17);
      const first = await store.put(chunksOf(bytes), { maxBytes: 1 << 20 });
      const second = await store.put(chunksOf(bytes, 777), { maxBytes: 1 << 20 });
      assert.equal(first.sha256, sha(bytes));
      assert.deepEqual(second, first);
      assert.equal((await filesUnder(join(dir, 'blobs'))).filter((f) => f.includes(first.sha256)).length, 1);
      assert.deepEqual(await store.read(first.sha256, 1 << 20), bytes);
      assert.equal(await store.size(first.sha256), bytes.length);
    });

    test('ranges across segment boundaries read back exactly', async () => {
      const bytes = randomBytes(2 * SEGMENT_BYTES + 5);
      const { sha256 } = await store.put(chunksOf(bytes), { maxBytes: 1 << 20 });
      for (const [start, end] of [
        [0, 0],
        [SEGMENT_BYTES - 1, SEGMENT_BYTES],
        [10, 2 * SEGMENT_BYTES + 4],
        [2 * SEGMENT_BYTES, 2 * SEGMENT_BYTES + 4],
      ] as const) {
        assert.deepEqual(await readAll(await store.open(sha256, { start, end })), bytes.subarray(start, end + 1), `${start}-${end}`);
      }
    });

    test('empty files and files of exactly one segment round-trip', async () => {
      for (const bytes of [Buffer.alloc(0), randomBytes(SEGMENT_BYTES)]) {
        const { sha256, size } = await store.put(chunksOf(bytes), { maxBytes: 1 << 20 });
        assert.equal(size, bytes.length);
        assert.deepEqual(await readAll(await store.open(sha256)), bytes);
      }
    });

    test('too large, too long or too short for the declared length: rejected, nothing left on disk', async () => {
      const before = await filesUnder(dir);
      const bytes = randomBytes(50_000);
      await assert.rejects(store.put(chunksOf(bytes), { maxBytes: 49_999 }), BlobTooLargeError);
      await assert.rejects(store.put(chunksOf(bytes), { maxBytes: 1 << 20, expectedBytes: 40_000 }), BlobLengthMismatchError);
      await assert.rejects(store.put(chunksOf(bytes), { maxBytes: 1 << 20, expectedBytes: 60_000 }), BlobLengthMismatchError);
      async function* failing(): AsyncGenerator<Uint8Array> {
        yield bytes.subarray(0, 1000);
        throw new Error('client went away');
      }
      await assert.rejects(store.put(failing(), { maxBytes: 1 << 20 }), /client went away/);
      assert.deepEqual(await filesUnder(dir), before);
    });

    test('delete removes the blob', async () => {
      const { sha256 } = await store.put(chunksOf(randomBytes(100)), { maxBytes: 1000 });
      await store.delete(sha256);
      assert.equal(await store.size(sha256), undefined);
    });
  });
}

describe('encryption at rest', () => {
  test('the file on disk is ciphertext: no plaintext run of 32 bytes appears in it', async () => {
    const dir = join(root, 'ciphertext');
    const store = new FileBlobStore(dir, new MediaKeyRing([randomBytes(32)]));
    await store.init();
    const bytes = Buffer.from('The quick brown fox jumps over the lazy dog. '.repeat(5000));
    const { sha256 } = await store.put(chunksOf(bytes), { maxBytes: 1 << 20 });
    const [file] = (await filesUnder(join(dir, 'blobs'))).filter((f) => f.includes(sha256));
    assert.ok(file !== undefined && file.endsWith('.enc'));
    const disk = await readFile(file);
    assert.equal(disk.indexOf(bytes.subarray(0, 32)), -1);
    assert.equal(disk.indexOf(Buffer.from('quick brown fox')), -1);
  });

  test('a flipped byte, a truncated file or the wrong key fail to decrypt', async () => {
    const dir = join(root, 'tamper');
    const key = randomBytes(32);
    const store = new FileBlobStore(dir, new MediaKeyRing([key]));
    await store.init();
    const bytes = randomBytes(2 * SEGMENT_BYTES + 100);
    const { sha256 } = await store.put(chunksOf(bytes), { maxBytes: 1 << 20 });
    const [file] = (await filesUnder(join(dir, 'blobs'))).filter((f) => f.includes(sha256));
    assert.ok(file !== undefined);
    const original = await readFile(file);

    const flipped = Buffer.from(original);
    flipped[flipped.length - 40] = (flipped[flipped.length - 40] ?? 0) ^ 1;
    await writeFile(file, flipped);
    await assert.rejects(readAll(await store.open(sha256)), BlobDecryptionError);

    // Cut at a segment boundary: the new last segment was not sealed as the last one.
    await writeFile(file, original.subarray(0, 48 + 2 * (SEGMENT_BYTES + 16)));
    await assert.rejects(readAll(await store.open(sha256)), BlobDecryptionError);

    await writeFile(file, original);
    const otherKey = new FileBlobStore(dir, new MediaKeyRing([randomBytes(32)]));
    await assert.rejects(readAll(await otherKey.open(sha256)), BlobDecryptionError);
    assert.deepEqual(await readAll(await store.open(sha256)), bytes);
  });

  test('key rotation: old files still decrypt, and reencrypt moves them to the current key', async () => {
    const dir = join(root, 'rotation');
    const oldKey = randomBytes(32);
    const newKey = randomBytes(32);
    const plainStore = new FileBlobStore(dir);
    await plainStore.init();
    const plainBytes = randomBytes(1000);
    const plain = await plainStore.put(chunksOf(plainBytes), { maxBytes: 1 << 20 });
    const oldStore = new FileBlobStore(dir, new MediaKeyRing([oldKey]));
    const bytes = randomBytes(SEGMENT_BYTES + 1);
    const { sha256 } = await oldStore.put(chunksOf(bytes), { maxBytes: 1 << 20 });

    const rotated = new FileBlobStore(dir, new MediaKeyRing([newKey, oldKey]));
    assert.deepEqual(await readAll(await rotated.open(sha256)), bytes);
    assert.equal(await rotated.reencrypt(sha256), true);
    assert.equal(await rotated.reencrypt(sha256), false);
    assert.equal(await rotated.reencrypt(plain.sha256), true);
    const newOnly = new FileBlobStore(dir, new MediaKeyRing([newKey]));
    assert.deepEqual(await readAll(await newOnly.open(sha256)), bytes);
    assert.deepEqual(await readAll(await newOnly.open(plain.sha256)), plainBytes);
    const files = await filesUnder(join(dir, 'blobs'));
    assert.deepEqual(files.map((f) => f.endsWith('.enc')), [true, true]);
    assert.ok((await stat(join(dir, 'tmp'))).isDirectory());
    assert.deepEqual(await readdir(join(dir, 'tmp')), []);
  });

  test('key files: one base64 key per line, comments skipped, bad lines refused', () => {
    const a = randomBytes(32).toString('base64');
    const b = randomBytes(32).toString('base64');
    const ring = MediaKeyRing.parse(`# current\n${a}\n\n${b}\n`);
    assert.deepEqual(Buffer.from(ring.current.key).toString('base64'), a);
    assert.throws(() => MediaKeyRing.parse('not-a-key\n'), /line 1/);
    assert.throws(() => MediaKeyRing.parse('# nothing\n'), /at least one key/);
  });
});
