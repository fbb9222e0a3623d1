// Pure helpers of the content repository: Content-Disposition and filenames (client-server
// § "Serving inline content"), Range parsing (RFC 9110 § 14), media IDs (§ "Security
// considerations"), thumbnail size choice (§ "Thumbnails"), multipart/mixed (server-server
// § "Content Repository").

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { contentDisposition, filenameFromDisposition, isAcceptableFilename, sanitizeContentType } from './content-disposition.ts';
import { generateMediaId, isValidMediaId } from './media-id.ts';
import { boundaryOf, multipartMediaBody, parseMultipartMedia } from './multipart.ts';
import { parseRange } from './range.ts';
import { chooseThumbnailSize } from './thumbnailer.ts';

test('Content-Disposition: inline only for the safe types; filenames cannot break the header', () => {
  assert.equal(contentDisposition('image/png', 'a.png'), 'inline; filename="a.png"');
  assert.equal(contentDisposition('Text/Plain; charset=utf-8', undefined), 'inline');
  assert.equal(contentDisposition('text/html', 'x.html'), 'attachment; filename="x.html"');
  assert.equal(contentDisposition('image/svg+xml', 'x.svg'), 'attachment; filename="x.svg"');
  assert.equal(contentDisposition('application/pdf', 'a"b\\c.pdf'), 'attachment; filename="a\\"b\\\\c.pdf"');
  assert.equal(contentDisposition('text/plain', 'evil\r\nSet-Cookie: x=1'), 'inline; filename="evilSet-Cookie: x=1"');
  assert.equal(contentDisposition('text/plain', 'résumé.txt'), `inline; filename="r_sum_.txt"; filename*=utf-8''r%C3%A9sum%C3%A9.txt`);
  assert.equal(contentDisposition('application/zip', 'thumb.png', true), 'inline; filename="thumb.png"');
});

test('filenames: base names only; remote dispositions parsed', () => {
  for (const bad of ['../../etc/passwd', 'a/b', 'a\\b', '..', '.', '', 'a\u0000b', 'x'.repeat(256)]) assert.equal(isAcceptableFilename(bad), false, bad);
  for (const good of ['report.pdf', 'War and Peace.pdf', 'résumé.txt', '..hidden']) assert.equal(isAcceptableFilename(good), true, good);
  assert.equal(filenameFromDisposition(`attachment; filename="a.txt"; filename*=utf-8''r%C3%A9.txt`), 'ré.txt');
  assert.equal(filenameFromDisposition('inline; filename="q\\"uote.png"'), 'q"uote.png');
  assert.equal(filenameFromDisposition('inline; filename=plain.png'), 'plain.png');
  assert.equal(filenameFromDisposition('inline'), undefined);
});

test('content types: repeated when well-formed, else application/octet-stream', () => {
  assert.equal(sanitizeContentType('image/png'), 'image/png');
  assert.equal(sanitizeContentType('text/plain; charset=utf-8'), 'text/plain; charset=utf-8');
  assert.equal(sanitizeContentType(undefined), 'application/octet-stream');
  assert.equal(sanitizeContentType('image/png\r\nX-Evil: 1'), 'application/octet-stream');
  assert.equal(sanitizeContentType('nonsense'), 'application/octet-stream');
});

test('Range parsing', () => {
  assert.deepEqual(parseRange(undefined, 100), { kind: 'full' });
  assert.deepEqual(parseRange('bytes=0-9', 100), { kind: 'partial', start: 0, end: 9 });
  assert.deepEqual(parseRange('bytes=90-', 100), { kind: 'partial', start: 90, end: 99 });
  assert.deepEqual(parseRange('bytes=90-500', 100), { kind: 'partial', start: 90, end: 99 });
  assert.deepEqual(parseRange('bytes=-10', 100), { kind: 'partial', start: 90, end: 99 });
  assert.deepEqual(parseRange('bytes=-500', 100), { kind: 'partial', start: 0, end: 99 });
  assert.deepEqual(parseRange('bytes=100-', 100), { kind: 'unsatisfiable' });
  assert.deepEqual(parseRange('bytes=-0', 100), { kind: 'unsatisfiable' });
  assert.deepEqual(parseRange('bytes=0-0', 0), { kind: 'unsatisfiable' });
  // Several ranges, reversed ranges and other units: the whole file.
  assert.deepEqual(parseRange('bytes=0-1,5-6', 100), { kind: 'full' });
  assert.deepEqual(parseRange('bytes=9-3', 100), { kind: 'full' });
  assert.deepEqual(parseRange('items=0-1', 100), { kind: 'full' });
});

