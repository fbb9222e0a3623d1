// Encryption at rest for media blobs: AES-256-GCM over fixed-size segments, so a range
// request decrypts only the segments it touches and every segment is authenticated before
// a byte of it is served.
//
// File layout:  header (48 bytes) = magic "STOAMED1" | key id (8) | salt (32)
//               then segment 0 … n-1, each = ciphertext (≤ SEGMENT_BYTES) | GCM tag (16)
// Each file has its own key, HKDF-SHA256(master key, salt), so nonces only need to be unique
// within a file: the nonce is the segment index plus a "last segment" flag. That flag and the
// header (as associated data) make truncation, reordering and header swaps fail to decrypt.
// The master key is named by its id in the header, so old keys keep decrypting after a
// rotation while new files use the current key.

import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';

export const SEGMENT_BYTES = 64 * 1024;
const TAG_BYTES = 16;
const MAGIC = Buffer.from('STOAMED1', 'latin1');
const KEY_ID_BYTES = 8;
const SALT_BYTES = 32;
export const HEADER_BYTES = MAGIC.length + KEY_ID_BYTES + SALT_BYTES;
const HKDF_INFO = Buffer.from('stoa media blob v1', 'utf8');

/** A master key and the id written into the header of files encrypted with it. */
export interface MediaKey {
  readonly id: string;
  readonly key: Uint8Array;
}

/** The keys of a media store: `current` encrypts new files; all of them decrypt. */
export class MediaKeyRing {
  readonly current: MediaKey;
  readonly #byId: ReadonlyMap<string, MediaKey>;

  constructor(keys: readonly Uint8Array[]) {
    const first = keys[0];
    if (first === undefined) throw new Error('a media key ring needs at least one key');
    const all = keys.map(toMediaKey);
    this.current = toMediaKey(first);
    this.#byId = new Map(all.map((k) => [k.id, k]));
  }

  /** Parses base64 keys (one per line in a key file; blank lines and `#` comments skipped). */
  static parse(text: string): MediaKeyRing {
    const keys: Uint8Array[] = [];
    for (const [index, raw] of text.split('\n').entries()) {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) continue;
      const key = Buffer.from(line, 'base64');
      if (key.length !== 32 || key.toString('base64').replace(/=+$/, '') !== line.replace(/=+$/, '')) {
        throw new Error(`media key on line ${index + 1} is not a 32-byte key in base64`);
      }
      keys.push(key);
    }
    return new MediaKeyRing(keys);
  }

  byId(id: string): MediaKey | undefined {
    return this.#byId.get(id);
  }
}

function toMediaKey(key: Uint8Array): MediaKey {
  if (key.length !== 32) throw new Error('a media key must be 32 bytes');
  const id = createHash('sha256').update('stoa media key id\0').update(key).digest().subarray(0, KEY_ID_BYTES).toString('hex');
  return { id, key };
}

export class BlobDecryptionError extends Error {
  override name = 'BlobDecryptionError';
}

/** The header of a new file, and the per-file key it implies. */
export interface FileCipher {
  readonly header: Buffer;
  readonly fileKey: Buffer;
  readonly keyId: string;
}

export function newFileCipher(key: MediaKey): FileCipher {
  const salt = randomBytes(SALT_BYTES);
  const header = Buffer.concat([MAGIC, Buffer.from(key.id, 'hex'), salt]);
  return { header, fileKey: deriveFileKey(key.key, salt), keyId: key.id };
}

/** Reads a header; throws BlobDecryptionError when it is not ours or its key is unknown. */
export function openFileCipher(header: Uint8Array, keys: MediaKeyRing): FileCipher {
  if (header.length < HEADER_BYTES || !MAGIC.equals(header.subarray(0, MAGIC.length))) {
    throw new BlobDecryptionError('not an encrypted media blob');
  }
  const keyId = Buffer.from(header.subarray(MAGIC.length, MAGIC.length + KEY_ID_BYTES)).toString('hex');
  const key = keys.byId(keyId);
  if (key === undefined) throw new BlobDecryptionError(`media blob encrypted with unknown key ${keyId}`);
  const salt = header.subarray(MAGIC.length + KEY_ID_BYTES, HEADER_BYTES);
  return { header: Buffer.from(header.subarray(0, HEADER_BYTES)), fileKey: deriveFileKey(key.key, salt), keyId };
}

