// An in-process Stoa server for federation tests: its own database, Roomserver,
// createFederation (sender, membership, inbound /send) and an HTTPS federation listener with
// a certificate from the run's test CA. Tests drive its federation halves directly — as a
// second site, or as a peer that sends what a real server never would.

import { createServer, type Server } from 'node:https';
import type { SigningKey } from '../../src/crypto/signing-key.ts';
import { createFederation, createFederationTransport, type Federation } from '../../src/federation/index.ts';
import { buildApp } from '../../src/http/app.ts';
import { createHttpMetrics } from '../../src/http/metrics.ts';
import { silentLogger, testConfig } from '../../src/http/testing.ts';
import { Roomserver } from '../../src/roomserver/index.ts';
import { testKey } from '../../src/roomserver/testing.ts';
import { migrateToLatest } from '../../src/storage/index.ts';
import { createTestDatabase, type TestDatabase } from '../../src/storage/testing.ts';
import { findFreePort } from './nodes.ts';
import { testCertificateAuthority } from './tls.ts';

export interface InProcessNode {
  readonly serverName: string;
  readonly key: SigningKey;
  readonly db: TestDatabase;
  readonly roomserver: Roomserver;
  readonly federation: Federation;
  user(localpart: string): string;
  close(): Promise<void>;
}

export async function startInProcessNode(seed: number, caPath: string): Promise<InProcessNode> {
  const ca = await testCertificateAuthority();
  const leaf = await ca.issue('127.0.0.1');
  const port = await findFreePort();
  const serverName = `127.0.0.1:${port}`;
  const db = await createTestDatabase('pglite');
  const report = await migrateToLatest(db.db);
  if (report.error !== undefined) throw report.error;
  const config = testConfig({
    server_name: serverName,
    federation: { allow_private_addresses: true, verify_tls: true, extra_ca_paths: [caPath] },
  });
  const key = testKey(seed, `n${seed}`);
  const logger = silentLogger();
  const deps = { config, db: db.db, signingKey: key, logger, clock: Date.now };
  const transport = await createFederationTransport(deps);
  const roomserver = new Roomserver({ ...deps, serverName, remoteKeys: transport.remoteKeys, federation: transport.fetcher, queueFederation: true });
  const federation = createFederation({ ...deps, roomserver, transport });
  const app = buildApp({
    listener: 'federation',
    endpoints: federation.federationEndpoints,
    federationAuth: federation.federationAuth,
    logger,
    metrics: createHttpMetrics(),
    maxBodyBytes: 1 << 20,
  });
  const server: Server = createServer({ cert: leaf.certificate, key: leaf.privateKey }, app.callback());
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    serverName,
    key,
    db,
    roomserver,
    federation,
    user: (localpart) => `@${localpart}:${serverName}`,
    async close() {
      await federation.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await db.dispose();
    },
  };
}

export async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