test('media IDs: generated ones are valid; traversal and other characters are not', () => {
  for (let i = 0; i < 100; i++) assert.ok(isValidMediaId(generateMediaId()));
  for (const bad of ['../x', 'a/b', 'a.b', 'a%2Fb', '', 'é', 'a b']) assert.equal(isValidMediaId(bad), false, bad);
});

test('thumbnail size choice: the smallest configured size that covers the request, else the largest', () => {
  const sizes = [
    { width: 32, height: 32, method: 'crop' },
    { width: 96, height: 96, method: 'crop' },
    { width: 320, height: 240, method: 'scale' },
    { width: 640, height: 480, method: 'scale' },
  ] as const;
  assert.deepEqual(chooseThumbnailSize(sizes, { width: 64, height: 64, method: 'crop' }), sizes[1]);
  assert.deepEqual(chooseThumbnailSize(sizes, { width: 20, height: 20, method: 'crop' }), sizes[0]);
  assert.deepEqual(chooseThumbnailSize(sizes, { width: 2000, height: 20, method: 'crop' }), sizes[1]);
  assert.deepEqual(chooseThumbnailSize(sizes, { width: 400, height: 100, method: 'scale' }), sizes[3]);
});

test('multipart/mixed: what we send parses back, whatever the chunking', async () => {
  const bytes = randomBytes(100_000);
  const boundary = 'b0undary';
  const body = multipartMediaBody(boundary, { contentType: 'image/png', contentDisposition: 'inline; filename="a.png"' }, [bytes]);
  const whole: Buffer[] = [];
  for await (const chunk of body) whole.push(chunk as Buffer);
  const wire = Buffer.concat(whole);
  for (const size of [1, 7, 4096, wire.length]) {
    async function* chunks(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < wire.length; i += size) yield wire.subarray(i, i + size);
    }
    const parsed = await parseMultipartMedia(chunks(), boundary);
    assert.deepEqual(parsed.metadata, {});
    assert.equal(parsed.media.kind, 'bytes');
    if (parsed.media.kind !== 'bytes') return;
    assert.equal(parsed.media.headers.get('content-type'), 'image/png');
    const out: Buffer[] = [];
    for await (const chunk of parsed.media.body) out.push(chunk);
    assert.deepEqual(Buffer.concat(out), bytes, `chunk size ${size}`);
  }
  assert.equal(boundaryOf('multipart/mixed; boundary=abc'), 'abc');
  assert.equal(boundaryOf('multipart/mixed; boundary="a b"'), 'a b');
  assert.equal(boundaryOf('application/json'), undefined);
});

test('multipart/mixed: a Location part, and truncated bodies', async () => {
  const text = '--x\r\nContent-Type: application/json\r\n\r\n{}\r\n--x\r\nLocation: https://cdn.example/a\r\n\r\n\r\n--x--\r\n';
  const parsed = await parseMultipartMedia([Buffer.from(text)], 'x');
  assert.deepEqual(parsed.media.kind === 'location' ? parsed.media.location : undefined, 'https://cdn.example/a');
  const cut = '--x\r\nContent-Type: application/json\r\n\r\n{}\r\n--x\r\nContent-Type: image/png\r\n\r\nPNGDATA';
  const truncated = await parseMultipartMedia([Buffer.from(cut)], 'x');
  assert.equal(truncated.media.kind, 'bytes');
  if (truncated.media.kind !== 'bytes') return;
  const body = truncated.media.body;
  await assert.rejects(async () => {
    for await (const chunk of body) void chunk;
  }, /closing boundary/);
  await assert.rejects(parseMultipartMedia([Buffer.from('--x\r\n\r\n{}\r\n--x--\r\n')], 'x'), /only one part/);
});
