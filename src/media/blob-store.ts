// The media blob store: files addressed by the SHA-256 of their plaintext, so identical
// uploads are stored once. Writes stream into a temporary file (hashing, and encrypting when
// a key ring is configured) and are renamed into place only once complete and within the
// limit, so a failed, oversized or truncated upload leaves nothing behind. Readers never see
// a half-written file: rename is atomic on one filesystem, and the temporary folder sits
// inside the store for that reason.
//
// Layout: <root>/blobs/ab/cd/<sha256>      plaintext
//         <root>/blobs/ab/cd/<sha256>.enc  encrypted (./blob-crypto.ts)
//         <root>/tmp/                      writes in progress

import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  BlobDecryptionError,
  decryptSegment,
  HEADER_BYTES,
  newFileCipher,
  openFileCipher,
  plaintextSize,
  SEGMENT_BYTES,
  SegmentSealer,
  segmentCount,
  segmentLocation,
  type FileCipher,
  type MediaKeyRing,
} from './blob-crypto.ts';

const SHA256_HEX = /^[0-9a-f]{64}$/;

export interface StoredBlob {
  /** Hex SHA-256 of the plaintext: the blob's address. */
  readonly sha256: string;
  readonly size: number;
}

export interface PutOptions {
  /** More plaintext than this fails with BlobTooLargeError. */
  readonly maxBytes: number;
  /** When set, a different plaintext length fails with BlobLengthMismatchError. */
  readonly expectedBytes?: number;
}

/** Inclusive byte range of the plaintext. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

export class BlobTooLargeError extends Error {
  override name = 'BlobTooLargeError';
  readonly limit: number;
  constructor(limit: number) {
    super(`content exceeds ${limit} bytes`);
    this.limit = limit;
  }
}

export class BlobLengthMismatchError extends Error {
  override name = 'BlobLengthMismatchError';
}

export class BlobNotFoundError extends Error {
  override name = 'BlobNotFoundError';
}

export { BlobDecryptionError };

export interface BlobStore {
  put(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, options: PutOptions): Promise<StoredBlob>;
  /** Plaintext size, or undefined when the blob is not stored. */
  size(sha256: string): Promise<number | undefined>;
  /** A stream of the plaintext (or of `range` of it). Throws BlobNotFoundError. */
  open(sha256: string, range?: ByteRange): Promise<Readable>;
  /** The whole plaintext, refused beyond `maxBytes`. */
  read(sha256: string, maxBytes: number): Promise<Buffer>;
  delete(sha256: string): Promise<void>;
}

export class FileBlobStore implements BlobStore {
  readonly #root: string;
  readonly #keys: MediaKeyRing | undefined;

  constructor(root: string, keys?: MediaKeyRing) {
    this.#root = root;
    this.#keys = keys;
  }

  get encrypted(): boolean {
    return this.#keys !== undefined;
  }

