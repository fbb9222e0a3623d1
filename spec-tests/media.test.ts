// The content repository on real nodes (client-server § "Content repository", OpenAPI
// content-repo.yaml and authed-content-repo.yaml; server-server § "Content Repository").
// Two federating nodes store media encrypted at rest with the spec's default freeze of the
// unauthenticated routes; a third, plaintext node keeps the legacy routes open.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as sdk from 'matrix-js-sdk';
import { logger as sdkGlobalLogger } from 'matrix-js-sdk/lib/logger.js';
import sharp from 'sharp';
import { fetch } from 'undici';
import { request } from './rig/http.ts';
import { startNodes, stopNodes, type TestNode } from './rig/nodes.ts';
import { expectMatrixError, expectSpecResponse } from './rig/openapi.ts';
import { registerUser, type RegisteredUser } from './rig/users.ts';

Object.assign(sdkGlobalLogger, { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} });

const MAX_UPLOAD = 2_000_000;
const QUOTA = 3_000_000;
const CSP = "sandbox; default-src 'none'; script-src 'none'; plugin-types application/pdf; style-src 'unsafe-inline'; object-src 'self';";

interface Binary {
  readonly status: number;
  readonly headers: Headers;
  readonly bytes: Buffer;
  readonly body: unknown;
}

async function binary(url: string, init: { method?: string; headers?: Record<string, string>; body?: Uint8Array } = {}): Promise<Binary> {
  const response = await fetch(url, { method: init.method ?? 'GET', headers: init.headers ?? {}, ...(init.body === undefined ? {} : { body: init.body }) });
  const bytes = Buffer.from(await response.arrayBuffer());
  let body: unknown;
  try {
    body = JSON.parse(bytes.toString('utf8'));
  } catch {
    body = undefined;
  }
  return { status: response.status, headers: response.headers as unknown as Headers, bytes, body };
}

const auth = (user: RegisteredUser): Record<string, string> => ({ Authorization: `Bearer ${user.accessToken}` });

async function upload(node: TestNode, user: RegisteredUser, bytes: Uint8Array, contentType: string, filename?: string): Promise<string> {
  const query = filename === undefined ? '' : `?filename=${encodeURIComponent(filename)}`;
  const res = await binary(`${node.clientUrl}/_matrix/media/v3/upload${query}`, {
    method: 'POST',
    headers: { ...auth(user), 'Content-Type': contentType },
    body: bytes,
  });
  assert.equal(res.status, 200, res.bytes.toString());
  expectSpecResponse(res, 'uploadContent');
  return (res.body as { content_uri: string }).content_uri;
}

function mxcParts(uri: string): { server: string; id: string } {
  const match = /^mxc:\/\/([^/]+)\/([A-Za-z0-9_-]+)$/.exec(uri);
  assert.ok(match !== null, uri);
  return { server: match[1] ?? '', id: match[2] ?? '' };
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name)).sort();
}

function assertMediaHeaders(res: Binary): void {
  assert.equal(res.headers.get('content-security-policy'), CSP);
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(res.headers.get('cross-origin-resource-policy'), 'cross-origin');
}

/** Sends the head of a request and `sent` body bytes, then closes the connection. */
function truncatedUpload(url: string, token: string, declared: number, sent: number): Promise<void> {
  const target = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(target.port), target.hostname, () => {
      socket.write(
        `POST ${target.pathname} HTTP/1.1\r\nHost: ${target.host}\r\nAuthorization: Bearer ${token}\r\n` +
          `Content-Type: application/octet-stream\r\nContent-Length: ${declared}\r\n\r\n`,
      );
      socket.write(randomBytes(sent), () => setTimeout(() => socket.destroy(), 200));
    });
    socket.on('close', () => resolve());
    socket.on('error', () => resolve());
  });
}

async function images(): Promise<Record<'png' | 'jpeg' | 'gif' | 'webp', Buffer>> {
  const base = (width: number, height: number) =>
    sharp({ create: { width, height, channels: 3, background: { r: 200, g: 40, b: 90 } } });
  const frame = (color: number) =>
    sharp({ create: { width: 200, height: 200, channels: 3, background: { r: color, g: 100, b: 50 } } }).png().toBuffer();
  const gif = await sharp([await frame(10), await frame(240)], { join: { animated: true } }).gif({ delay: [100, 100] }).toBuffer();
  return {
    png: await base(300, 200).png().toBuffer(),
    jpeg: await base(1000, 800).jpeg().toBuffer(),
    gif,
    webp: await base(500, 500).webp().toBuffer(),
  };
}

