// URL previews on a real node (client-server § "Content repository", GET
// /_matrix/client/v1/media/preview_url; issue 7 item 5): pages served by this test on
// loopback, which the node may reach only because the test allows 127.0.0.1/32 — every other
// non-public address (127.0.0.2 included) stays refused, also behind a redirect.

import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import sharp from 'sharp';
import { fetch } from 'undici';
import { request } from './rig/http.ts';
import { startNodes, stopNodes, type TestNode } from './rig/nodes.ts';
import { expectMatrixError, expectSpecResponse } from './rig/openapi.ts';
import { registerUser, type RegisteredUser } from './rig/users.ts';

const MAX_BYTES = 64 * 1024;

let node: TestNode;
let user: RegisteredUser;
let site: Server;
let sitePort = 0;
let png: Buffer;
const hits = new Map<string, number>();

function siteUrl(path: string, host = '127.0.0.1'): string {
  return `http://${host}:${sitePort}${path}`;
}

before(async () => {
  png = await sharp({ create: { width: 8, height: 6, channels: 3, background: '#336699' } }).png().toBuffer();
  site = createServer((req, res) => {
    const path = req.url ?? '/';
    hits.set(path, (hits.get(path) ?? 0) + 1);
    if (path === '/article') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(`<html><head><title>fallback</title>
        <meta property="og:title" content="Quarterly report &amp; outlook">
        <meta property="og:description" content="Numbers from every site">
        <meta property="og:image" content="/cover.png"></head><body>…</body></html>`);
    } else if (path === '/cover.png') {
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': png.length });
      res.end(png);
    } else if (path === '/huge') {
      // The head fits in the limit; megabytes of body follow, which the node must not read.
      res.writeHead(200, { 'content-type': 'text/html' });
      res.write('<html><head><meta property="og:title" content="Big page"></head><body>');
      res.end('x'.repeat(4 * 1024 * 1024));
    } else if (path === '/to-private') {
      res.writeHead(302, { location: siteUrl('/article', '127.0.0.2') });
      res.end();
    } else if (path === '/hang') {
      // Never answers: the node's timeout must end the preview.
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not here');
    }
  });
  await new Promise<void>((resolve) => site.listen(0, '0.0.0.0', resolve));
  sitePort = (site.address() as AddressInfo).port;
  [node] = (await startNodes(1, {
    configOverrides: {
      media: { url_preview: { enabled: true, max_bytes: MAX_BYTES, timeout_ms: 2000, ip_range_allowlist: ['127.0.0.1/32'] } },
    },
  })) as [TestNode];
  user = await registerUser(node, 'previewer');
});

after(async () => {
  site.closeAllConnections();
  await new Promise<void>((resolve) => site.close(() => resolve()));
  await stopNodes(node === undefined ? [] : [node]);
});

function preview(url: string | undefined, path = '/_matrix/client/v1/media/preview_url', token: string | null = user.accessToken) {
  const query = url === undefined ? '' : `?url=${encodeURIComponent(url)}`;
  return request(`${node.clientUrl}${path}${query}`, token === null ? {} : { headers: { authorization: `Bearer ${token}` } });
}

describe('client-server-api § GET /_matrix/client/v1/media/preview_url', () => {
  test('returns the OpenGraph data, with the page image copied into the media store', async () => {
    const res = await preview(siteUrl('/article'));
    expectSpecResponse(res, 'getUrlPreviewAuthed');
    const og = res.body as Record<string, unknown>;
    assert.equal(og['og:title'], 'Quarterly report & outlook');
    assert.equal(og['og:description'], 'Numbers from every site');
    assert.equal(og['og:image:type'], 'image/png');
    assert.equal(og['matrix:image:size'], png.length);
    const mxc = String(og['og:image']);
    assert.match(mxc, new RegExp(`^mxc://${node.serverName.replace(/[.]/g, '\\.')}/`));
    const download = await fetch(`${node.clientUrl}/_matrix/client/v1/media/download/${mxc.slice('mxc://'.length)}`, {
      headers: { authorization: `Bearer ${user.accessToken}` },
    });
    assert.equal(download.status, 200);
    assert.deepEqual(Buffer.from(await download.arrayBuffer()), png);
  });

  test('a second request is served from the cache, not fetched again', async () => {
    const before = hits.get('/article') ?? 0;
    const res = await preview(siteUrl('/article#section-2'));
    assert.equal(res.status, 200);
    assert.equal((res.body as Record<string, unknown>)['og:title'], 'Quarterly report & outlook');
    assert.equal(hits.get('/article') ?? 0, before, 'the fragment is not part of the cache key and the page was not fetched again');
  });

  test('an image URL previews as the image itself', async () => {
    const res = await preview(siteUrl('/cover.png'));
    expectSpecResponse(res, 'getUrlPreviewAuthed');
    assert.equal((res.body as Record<string, unknown>)['matrix:image:size'], png.length);
  });

  test('a page larger than max_bytes is cut, and its head still previews', async () => {
    const res = await preview(siteUrl('/huge'));
    assert.equal(res.status, 200);
    assert.equal((res.body as Record<string, unknown>)['og:title'], 'Big page');
  });

  test('the deprecated /_matrix/media/v3/preview_url answers the same, and needs a token', async () => {
    const res = await preview(siteUrl('/article'), '/_matrix/media/v3/preview_url');
    expectSpecResponse(res, 'getUrlPreview');
    expectMatrixError(await preview(siteUrl('/article'), '/_matrix/media/v3/preview_url', null), 401, 'M_MISSING_TOKEN');
  });
});

describe('client-server-api § preview_url refuses what it must not fetch (issue 11 item 5: SSRF guard)', () => {
  test('a non-public address outside the allow list is refused, directly and behind a redirect', async () => {
    expectMatrixError(await preview(siteUrl('/article', '127.0.0.2')), 403, 'M_FORBIDDEN');
    expectMatrixError(await preview(siteUrl('/to-private')), 403, 'M_FORBIDDEN');
    expectMatrixError(await preview(`http://[::1]:${sitePort}/article`), 403, 'M_FORBIDDEN');
    assert.equal(hits.get('/article') ?? 0, 1, 'the refused URLs never reached the site');
  });

  test('a server that never answers ends in an error within the timeout, not a hung request', async () => {
    expectMatrixError(await preview(siteUrl('/hang')), 502, 'M_UNKNOWN');
  });

  test('bad url parameters get the spec errors', async () => {
    expectMatrixError(await preview(undefined), 400, 'M_MISSING_PARAM');
    expectMatrixError(await preview('not a url'), 400, 'M_INVALID_PARAM');
    expectMatrixError(await preview('file:///etc/passwd'), 400, 'M_INVALID_PARAM');
    expectMatrixError(await preview(`ftp://127.0.0.1:${sitePort}/`), 400, 'M_INVALID_PARAM');
    expectMatrixError(await preview(siteUrl('/missing')), 502, 'M_UNKNOWN');
  });
});
