// The hash chain over events.jsonl: h_0 = sha256("stoa-export-v1" ‖ canonical JSON of the
// scope), h_i = sha256(h_{i-1} ‖ sha256(line_i)), line_i being the line's UTF-8 bytes
// without its newline. The manifest (signed) records the head, so editing, removing,
// adding or reordering any line changes the head; binding the scope into h_0 stops a
// bundle's lines being passed off under another scope.

import { createHash, hash } from 'node:crypto';
import { canonicalJson } from '../../rooms/canonical-json.ts';
import { BUNDLE_FORMAT, type ExportScope } from './bundle-format.ts';

export class HashChain {
  /**
   * h_{i-1} ‖ sha256(line_i), reused for every line. Digests come back as 'binary' (latin1) strings
   * (one character per byte) written into it: a Buffer per digest would be an ArrayBuffer
   * per line for the garbage collector, millions of them, each counting towards a full
   * collection.
   */
  readonly #link = Buffer.alloc(64);
  #length = 0;

  constructor(scope: ExportScope) {
    createHash('sha256').update(BUNDLE_FORMAT).update(canonicalJson(scope)).digest().copy(this.#link, 0);
  }

  /** Appends one line (text without the newline, or its UTF-8 bytes). */
  push(line: string | Uint8Array): void {
    // One-shot hashes: about twice as fast as Hash objects for lines this short.
    this.#link.write(hash('sha256', line, 'binary'), 32, 'binary');
    this.#advance();
  }

  /** Appends one line by its SHA-256 (32 bytes), computed elsewhere (the verifier's workers). */
  pushLineHash(lineHash: Uint8Array): void {
    this.#link.set(lineHash, 32);
    this.#advance();
  }

  #advance(): void {
    this.#link.write(hash('sha256', this.#link, 'binary'), 0, 'binary');
    this.#length++;
  }

  get length(): number {
    return this.#length;
  }

  /** The current head, lowercase hex. */
  get head(): string {
    return this.#link.toString('hex', 0, 32);
  }
}