describe('content repository (two encrypted nodes, legacy routes frozen)', () => {
  let nodes: TestNode[];
  let a: TestNode;
  let b: TestNode;
  let alice: RegisteredUser;
  let mallory: RegisteredUser;
  let bob: RegisteredUser;
  const key = randomBytes(32).toString('base64');

  before(async () => {
    nodes = await startNodes(2, {
      tls: true,
      configOverrides: { media: { max_upload_bytes: MAX_UPLOAD, quota_bytes_per_user: QUOTA, encryption: { key } } },
    });
    [a, b] = nodes as [TestNode, TestNode];
    [alice, mallory, bob] = await Promise.all([registerUser(a, 'alice'), registerUser(a, 'mallory'), registerUser(b, 'bob')]);
  });
  after(async () => {
    await stopNodes(nodes);
  });

  test('GET /media/config (v1 and deprecated v3) gives the upload limit', async () => {
    for (const [path, op] of [
      ['/_matrix/client/v1/media/config', 'getConfigAuthed'],
      ['/_matrix/media/v3/config', 'getConfig'],
    ] as const) {
      const res = await request(`${a.clientUrl}${path}`, { headers: auth(alice) });
      assert.equal(res.status, 200);
      expectSpecResponse(res, op);
      assert.deepEqual(res.body, { 'm.upload.size': MAX_UPLOAD });
    }
  });

  test('upload then authenticated download: same bytes, type, filename, and the security headers', async () => {
    const bytes = randomBytes(70_000);
    const uri = await upload(a, alice, bytes, 'image/png', 'holiday photo.png');
    const { server, id } = mxcParts(uri);
    assert.equal(server, a.serverName);
    const res = await binary(`${a.clientUrl}/_matrix/client/v1/media/download/${server}/${id}`, { headers: auth(alice) });
    assert.equal(res.status, 200);
    assert.deepEqual(res.bytes, bytes);
    assert.equal(res.headers.get('content-type'), 'image/png');
    assert.equal(res.headers.get('content-disposition'), 'inline; filename="holiday photo.png"');
    assert.equal(res.headers.get('content-length'), String(bytes.length));
    assertMediaHeaders(res);

    const renamed = await binary(`${a.clientUrl}/_matrix/client/v1/media/download/${server}/${id}/other.png`, { headers: auth(alice) });
    assert.equal(renamed.headers.get('content-disposition'), 'inline; filename="other.png"');

    const anonymous = await binary(`${a.clientUrl}/_matrix/client/v1/media/download/${server}/${id}`);
    expectMatrixError(anonymous, 401, 'M_MISSING_TOKEN');
  });

  test('unsafe types are attachments; non-ASCII filenames use filename*', async () => {
    const uri = await upload(a, alice, Buffer.from('<script>alert(1)</script>'), 'text/html', 'pagé "x".html');
    const { server, id } = mxcParts(uri);
    const res = await binary(`${a.clientUrl}/_matrix/client/v1/media/download/${server}/${id}`, { headers: auth(alice) });
    assert.equal(res.headers.get('content-type'), 'text/html');
    assert.equal(res.headers.get('content-disposition'), `attachment; filename="pag_ \\"x\\".html"; filename*=utf-8''pag%C3%A9%20%22x%22.html`);
    assertMediaHeaders(res);
  });

  test('range requests: 206 with Content-Range, suffix ranges, 416 past the end', async () => {
    const bytes = randomBytes(200_000);
    const { server, id } = mxcParts(await upload(a, alice, bytes, 'application/octet-stream'));
    const url = `${a.clientUrl}/_matrix/client/v1/media/download/${server}/${id}`;
    const part = await binary(url, { headers: { ...auth(alice), Range: 'bytes=65530-131080' } });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('content-range'), `bytes 65530-131080/${bytes.length}`);
    assert.deepEqual(part.bytes, bytes.subarray(65530, 131081));
    const suffix = await binary(url, { headers: { ...auth(alice), Range: 'bytes=-10' } });
    assert.deepEqual(suffix.bytes, bytes.subarray(bytes.length - 10));
    const beyond = await binary(url, { headers: { ...auth(alice), Range: `bytes=${bytes.length}-` } });
    assert.equal(beyond.status, 416);
    assert.equal(beyond.headers.get('content-range'), `bytes */${bytes.length}`);
  });

  test('thumbnails of PNG, JPEG, GIF and WebP: crop and scale at the configured sizes, never enlarged', async () => {
    const sources = await images();
    for (const [format, bytes] of Object.entries(sources)) {
      const { server, id } = mxcParts(await upload(a, alice, bytes, `image/${format}`));
      const base = `${a.clientUrl}/_matrix/client/v1/media/thumbnail/${server}/${id}`;
      const crop = await binary(`${base}?width=64&height=64&method=crop`, { headers: auth(alice) });
      assert.equal(crop.status, 200, `${format}: ${crop.bytes.toString().slice(0, 200)}`);
      assertMediaHeaders(crop);
      assert.match(crop.headers.get('content-disposition') ?? '', /^inline; filename="thumbnail\.(png|jpeg)"$/);
      const cropMeta = await sharp(crop.bytes).metadata();
      // 64x64 is served from the 96x96 crop size.
      assert.deepEqual([cropMeta.width, cropMeta.height], [96, 96], format);
      const scale = await binary(`${base}?width=320&height=240&method=scale`, { headers: auth(alice) });
      const scaleMeta = await sharp(scale.bytes).metadata();
      const original = await sharp(bytes).metadata();
      const ratio = Math.min(320 / (original.width ?? 0), 240 / (original.pageHeight ?? original.height ?? 0), 1);
      assert.equal(scaleMeta.width, Math.round((original.width ?? 0) * ratio), `${format} scale width`);
      // Cached: the second request gives the same bytes.
      const again = await binary(`${base}?width=64&height=64&method=crop`, { headers: auth(alice) });
      assert.deepEqual(again.bytes, crop.bytes);
    }
  });

  test('animated thumbnails only when asked for: animated WebP from a GIF, a still otherwise', async () => {
    const { gif } = await images();
    const { server, id } = mxcParts(await upload(a, alice, gif, 'image/gif'));
    const base = `${a.clientUrl}/_matrix/client/v1/media/thumbnail/${server}/${id}?width=96&height=96&method=crop`;
    const animated = await binary(`${base}&animated=true`, { headers: auth(alice) });
    assert.equal(animated.headers.get('content-type'), 'image/webp');
    assert.equal((await sharp(animated.bytes, { animated: true }).metadata()).pages, 2);
    const still = await binary(base, { headers: auth(alice) });
    assert.equal(still.headers.get('content-type'), 'image/png');
    assert.equal((await sharp(still.bytes).metadata()).pages ?? 1, 1);
  });

  test('thumbnails: an image smaller than asked for is served as it is; non-images and bad sizes are errors', async () => {
    const small = await sharp({ create: { width: 20, height: 10, channels: 3, background: '#fff' } }).png().toBuffer();
    const { server, id } = mxcParts(await upload(a, alice, small, 'image/png'));
    const res = await binary(`${a.clientUrl}/_matrix/client/v1/media/thumbnail/${server}/${id}?width=32&height=32&method=scale`, { headers: auth(alice) });
    assert.deepEqual(res.bytes, small);

    const text = mxcParts(await upload(a, alice, Buffer.from('just text'), 'text/plain'));
    const notImage = await binary(`${a.clientUrl}/_matrix/client/v1/media/thumbnail/${text.server}/${text.id}?width=32&height=32`, { headers: auth(alice) });
    expectMatrixError(notImage, 400, 'M_UNKNOWN');
    expectSpecResponse(notImage, 'getContentThumbnailAuthed');
    const bad = await binary(`${a.clientUrl}/_matrix/client/v1/media/thumbnail/${server}/${id}?width=-3&height=32`, { headers: auth(alice) });
    expectMatrixError(bad, 400, 'M_INVALID_PARAM');
  });

  test('identical uploads are stored once, encrypted: the plaintext is nowhere on disk', async () => {
    const bytes = Buffer.from(`a very recognisable plaintext ${randomBytes(8).toString('hex')} `.repeat(2000));
    const first = await upload(a, alice, bytes, 'text/plain');
    const second = await upload(a, alice, bytes, 'text/plain');
    assert.notEqual(first, second);
    const files = await filesUnder(join(a.dataDir, 'media', 'blobs'));
    let holding = 0;
    for (const file of files) {
      const disk = await readFile(file);
      assert.equal(disk.indexOf(bytes.subarray(0, 40)), -1, `${file} holds plaintext`);
      if (disk.length > bytes.length) holding += 1;
    }
    assert.ok(files.every((f) => f.endsWith('.enc')));
    const { server, id } = mxcParts(second);
    const res = await binary(`${a.clientUrl}/_matrix/client/v1/media/download/${server}/${id}`, { headers: auth(alice) });
    assert.deepEqual(res.bytes, bytes);
    assert.ok(holding >= 1);
  });

  test('oversized, path-traversal, wrong-length and truncated uploads are refused and leave nothing on disk', async () => {
    const mediaDir = join(a.dataDir, 'media');
    const before = await filesUnder(mediaDir);
    const url = `${a.clientUrl}/_matrix/media/v3/upload`;

    const declaredTooLarge = await binary(url, { method: 'POST', headers: auth(alice), body: randomBytes(MAX_UPLOAD + 1) });
    expectMatrixError(declaredTooLarge, 413, 'M_TOO_LARGE');
    expectSpecResponse(declaredTooLarge, 'uploadContent');

    // Chunked, so the limit is only found while streaming.
    async function* chunks(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < 40; i++) yield randomBytes(64 * 1024);
    }
    const streamed = await fetch(url, { method: 'POST', headers: auth(alice), body: chunks(), duplex: 'half' }).catch(() => undefined);
    // The server may close the connection before the client finishes sending: also a refusal.
    if (streamed !== undefined) {
      assert.equal(streamed.status, 413);
      await streamed.arrayBuffer();
    }

    const traversal = await binary(`${url}?filename=${encodeURIComponent('../../etc/passwd')}`, { method: 'POST', headers: auth(alice), body: Buffer.from('x') });
    expectMatrixError(traversal, 400, 'M_INVALID_PARAM');
    const badId = await binary(`${a.clientUrl}/_matrix/client/v1/media/download/${a.serverName}/..%2F..%2Fetc%2Fpasswd`, { headers: auth(alice) });
    expectMatrixError(badId, 400, 'M_INVALID_PARAM');

    await truncatedUpload(url, alice.accessToken, 100_000, 5_000);
    // The server notices the closed connection asynchronously.
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.deepEqual(await filesUnder(mediaDir), before);
  });

  test('quota per user: 403 M_FORBIDDEN beyond it', async () => {
    await upload(a, mallory, randomBytes(1_500_000), 'application/octet-stream');
    await upload(a, mallory, randomBytes(1_400_000), 'application/octet-stream');
    const over = await binary(`${a.clientUrl}/_matrix/media/v3/upload`, { method: 'POST', headers: auth(mallory), body: randomBytes(200_000) });
    expectMatrixError(over, 403, 'M_FORBIDDEN');
  });

  test('asynchronous upload: create, 504 until uploaded, owner-only PUT, no overwrite', async () => {
    const created = await request(`${a.clientUrl}/_matrix/media/v1/create`, { method: 'POST', headers: auth(alice), body: {} });
    assert.equal(created.status, 200);
    expectSpecResponse(created, 'createContent');
    const { content_uri: uri, unused_expires_at: expires } = created.body as { content_uri: string; unused_expires_at: number };
    assert.ok(expires > Date.now());
    const { server, id } = mxcParts(uri);
    const download = `${a.clientUrl}/_matrix/client/v1/media/download/${server}/${id}`;

    const early = await binary(`${download}?timeout_ms=100`, { headers: auth(alice) });
    expectMatrixError(early, 504, 'M_NOT_YET_UPLOADED');
    expectSpecResponse(early, 'getContentAuthed');

    const putUrl = `${a.clientUrl}/_matrix/media/v3/upload/${server}/${id}?filename=late.txt`;
    const notOwner = await binary(putUrl, { method: 'PUT', headers: { ...auth(mallory), 'Content-Type': 'text/plain' }, body: Buffer.from('hijack') });
    expectMatrixError(notOwner, 403, 'M_FORBIDDEN');

    // A download that waits is answered once the upload lands.
    const waiting = binary(`${download}?timeout_ms=10000`, { headers: auth(alice) });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const put = await binary(putUrl, { method: 'PUT', headers: { ...auth(alice), 'Content-Type': 'text/plain' }, body: Buffer.from('arrived late') });
    assert.equal(put.status, 200);
    expectSpecResponse(put, 'uploadContentToMXC');
    const waited = await waiting;
    assert.equal(waited.status, 200);
    assert.equal(waited.bytes.toString(), 'arrived late');
    assert.equal(waited.headers.get('content-disposition'), 'inline; filename="late.txt"');

    const again = await binary(putUrl, { method: 'PUT', headers: auth(alice), body: Buffer.from('again') });
    expectMatrixError(again, 409, 'M_CANNOT_OVERWRITE_MEDIA');
    expectSpecResponse(again, 'uploadContentToMXC');
    const unknown = await binary(`${a.clientUrl}/_matrix/media/v3/upload/${server}/AAAAAAAAAAAAAAAAAAAAAAAA`, { method: 'PUT', headers: auth(alice), body: Buffer.from('x') });
    expectMatrixError(unknown, 404, 'M_NOT_FOUND');
  });

  test('the deprecated unauthenticated routes are frozen for media stored after the freeze date', async () => {
    const { server, id } = mxcParts(await upload(a, alice, Buffer.from('new media'), 'text/plain'));
    const legacy = await binary(`${a.clientUrl}/_matrix/media/v3/download/${server}/${id}`);
    expectMatrixError(legacy, 404, 'M_NOT_FOUND');
    assertMediaHeaders(legacy);
  });

  test('a node fetches media uploaded on another node over federation, then serves it from its cache', async () => {
    const bytes = randomBytes(150_000);
    const { server, id } = mxcParts(await upload(a, alice, bytes, 'application/pdf', 'report.pdf'));
    const url = `${b.clientUrl}/_matrix/client/v1/media/download/${server}/${id}`;
    const remote = await binary(url, { headers: auth(bob) });
    assert.equal(remote.status, 200, remote.bytes.toString().slice(0, 300));
    assert.deepEqual(remote.bytes, bytes);
    assert.equal(remote.headers.get('content-type'), 'application/pdf');
    assert.equal(remote.headers.get('content-disposition'), 'attachment; filename="report.pdf"');
    const png = (await images()).png;
    const pic = mxcParts(await upload(a, alice, png, 'image/png'));
    const thumb = await binary(`${b.clientUrl}/_matrix/client/v1/media/thumbnail/${pic.server}/${pic.id}?width=96&height=96&method=crop`, { headers: auth(bob) });
    assert.equal(thumb.status, 200);
    assert.deepEqual([(await sharp(thumb.bytes).metadata()).width, (await sharp(thumb.bytes).metadata()).height], [96, 96]);
    const missing = await binary(`${b.clientUrl}/_matrix/client/v1/media/download/${server}/doesNotExist123`, { headers: auth(bob) });
    expectMatrixError(missing, 404, 'M_NOT_FOUND');
  });

  test('matrix-js-sdk uploadContent round trip', async () => {
    const client = sdk.createClient({ baseUrl: a.clientUrl, accessToken: alice.accessToken, userId: alice.userId, deviceId: alice.deviceId });
    const bytes = randomBytes(50_000);
    const uploaded = await client.uploadContent(bytes, { name: 'from-sdk.bin', type: 'application/octet-stream' });
    const httpUrl = client.mxcUrlToHttp(uploaded.content_uri, undefined, undefined, undefined, false, true, true);
    assert.ok(httpUrl !== null && httpUrl.includes('/_matrix/client/v1/media/download/'));
    const res = await binary(httpUrl, { headers: auth(alice) });
    assert.deepEqual(res.bytes, bytes);
    assert.equal(res.headers.get('content-disposition'), 'attachment; filename="from-sdk.bin"');
    client.stopClient();
  });
});

describe('content repository: legacy routes open (freeze date in the future)', () => {
  let node: TestNode;
  let carol: RegisteredUser;
  before(async () => {
    [node] = (await startNodes(1, { configOverrides: { media: { legacy_unauthenticated_until: '2999-01-01T00:00:00Z' } } })) as [TestNode];
    carol = await registerUser(node, 'carol');
  });
  after(async () => {
    await node.stop();
  });

  test('media stored before the freeze is served without a token, thumbnails too', async () => {
    const png = (await images()).png;
    const { server, id } = mxcParts(await upload(node, carol, png, 'image/png', 'p.png'));
    const res = await binary(`${node.clientUrl}/_matrix/media/v3/download/${server}/${id}`);
    assert.equal(res.status, 200);
    assert.deepEqual(res.bytes, png);
    assertMediaHeaders(res);
    const thumb = await binary(`${node.clientUrl}/_matrix/media/v3/thumbnail/${server}/${id}?width=32&height=32&method=crop`);
    assert.equal(thumb.status, 200);
    assert.equal((await sharp(thumb.bytes).metadata()).width, 32);
    const files = await filesUnder(join(node.dataDir, 'media', 'blobs'));
    assert.ok(files.some((f) => !f.endsWith('.enc')));
  });
});
