// The hash chain over events.jsonl: h_0 = sha256("stoa-export-v1" ‖ canonical JSON of the
// scope), h_i = sha256(h_{i-1} ‖ sha256(line_i)), line_i being the line's UTF-8 bytes
// without its newline. The manifest (signed) records the head, so editing, removing,
// adding or reordering any line changes the head; binding the scope into h_0 stops a
// bundle's lines being passed off under another scope.

import { createHash, hash } from 'node:crypto';
import { canonicalJson } from '../../rooms/canonical-json.ts';
import { BUNDLE_FORMAT, type ExportScope } from './bundle-format.ts';

export class HashChain {
  #head: Buffer;
  #length = 0;
  /** h_{i-1} ‖ sha256(line_i), reused for every line. */
  readonly #link = Buffer.alloc(64);

  constructor(scope: ExportScope) {
    this.#head = createHash('sha256').update(BUNDLE_FORMAT).update(canonicalJson(scope)).digest();
  }

  /** Appends one line (text without the newline, or its UTF-8 bytes). */
  push(line: string | Uint8Array): void {
    // One-shot hashes: about twice as fast as Hash objects for lines this short.
    const lineHash = hash('sha256', line, 'buffer');
    this.#link.set(this.#head, 0);
    this.#link.set(lineHash, 32);
    this.#head = hash('sha256', this.#link, 'buffer');
    this.#length++;
  }

  get length(): number {
    return this.#length;
  }

  /** The current head, lowercase hex. */
  get head(): string {
    return this.#head.toString('hex');
  }
}
