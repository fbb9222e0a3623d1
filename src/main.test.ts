import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { configFromObject } from './config/load.ts';
import { createLogger } from './logger.ts';
import { startServer } from './main.ts';
import { openDatabase } from './storage/index.ts';

const silent = createLogger('fatal', { write: () => undefined });

describe('startServer (composition root)', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'stoa-main-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('port 0 binds free ports; close() stops the listeners and releases the database', async () => {
    const config = configFromObject(
      { server_name: 'example.org', data_dir: 'node-a', listeners: { client: { port: 0 }, federation: { port: 0 } } },
      { file: 'test', baseDir: dir },
    );
    const server = await startServer(config, silent);
    try {
      assert.ok(server.clientPort > 0 && server.federationPort > 0);
      assert.equal(server.metricsPort, undefined);
      // Server-server API, "Publishing Keys": the key the server signs with, on the federation port.
      const keys = (await (await fetch(`http://127.0.0.1:${server.federationPort}/_matrix/key/v2/server`)).json()) as Record<string, unknown>;
      assert.equal(keys['server_name'], 'example.org');
    } finally {
      await server.close();
    }
    await assert.rejects(fetch(`http://127.0.0.1:${server.clientPort}/health`));
    const reopened = await openDatabase(config.database);
    await reopened.close();
  });

  test('a listener that cannot bind fails the start and leaves the database unlocked', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const taken = (blocker.address() as { port: number }).port;
    try {
      const config = configFromObject(
        { server_name: 'example.org', data_dir: 'node-b', listeners: { client: { port: taken }, federation: { port: 0 } } },
        { file: 'test', baseDir: dir },
      );
      await assert.rejects(startServer(config, silent), { code: 'EADDRINUSE' });
      const reopened = await openDatabase(config.database);
      await reopened.close();
    } finally {
      blocker.close();
    }
  });
});
