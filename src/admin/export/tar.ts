// The single-file form of an export bundle: a POSIX ustar archive of the bundle's files
// (manifest.json first), readable with any `tar`. Written and read as streams, a file at a
// time, so archives of multi-gigabyte bundles need no memory to speak of. Only what a
// bundle holds is supported: regular files with short relative names (subfolders allowed).

import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

const BLOCK = 512;
const MAX_SIZE = 8 ** 11 - 1; // 11 octal digits

export class TarError extends Error {
  override readonly name = 'TarError';
}

/** The ustar header of one regular file. */
function header(name: string, size: number, mtimeSec: number): Buffer {
  if (Buffer.byteLength(name) > 100) throw new TarError(`file name too long for the archive: ${name}`);
  if (size > MAX_SIZE) throw new TarError(`file too large for the archive: ${name}`);
  const block = Buffer.alloc(BLOCK, 0);
  block.write(name, 0, 100, 'utf8');
  block.write('0000644\0', 100, 8, 'ascii');
  block.write('0000000\0', 108, 8, 'ascii');
  block.write('0000000\0', 116, 8, 'ascii');
  block.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 12, 'ascii');
  block.write(`${Math.max(0, Math.floor(mtimeSec)).toString(8).padStart(11, '0')}\0`, 136, 12, 'ascii');
  block.write('        ', 148, 8, 'ascii');
  block.write('0', 156, 1, 'ascii');
  block.write('ustar\0', 257, 6, 'ascii');
  block.write('00', 263, 2, 'ascii');
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
  return block;
}

/** The archive of `files` (relative to `dir`, in this order) as a byte stream. */
export function tarStream(dir: string, files: readonly string[]): Readable {
  async function* generate(): AsyncGenerator<Buffer> {
    for (const name of files) {
      const file = path.join(dir, name);
      const info = await stat(file);
      yield header(name, info.size, info.mtimeMs / 1000);
      let written = 0;
      for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
        written += (chunk as Buffer).length;
        yield chunk as Buffer;
      }
      if (written !== info.size) throw new TarError(`${name} changed while it was archived`);
      const pad = (BLOCK - (info.size % BLOCK)) % BLOCK;
      if (pad > 0) yield Buffer.alloc(pad, 0);
    }
    yield Buffer.alloc(BLOCK * 2, 0);
  }
  return Readable.from(generate(), { objectMode: false });
}

export async function writeTarFile(dir: string, files: readonly string[], archive: string): Promise<void> {
  await pipeline(tarStream(dir, files), createWriteStream(archive, { flags: 'wx' }));
}

/**
 * Extracts a bundle archive into `dest` (an existing, empty folder). Refuses anything but
 * regular files with plain relative names: an archive is untrusted input.
 */
export async function extractTarFile(archive: string, dest: string): Promise<string[]> {
  const handle = await open(archive, 'r');
  const names: string[] = [];
  try {
    const size = (await handle.stat()).size;
    const head = Buffer.alloc(BLOCK);
    for (let offset = 0; offset + BLOCK <= size; ) {
      const { bytesRead } = await handle.read(head, 0, BLOCK, offset);
      if (bytesRead < BLOCK) throw new TarError('the archive is truncated');
      offset += BLOCK;
      if (head.every((byte) => byte === 0)) break;
      if (!checksumOk(head)) throw new TarError('an archive header is damaged (checksum)');
      const name = cString(head, 0, 100);
      const prefix = cString(head, 345, 155);
      const fullName = prefix === '' ? name : `${prefix}/${name}`;
      const type = String.fromCharCode(head[156] ?? 0);
      const length = parseInt(cString(head, 124, 12).trim() || '0', 8);
      if (!Number.isSafeInteger(length) || length < 0) throw new TarError(`bad size for ${fullName}`);
      const padded = length + ((BLOCK - (length % BLOCK)) % BLOCK);
      if (type === '5') {
        offset += padded;
        continue;
      }
      if (type !== '0' && type !== '\0') throw new TarError(`the archive holds ${fullName}, which is not a regular file`);
      if (!safeName(fullName)) throw new TarError(`the archive holds an unsafe file name: ${fullName}`);
      if (offset + length > size) throw new TarError(`the archive is truncated inside ${fullName}`);
      const target = path.join(dest, fullName);
      await mkdir(path.dirname(target), { recursive: true });
      await pipeline(
        length === 0 ? Readable.from([]) : createReadStream(archive, { start: offset, end: offset + length - 1, highWaterMark: 1 << 20 }),
        createWriteStream(target, { flags: 'wx' }),
      );
      names.push(fullName);
      offset += padded;
    }
  } finally {
    await handle.close();
  }
  return names;
}

function cString(buffer: Buffer, start: number, length: number): string {
  const slice = buffer.subarray(start, start + length);
  const end = slice.indexOf(0);
  return slice.subarray(0, end === -1 ? length : end).toString('utf8');
}

function checksumOk(head: Buffer): boolean {
  const recorded = parseInt(cString(head, 148, 8).trim(), 8);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : (head[i] ?? 0);
  return recorded === sum;
}

function safeName(name: string): boolean {
  if (name === '' || name.startsWith('/') || name.includes('\\') || name.includes('\0')) return false;
  return name.split('/').every((part) => part !== '' && part !== '.' && part !== '..');
}
