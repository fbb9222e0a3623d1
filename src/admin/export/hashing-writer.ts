// A file written in order while its SHA-256 and size are computed, waiting for the disk when
// the stream's buffer is full so an export of millions of lines never holds them in memory.

import { createHash, type Hash } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';

const CHUNK_CHARS = 256 * 1024;

export class HashingWriter {
  readonly #stream: WriteStream;
  readonly #hash: Hash = createHash('sha256');
  #bytes = 0;
  #lines = 0;
  #pending: string[] = [];
  #pendingLength = 0;
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
      // Lines are gathered and written in chunks: one Buffer, one hash update and one
      // stream write per ~256 KB instead of per line (the export's hot path).
      this.#pending.push(text);
      this.#pendingLength += text.length;
      if (this.#pendingLength >= CHUNK_CHARS) await this.#flush();
      return;
    }
    await this.#flush();
    await this.#writeBytes(text);
  }

  async #flush(): Promise<void> {
    if (this.#pending.length === 0) return;
    const bytes = Buffer.from(this.#pending.join(''), 'utf8');
    this.#pending = [];
    this.#pendingLength = 0;
    await this.#writeBytes(bytes);
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

  async writeLine(line: string): Promise<void> {
    this.#lines++;
    await this.write(`${line}\n`);
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