  /** Creates the folders and removes temporary files a crash left behind. */
  async init(): Promise<void> {
    await mkdir(join(this.#root, 'blobs'), { recursive: true });
    await rm(join(this.#root, 'tmp'), { recursive: true, force: true });
    await mkdir(join(this.#root, 'tmp'), { recursive: true });
  }

  async put(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, options: PutOptions): Promise<StoredBlob> {
    const tempPath = join(this.#root, 'tmp', randomUUID());
    await mkdir(join(this.#root, 'tmp'), { recursive: true });
    const file = await open(tempPath, 'wx', 0o600);
    let committed = false;
    try {
      const hash = createHash('sha256');
      const cipher = this.#keys === undefined ? undefined : newFileCipher(this.#keys.current);
      const sealer = cipher === undefined ? undefined : new SegmentSealer(cipher);
      if (cipher !== undefined) await writeAll(file, cipher.header);
      let size = 0;
      for await (const chunk of source) {
        size += chunk.byteLength;
        if (size > options.maxBytes) throw new BlobTooLargeError(options.maxBytes);
        if (options.expectedBytes !== undefined && size > options.expectedBytes) {
          throw new BlobLengthMismatchError(`content is longer than the declared ${options.expectedBytes} bytes`);
        }
        hash.update(chunk);
        if (sealer === undefined) await writeAll(file, chunk);
        else for (const sealed of sealer.push(chunk)) await writeAll(file, sealed);
      }
      if (options.expectedBytes !== undefined && size !== options.expectedBytes) {
        throw new BlobLengthMismatchError(`content is ${size} bytes, not the declared ${options.expectedBytes}`);
      }
      if (sealer !== undefined) await writeAll(file, sealer.finish());
      await file.sync();
      await file.close();
      const sha256 = hash.digest('hex');
      const finalPath = this.#path(sha256, cipher !== undefined);
      if ((await this.size(sha256)) !== undefined) {
        // Already stored: this copy is not needed.
        await rm(tempPath, { force: true });
      } else {
        await mkdir(join(finalPath, '..'), { recursive: true });
        await rename(tempPath, finalPath);
      }
      committed = true;
      return { sha256, size };
    } finally {
      if (!committed) {
        await file.close().catch(() => undefined);
        await rm(tempPath, { force: true });
      }
    }
  }

  async size(sha256: string): Promise<number | undefined> {
    const found = await this.#locate(sha256);
    return found?.size;
  }

  async open(sha256: string, range?: ByteRange): Promise<Readable> {
    const found = await this.#locate(sha256);
    if (found === undefined) throw new BlobNotFoundError(`blob ${sha256} is not stored`);
    const start = range?.start ?? 0;
    const end = range?.end ?? found.size - 1;
    if (start < 0 || end >= found.size || (start > end && !(found.size === 0 && range === undefined))) {
      throw new RangeError(`range ${start}-${end} is outside a blob of ${found.size} bytes`);
    }
    return streamPlaintext(found, start, end, this.#keys);
  }

  async read(sha256: string, maxBytes: number): Promise<Buffer> {
    const size = await this.size(sha256);
    if (size === undefined) throw new BlobNotFoundError(`blob ${sha256} is not stored`);
    if (size > maxBytes) throw new BlobTooLargeError(maxBytes);
    const chunks: Buffer[] = [];
    for await (const chunk of await this.open(sha256)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks, size);
  }

  async delete(sha256: string): Promise<void> {
    if (!SHA256_HEX.test(sha256)) return;
    await rm(this.#path(sha256, false), { force: true });
    await rm(this.#path(sha256, true), { force: true });
  }

  /**
   * Rewrites a blob under the current key when it is stored in plaintext or under an older
   * key (key rotation, or encryption switched on). Returns whether it rewrote anything.
   */
  async reencrypt(sha256: string): Promise<boolean> {
    const keys = this.#requireKeys();
    const found = await this.#locate(sha256);
    if (found === undefined) throw new BlobNotFoundError(`blob ${sha256} is not stored`);
    if (found.encrypted && (await readHeader(found.path, keys)).keyId === keys.current.id) return false;
    // Moved aside first: put() keeps an existing copy, and this one is to be replaced. It is
    // streamed from there, so a large file is never held in memory.
    const aside = join(this.#root, 'tmp', `${randomUUID()}.old`);
    await rename(found.path, aside);
    try {
      const stored = await this.put(streamPlaintext({ ...found, path: aside }, 0, found.size - 1, keys), {
        maxBytes: found.size,
        expectedBytes: found.size,
      });
      if (stored.sha256 !== sha256) throw new BlobDecryptionError(`blob ${sha256} decrypted to different content`);
    } catch (error) {
      await rename(aside, found.path);
      throw error;
    }
    await rm(aside, { force: true });
    return true;
  }

  /** Every stored blob's address (for maintenance: rotation, orphan sweeps). */
  async *list(): AsyncIterable<string> {
    const base = join(this.#root, 'blobs');
    for (const a of await safeReaddir(base)) {
      for (const b of await safeReaddir(join(base, a))) {
        for (const name of await safeReaddir(join(base, a, b))) {
          const sha = name.endsWith('.enc') ? name.slice(0, -4) : name;
          if (SHA256_HEX.test(sha)) yield sha;
        }
      }
    }
  }

  #path(sha256: string, encrypted: boolean): string {
    if (!SHA256_HEX.test(sha256)) throw new Error(`not a blob address: ${sha256}`);
    return join(this.#root, 'blobs', sha256.slice(0, 2), sha256.slice(2, 4), encrypted ? `${sha256}.enc` : sha256);
  }

  async #locate(sha256: string): Promise<{ path: string; size: number; encrypted: boolean } | undefined> {
    if (!SHA256_HEX.test(sha256)) return undefined;
    const encPath = this.#path(sha256, true);
    const encStat = await stat(encPath).catch(() => undefined);
    if (encStat !== undefined) {
      const size = plaintextSize(encStat.size);
      if (size === undefined) throw new BlobDecryptionError(`blob ${sha256} has an impossible length`);
      return { path: encPath, size, encrypted: true };
    }
    const plainPath = this.#path(sha256, false);
    const plainStat = await stat(plainPath).catch(() => undefined);
    return plainStat === undefined ? undefined : { path: plainPath, size: plainStat.size, encrypted: false };
  }

  #requireKeys(): MediaKeyRing {
    if (this.#keys === undefined) throw new BlobDecryptionError('an encrypted blob was found but no media key is configured');
    return this.#keys;
  }
}

function streamPlaintext(
  found: { path: string; size: number; encrypted: boolean },
  start: number,
  end: number,
  keys: MediaKeyRing | undefined,
): Readable {
  if (!found.encrypted) return found.size === 0 ? Readable.from([]) : createReadStream(found.path, { start, end });
  if (keys === undefined) throw new BlobDecryptionError('an encrypted blob was found but no media key is configured');
  return Readable.from(decryptRange(found.path, found.size, start, end, keys), { objectMode: false });
}

async function writeAll(file: FileHandle, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.byteLength) {
    const { bytesWritten } = await file.write(bytes, offset, bytes.byteLength - offset);
    offset += bytesWritten;
  }
}

async function readExactly(file: FileHandle, length: number, position: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  let read = 0;
  while (read < length) {
    const { bytesRead } = await file.read(buffer, read, length - read, position + read);
    if (bytesRead === 0) throw new BlobDecryptionError('encrypted blob is truncated');
    read += bytesRead;
  }
  return buffer;
}

async function readHeader(path: string, keys: MediaKeyRing): Promise<FileCipher> {
  const file = await open(path, 'r');
  try {
    return openFileCipher(await readExactly(file, HEADER_BYTES, 0), keys);
  } finally {
    await file.close();
  }
}

async function* decryptRange(path: string, size: number, start: number, end: number, keys: MediaKeyRing): AsyncGenerator<Buffer> {
  const file = await open(path, 'r');
  try {
    const cipher = openFileCipher(await readExactly(file, HEADER_BYTES, 0), keys);
    const last = segmentCount(size) - 1;
    if (size === 0) {
      decryptSegment(cipher, 0, true, await readExactly(file, segmentLocation(0, 0).length, HEADER_BYTES));
      return;
    }
    for (let index = Math.floor(start / SEGMENT_BYTES); index <= Math.floor(end / SEGMENT_BYTES); index++) {
      const where = segmentLocation(index, size);
      const plain = decryptSegment(cipher, index, index === last, await readExactly(file, where.length, where.offset));
      const segmentStart = index * SEGMENT_BYTES;
      yield plain.subarray(Math.max(0, start - segmentStart), Math.min(plain.length, end - segmentStart + 1));
    }
  } finally {
    await file.close();
  }
}

async function safeReaddir(path: string): Promise<string[]> {
  try {
    return await readdir(path);
  } catch {
    return [];
  }
}
