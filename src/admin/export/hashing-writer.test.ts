// The export's file writer: what it writes, hashes and counts is exactly the text it was
// given, across its reused buffers, for multi-byte text and for lines longer than a buffer.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { HashingWriter } from './hashing-writer.ts';

let work = '';
before(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'stoa-hashing-writer-'));
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

test('the file, its SHA-256, size and line count are those of the text written; each line is handed over as its UTF-8', async () => {
  const file = path.join(work, 'out.txt');
  const writer = new HashingWriter(file);
  const expected: Buffer[] = [];
  const text = (value: string): string => {
    expected.push(Buffer.from(value, 'utf8'));
    return value;
  };
  const seen: string[] = [];
  await writer.write(text('<header>é😀\n'));
  let lines = 0;
  for (let i = 0; i < 20_000; i++) {
    // Multi-byte characters (2, 3 and 4 bytes in UTF-8) land on every buffer boundary.
    const line = i === 7_000 ? `huge ${'ü'.repeat(200_000)} end` : `{"n":${i},"body":"ça va? 日本 ${'😀'.repeat(i % 5)}"}`;
    await writer.writeLine(line, (bytes) => {
      if (i % 997 === 0 || i === 7_000) seen.push(Buffer.from(bytes).toString('utf8'));
    });
    text(`${line}\n`);
    lines++;
    if (i % 5_000 === 0) await writer.write(text(`<row ${i}>`));
  }
  const raw = new Uint8Array([0xff, 0x00, 0x10]);
  await writer.write(raw);
  expected.push(Buffer.from(raw));
  await writer.write(text('tail'));
  const digest = await writer.close();

  const want = Buffer.concat(expected);
  const got = await readFile(file);
  assert.ok(got.equals(want));
  assert.equal(digest.bytes, want.length);
  assert.equal(digest.sha256, createHash('sha256').update(want).digest('hex'));
  assert.equal(digest.lines, lines);
  assert.ok(seen.includes(`huge ${'ü'.repeat(200_000)} end`));
  assert.ok(seen.includes('{"n":997,"body":"ça va? 日本 😀😀"}'));
});

test('an existing file is never overwritten', async () => {
  const file = path.join(work, 'once.txt');
  const first = new HashingWriter(file);
  await first.writeLine('one');
  await first.close();
  const second = new HashingWriter(file);
  await second.writeLine('two');
  await assert.rejects(second.close(), /EEXIST/);
  assert.equal(await readFile(file, 'utf8'), 'one\n');
});
