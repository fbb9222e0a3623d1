import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { writeFirstStartConfig } from './generate.ts';
import { loadConfig } from './load.ts';

let dir = '';
before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'stoa-generate-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('the first-start config validates and keeps everything in its own folder', async () => {
  const file = path.join(dir, 'data', 'homeserver.yaml');
  await writeFirstStartConfig(file);
  const config = await loadConfig(file);
  const data = path.join(dir, 'data');
  assert.equal(config.server_name, 'localhost');
  assert.equal(config.public_baseurl, 'http://127.0.0.1:8008/');
  assert.deepEqual(config.listeners.client, { bind: '127.0.0.1', port: 8008 });
  assert.equal(config.listeners.federation.port, 8448);
  assert.equal(config.listeners.federation.tls_certificate_path, undefined);
  assert.deepEqual(config.database, { engine: 'pglite', path: path.join(data, 'db') });
  assert.equal(config.data_dir, data);
  assert.equal(config.signing_key_path, path.join(data, 'signing.key'));
  assert.equal(config.media.store_path, path.join(data, 'media'));
  assert.equal(config.registration.enabled, true);
  assert.ok((config.registration.shared_secret ?? '').length >= 32);
  // The file holds the registration secret: owner-only.
  assert.equal((await stat(file)).mode & 0o777, 0o600);
});

test('each generated config gets its own shared secret', async () => {
  const a = path.join(dir, 'a.yaml');
  const b = path.join(dir, 'b.yaml');
  await writeFirstStartConfig(a);
  await writeFirstStartConfig(b);
  assert.notEqual((await loadConfig(a)).registration.shared_secret, (await loadConfig(b)).registration.shared_secret);
});

test('an existing config is never overwritten', async () => {
  const file = path.join(dir, 'existing.yaml');
  await writeFirstStartConfig(file);
  const before = await readFile(file, 'utf8');
  await assert.rejects(writeFirstStartConfig(file), { code: 'EEXIST' });
  assert.equal(await readFile(file, 'utf8'), before);
});
