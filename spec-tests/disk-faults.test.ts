// The media store's disk filling up (issue 11 item 2; client-server § "Content
// repository"). The node's media store sits on a 1 MiB tmpfs; an upload that does not fit
// must be answered with a clear error (507 M_UNKNOWN), leave no partial file behind and no
// media row pointing at one, and the node must keep taking uploads that fit.
//
// Mounting a tmpfs needs root (or CAP_SYS_ADMIN); elsewhere the file is skipped.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { request, type HttpResponse } from './rig/http.ts';
import { startNodes, stopNodes, type TestNode } from './rig/nodes.ts';
import { expectMatrixError, expectSpecResponse } from './rig/openapi.ts';
import { authHeaders, registerUser, type RegisteredUser } from './rig/users.ts';

const enc = encodeURIComponent;

function tryMountTinyFs(): string | undefined {
  const dir = join(tmpdir(), `stoa-tinyfs-${process.pid}-${Date.now()}`);
  try {
    execFileSync('mkdir', ['-p', dir]);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir], { stdio: 'ignore' });
    return dir;
  } catch {
    return undefined;
  }
}

const mountPoint = tryMountTinyFs();
let node: TestNode;
let alice: RegisteredUser;

function upload(bytes: Uint8Array): Promise<HttpResponse> {
  return request(`${node.clientUrl}/_matrix/media/v3/upload?filename=blob.bin`, {
    method: 'POST',
    headers: { ...authHeaders(alice), 'content-type': 'application/octet-stream' },
    body: bytes,
  });
}

/** Every file under the media store, relative paths. */
async function filesIn(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
}

/** Random bytes: identical uploads are stored once, so each must differ. */
function bytesOf(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed * 2654435761;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

describe('client-server-api § Content repository: the media disk is full', { skip: mountPoint === undefined ? 'cannot mount a tmpfs here (needs root)' : false }, () => {
  before(async () => {
    [node] = (await startNodes(1, { configOverrides: { media: { store_path: mountPoint! } } })) as [TestNode];
    alice = await registerUser(node, 'alice');
  });

  after(async () => {
    await stopNodes(node === undefined ? [] : [node]);
    if (mountPoint !== undefined) {
      execFileSync('umount', [mountPoint]);
      await rm(mountPoint, { recursive: true, force: true });
    }
  });

  test('POST /upload that does not fit: 507 M_UNKNOWN, no partial file, and later uploads that fit still work', async () => {
    expectSpecResponse(await upload(bytesOf(400 * 1024, 1)), 'uploadContent');
    const before = await filesIn(mountPoint!);
    const full = await upload(bytesOf(2 * 1024 * 1024, 2));
    expectMatrixError(full, 507, 'M_UNKNOWN');
    assert.match((full.body as { error: string }).error, /storage/i);
    assert.deepEqual(await filesIn(mountPoint!), before, 'the failed upload left a file behind');
    // The space the partial file took is free again.
    expectSpecResponse(await upload(bytesOf(300 * 1024, 3)), 'uploadContent');
  });

  test('PUT /upload/{serverName}/{mediaId} that does not fit: 507, the media stays not-yet-uploaded and can be uploaded again', async () => {
    const created = await request(`${node.clientUrl}/_matrix/media/v1/create`, { method: 'POST', headers: authHeaders(alice) });
    expectSpecResponse(created, 'createContent');
    const mxc = new URL((created.body as { content_uri: string }).content_uri);
    const path = `${enc(mxc.host)}/${enc(mxc.pathname.slice(1))}`;
    const put = (bytes: Uint8Array): Promise<HttpResponse> =>
      request(`${node.clientUrl}/_matrix/media/v3/upload/${path}?filename=later.bin`, {
        method: 'PUT',
        headers: { ...authHeaders(alice), 'content-type': 'application/octet-stream' },
        body: bytes,
      });
    const before = await filesIn(mountPoint!);
    expectMatrixError(await put(bytesOf(2 * 1024 * 1024, 4)), 507, 'M_UNKNOWN');
    assert.deepEqual(await filesIn(mountPoint!), before, 'the failed upload left a file behind');
    // No row claims content that is not there.
    const fetched = await request(`${node.clientUrl}/_matrix/client/v1/media/download/${path}?timeout_ms=0`, { headers: authHeaders(alice) });
    assert.ok(fetched.status === 404 || fetched.status === 504, `download answered ${fetched.status}`);
    expectSpecResponse(await put(bytesOf(100 * 1024, 5)), 'uploadContentToMXC');
    const again = await request(`${node.clientUrl}/_matrix/client/v1/media/download/${path}`, { headers: authHeaders(alice) });
    assert.equal(again.status, 200);
  });
});