function deriveFileKey(master: Uint8Array, salt: Uint8Array): Buffer {
  return Buffer.from(hkdfSync('sha256', master, salt, HKDF_INFO, 32));
}

function nonce(index: number, last: boolean): Buffer {
  const iv = Buffer.alloc(12);
  iv.writeBigUInt64BE(BigInt(index), 0);
  iv[11] = last ? 1 : 0;
  return iv;
}

export function encryptSegment(cipher: FileCipher, index: number, last: boolean, plaintext: Uint8Array): Buffer {
  const gcm = createCipheriv('aes-256-gcm', cipher.fileKey, nonce(index, last));
  gcm.setAAD(cipher.header);
  const body = Buffer.concat([gcm.update(plaintext), gcm.final()]);
  return Buffer.concat([body, gcm.getAuthTag()]);
}

export function decryptSegment(cipher: FileCipher, index: number, last: boolean, sealed: Uint8Array): Buffer {
  if (sealed.length < TAG_BYTES) throw new BlobDecryptionError(`segment ${index} is truncated`);
  const gcm = createDecipheriv('aes-256-gcm', cipher.fileKey, nonce(index, last));
  gcm.setAAD(cipher.header);
  gcm.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  try {
    return Buffer.concat([gcm.update(sealed.subarray(0, sealed.length - TAG_BYTES)), gcm.final()]);
  } catch {
    throw new BlobDecryptionError(`segment ${index} failed authentication`);
  }
}

/** Plaintext size of an encrypted file of `fileBytes` bytes; undefined when no size fits. */
export function plaintextSize(fileBytes: number): number | undefined {
  const body = fileBytes - HEADER_BYTES;
  if (body < TAG_BYTES) return undefined;
  const segments = Math.ceil(body / (SEGMENT_BYTES + TAG_BYTES));
  const size = body - segments * TAG_BYTES;
  return size >= 0 && segmentCount(size) === segments ? size : undefined;
}

/** Segments a plaintext of `size` bytes is stored in (an empty file still has one). */
export function segmentCount(size: number): number {
  return Math.max(1, Math.ceil(size / SEGMENT_BYTES));
}

/** Where segment `index` starts in the file and how long it is there (tag included). */
export function segmentLocation(index: number, size: number): { offset: number; length: number } {
  const plain = Math.min(SEGMENT_BYTES, size - index * SEGMENT_BYTES);
  return { offset: HEADER_BYTES + index * (SEGMENT_BYTES + TAG_BYTES), length: Math.max(0, plain) + TAG_BYTES };
}

/**
 * Cuts a stream of plaintext chunks into sealed segments. A full segment is held back until
 * more bytes arrive, because only then is it known not to be the last one.
 */
export class SegmentSealer {
  readonly #cipher: FileCipher;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #index = 0;

  constructor(cipher: FileCipher) {
    this.#cipher = cipher;
  }

  /** Sealed bytes ready to write after `chunk`. */
  push(chunk: Uint8Array): Buffer[] {
    this.#pending.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    this.#pendingBytes += chunk.byteLength;
    const out: Buffer[] = [];
    while (this.#pendingBytes > SEGMENT_BYTES) {
      const all = Buffer.concat(this.#pending, this.#pendingBytes);
      out.push(encryptSegment(this.#cipher, this.#index++, false, all.subarray(0, SEGMENT_BYTES)));
      const rest = all.subarray(SEGMENT_BYTES);
      this.#pending = [rest];
      this.#pendingBytes = rest.length;
    }
    return out;
  }

  /** The last segment. */
  finish(): Buffer {
    const last = Buffer.concat(this.#pending, this.#pendingBytes);
    this.#pending = [];
    this.#pendingBytes = 0;
    return encryptSegment(this.#cipher, this.#index++, true, last);
  }
}
