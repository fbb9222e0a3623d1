// A file written in order while its SHA-256 and size are computed, waiting for the disk when
// the stream's buffer is full so an export of millions of lines never holds them in memory.
//
// Text is encoded straight into a few reused 256 KB buffers: one hash update and one
// stream write per buffer instead of per line, and no per-chunk strings or buffers for the
// garbage collector (joined chunk strings were large objects, each one a step towards a
// full collection).

import { createHash, type Hash } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';

const CHUNK_BYTES = 256 * 1024;
/** A buffer filled this far goes to the disk (and a caller waits when the disk is behind). */
const SEND_AT = CHUNK_BYTES - 64 * 1024;
/** UTF-8 takes at most 3 bytes per UTF-16 code unit. */
const MAX_BYTES_PER_UNIT = 3;

export class HashingWriter {
  readonly #stream: WriteStream;
  readonly #hash: Hash = createHash('sha256');
  #bytes = 0;
  #lines = 0;
  /** The buffer being filled, and how much of it is. */
  #buffer: Buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  #used = 0;
  /** Buffers the stream has written out, ready to be filled again. */
  readonly #free: Buffer[] = [];
  #failure: Error | undefined;

  constructor(path: string) {
    // 'wx': an export never overwrites a file (the output directory must be new or empty).
    this.#stream = createWriteStream(path, { flags: 'wx' });
    this.#stream.on('error', (error) => {
      this.#failure = error;
    });
  }

  /** Writes `text` (or bytes); resolves at once unless the buffer is full. */
  async write(text: string | Uint8Array): Promise<void> {
    if (this.#failure !== undefined) throw this.#failure;
    if (typeof text === 'string') {
      this.#encode(text);
      return this.#used >= SEND_AT ? this.#flush() : undefined;
    }
    await this.#flush();
    await this.#writeBytes(text);
  }

  /**
   * Writes `line` and a line break. `onBytes` gets the line's UTF-8 bytes (without the
   * break), valid only during the call: what the hash chain hashes, without encoding twice.
   */
  async writeLine(line: string, onBytes?: (bytes: Uint8Array) => void): Promise<void> {
    if (this.#failure !== undefined) throw this.#failure;
    this.#lines++;
    const start = this.#encode(line);
    onBytes?.(this.#buffer.subarray(start, this.#used));
    this.#buffer[this.#used++] = 10;
    if (this.#used >= SEND_AT) await this.#flush();
  }

  /** Appends the UTF-8 of `text` to the buffer (a buffer of its own when larger); returns where it starts. */
  #encode(text: string): number {
    const room = this.#buffer.length - this.#used - 1; // one byte kept for a line break
    if (text.length * MAX_BYTES_PER_UNIT > room) {
      if (this.#used > 0) this.#send();
      if (text.length * MAX_BYTES_PER_UNIT > this.#buffer.length - 1) {
        // Larger than a chunk (a huge line): a buffer of its own, sent when flushed.
        this.#free.push(this.#buffer);
        this.#buffer = Buffer.allocUnsafe(Buffer.byteLength(text, 'utf8') + 1);
      }
    }
    const start = this.#used;
    this.#used += this.#buffer.write(text, start, 'utf8');
    return start;
  }

  /** Hashes the filled part of the buffer and hands it to the stream; takes a fresh buffer. */
  #send(): boolean {
    const buffer = this.#buffer;
    const filled = buffer.subarray(0, this.#used);
    this.#hash.update(filled);
    this.#bytes += filled.length;
    const reusable = buffer.length === CHUNK_BYTES;
    const more = this.#stream.write(filled, () => {
      if (reusable) this.#free.push(buffer);
    });
    this.#buffer = this.#free.pop() ?? Buffer.allocUnsafe(CHUNK_BYTES);
    this.#used = 0;
    return more;
  }

  async #flush(): Promise<void> {
    if (this.#used === 0) return;
    if (!this.#send()) await this.#drained();
    if (this.#failure !== undefined) throw this.#failure;
  }

  async #writeBytes(bytes: Uint8Array): Promise<void> {
    this.#hash.update(bytes);
    this.#bytes += bytes.length;
    if (!this.#stream.write(bytes)) await this.#drained();
    if (this.#failure !== undefined) throw this.#failure;
  }

  #drained(): Promise<void> {
    const stream = this.#stream;
    return new Promise((resolve, reject) => {
      const onDrain = (): void => {
        stream.off('error', onError);
        resolve();
      };
      const onError = (error: Error): void => {
        stream.off('drain', onDrain);
        reject(error);
      };
      stream.once('drain', onDrain);
      stream.once('error', onError);
    });
  }

  async close(): Promise<{ sha256: string; bytes: number; lines: number }> {
    if (this.#failure !== undefined) throw this.#failure;
    await this.#flush();
    await new Promise<void>((resolve, reject) => {
      this.#stream.end((error?: Error | null) => (error ? reject(error) : resolve()));
    });
    if (this.#failure !== undefined) throw this.#failure;
    return { sha256: this.#hash.digest('hex'), bytes: this.#bytes, lines: this.#lines };
  }

  /** Closes without a digest, after a failure elsewhere. */
  destroy(): void {
    this.#stream.destroy();
  }
}
