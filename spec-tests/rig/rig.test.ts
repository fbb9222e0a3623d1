// The node rig's pure parts and its TLS material, tested without starting Stoa.
import assert from 'node:assert/strict';
import { createServer } from 'node:https';
import { once } from 'node:events';
import { connect } from 'node:tls';
import { test } from 'node:test';
import { request } from './http.ts';
import { deepMerge, findFreePort } from './nodes.ts';
import { testCertificateAuthority } from './tls.ts';

test('deepMerge merges objects key by key and replaces everything else', () => {
  const base = { server_name: 'a', listeners: { client: { bind: '127.0.0.1', port: 1 } }, federation: { allow: ['*'] } };
  const merged = deepMerge(base, { listeners: { client: { port: 2 } }, federation: { allow: ['b'] }, log_level: 'debug' });
  assert.deepEqual(merged, {
    server_name: 'a',
    listeners: { client: { bind: '127.0.0.1', port: 2 } },
    federation: { allow: ['b'] },
    log_level: 'debug',
  });
  // The base is not modified.
  assert.equal(base.listeners.client.port, 1);
});

test('findFreePort returns a port that can be bound on 127.0.0.1', async () => {
  const port = await findFreePort();
  assert.ok(port > 0 && port < 65536);
  const server = createServer();
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  server.close();
});

test('a certificate from the test CA is trusted by a client given the CA, and only then', async () => {
  const ca = await testCertificateAuthority();
  const leaf = await ca.issue('127.0.0.1');
  const server = createServer({ cert: leaf.certificate, key: leaf.privateKey }, (_req, res) => res.end('{"ok":true}'));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const { port } = server.address() as { port: number };
    const res = await request(`https://127.0.0.1:${port}/`, { ca: ca.certificate });
    assert.deepEqual(res.body, { ok: true });
    await assert.rejects(request(`https://127.0.0.1:${port}/`));
    // The certificate names 127.0.0.1 only: asking for another name must fail verification.
    const socket = connect({ host: '127.0.0.1', port, ca: ca.certificate, servername: 'example.org' });
    const [error] = (await once(socket, 'error')) as [NodeJS.ErrnoException];
    assert.equal(error.code, 'ERR_TLS_CERT_ALTNAME_INVALID');
  } finally {
    server.close();
  }
});
