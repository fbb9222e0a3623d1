// server-server § "Resolving server names" (the numbered steps), with a fake resolver, a
// fake /.well-known fetcher and an injected clock; and the private-address guard.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { assertAllowedAddress, ForbiddenAddressError, guardedLookup, isNonPublicAddress } from '../../net/address-guard.ts';
import type { Dns, ResolvedAddress, SrvRecord } from '../../net/dns.ts';
import { cacheControlMaxAgeMs, DiscoveryError, originUrl, parseWellKnownBody, ServerDiscovery } from './server-discovery.ts';
import type { WellKnownFetcher, WellKnownResponse } from './server-discovery.ts';

const HOUR = 3_600_000;

class FakeDns implements Dns {
  readonly srv = new Map<string, SrvRecord[]>();
  readonly addresses = new Map<string, ResolvedAddress[]>();
  readonly srvQueries: string[] = [];
  async resolveSrv(name: string): Promise<SrvRecord[]> {
    this.srvQueries.push(name);
    return this.srv.get(name) ?? [];
  }
  async lookup(hostname: string): Promise<ResolvedAddress[]> {
    return this.addresses.get(hostname) ?? [];
  }
}

class FakeWellKnown implements WellKnownFetcher {
  readonly answers = new Map<string, WellKnownResponse>();
  readonly queries: string[] = [];
  async fetch(hostname: string): Promise<WellKnownResponse> {
    this.queries.push(hostname);
    return this.answers.get(hostname) ?? { kind: 'response', status: 404, body: '', cacheControl: undefined };
  }
}

function ok(server: string, cacheControl?: string): WellKnownResponse {
  return { kind: 'response', status: 200, body: JSON.stringify({ 'm.server': server }), cacheControl };
}

function setup(): { dns: FakeDns; wellKnown: FakeWellKnown; discovery: ServerDiscovery; advance: (ms: number) => void } {
  const dns = new FakeDns();
  const wellKnown = new FakeWellKnown();
  let now = 1_700_000_000_000;
  const discovery = new ServerDiscovery({ dns, wellKnown, now: () => now });
  return { dns, wellKnown, discovery, advance: (ms) => (now += ms) };
}

describe('server discovery (server-server § "Resolving server names")', () => {
  test('step 1: IPv4 and IPv6 literals are used directly, 8448 by default, no SNI, Host = server name', async () => {
    const { discovery, wellKnown, dns } = setup();
    assert.deepEqual(await discovery.resolve('1.2.3.4'), {
      serverName: '1.2.3.4', connectHost: '1.2.3.4', port: 8448, hostHeader: '1.2.3.4', tlsServerName: undefined,
    });
    assert.deepEqual(await discovery.resolve('[2001:db8::1]:8000'), {
      serverName: '[2001:db8::1]:8000', connectHost: '2001:db8::1', port: 8000, hostHeader: '[2001:db8::1]:8000', tlsServerName: undefined,
    });
    assert.equal(originUrl({ connectHost: '2001:db8::1', port: 8000 }), 'https://[2001:db8::1]:8000');
    assert.deepEqual(wellKnown.queries, []);
    assert.deepEqual(dns.srvQueries, []);
  });

  test('step 2: a hostname with an explicit port is used directly; certificate for the hostname', async () => {
    const { discovery, wellKnown } = setup();
    assert.deepEqual(await discovery.resolve('matrix.example:1234'), {
      serverName: 'matrix.example:1234', connectHost: 'matrix.example', port: 1234, hostHeader: 'matrix.example:1234', tlsServerName: 'matrix.example',
    });
    assert.deepEqual(wellKnown.queries, []);
  });

  test('step 3.1: well-known delegating to an IP literal (Host is the IP, with the port)', async () => {
    const { discovery, wellKnown } = setup();
    wellKnown.answers.set('example.org', ok('10.1.2.3:9000'));
    assert.deepEqual(await discovery.resolve('example.org'), {
      serverName: 'example.org', connectHost: '10.1.2.3', port: 9000, hostHeader: '10.1.2.3:9000', tlsServerName: undefined,
    });
  });

  test('step 3.2: well-known with a delegated port', async () => {
    const { discovery, wellKnown, dns } = setup();
    wellKnown.answers.set('example.org', ok('matrix.example.org:443'));
    assert.deepEqual(await discovery.resolve('example.org'), {
      serverName: 'example.org', connectHost: 'matrix.example.org', port: 443, hostHeader: 'matrix.example.org:443', tlsServerName: 'matrix.example.org',
    });
    assert.deepEqual(dns.srvQueries, []);
  });

  test('step 3.3: well-known without a port, then _matrix-fed._tcp SRV of the delegated host', async () => {
    const { discovery, wellKnown, dns } = setup();
    wellKnown.answers.set('example.org', ok('matrix.example.org'));
    dns.srv.set('_matrix-fed._tcp.matrix.example.org', [
      { name: 'backup.example.org', port: 9999, priority: 20, weight: 0 },
      { name: 'fed.example.org.', port: 8450, priority: 10, weight: 5 },
    ]);
    assert.deepEqual(await discovery.resolve('example.org'), {
      serverName: 'example.org', connectHost: 'fed.example.org', port: 8450, hostHeader: 'matrix.example.org', tlsServerName: 'matrix.example.org',
    });
  });

  test('step 3.4 (deprecated): _matrix._tcp when there is no _matrix-fed._tcp', async () => {
    const { discovery, wellKnown, dns } = setup();
    wellKnown.answers.set('example.org', ok('matrix.example.org'));
    dns.srv.set('_matrix._tcp.matrix.example.org', [{ name: 'old.example.org', port: 8449, priority: 0, weight: 0 }]);
    const resolved = await discovery.resolve('example.org');
    assert.equal(resolved.connectHost, 'old.example.org');
    assert.equal(resolved.port, 8449);
    assert.deepEqual(dns.srvQueries, ['_matrix-fed._tcp.matrix.example.org', '_matrix._tcp.matrix.example.org']);
  });

  test('step 3.5: no SRV, the delegated hostname on 8448', async () => {
    const { discovery, wellKnown } = setup();
    wellKnown.answers.set('example.org', ok('matrix.example.org'));
    assert.deepEqual(await discovery.resolve('example.org'), {
      serverName: 'example.org', connectHost: 'matrix.example.org', port: 8448, hostHeader: 'matrix.example.org', tlsServerName: 'matrix.example.org',
    });
  });

  test('steps 4–6: well-known error → SRV of the server hostname → the hostname on 8448', async () => {
    const { discovery, wellKnown, dns } = setup();
    wellKnown.answers.set('a.example', { kind: 'failure', reason: 'connection refused' });
    dns.srv.set('_matrix-fed._tcp.a.example', [{ name: 'fed.a.example', port: 1111, priority: 0, weight: 0 }]);
    assert.deepEqual(await discovery.resolve('a.example'), {
      serverName: 'a.example', connectHost: 'fed.a.example', port: 1111, hostHeader: 'a.example', tlsServerName: 'a.example',
    });
    dns.srv.set('_matrix._tcp.b.example', [{ name: 'legacy.b.example', port: 2222, priority: 0, weight: 0 }]);
    assert.equal((await discovery.resolve('b.example')).port, 2222);
    assert.deepEqual(await discovery.resolve('c.example'), {
      serverName: 'c.example', connectHost: 'c.example', port: 8448, hostHeader: 'c.example', tlsServerName: 'c.example',
    });
  });

  test('invalid well-known bodies skip to step 4', async () => {
    for (const body of ['not json', '[]', '{}', '{"m.server": 5}', '{"m.server": "bad name!"}']) {
      const { discovery, wellKnown } = setup();
      wellKnown.answers.set('x.example', { kind: 'response', status: 200, body, cacheControl: undefined });
      const resolved = await discovery.resolve('x.example');
      assert.equal(resolved.connectHost, 'x.example', body);
      assert.equal(resolved.port, 8448, body);
    }
    assert.equal(parseWellKnownBody('{"m.server":"m.example:8"}')?.name, 'm.example:8');
  });

  test('an SRV record with target "." means no service', async () => {
    const { discovery, dns } = setup();
    dns.srv.set('_matrix-fed._tcp.d.example', [{ name: '.', port: 0, priority: 0, weight: 0 }]);
    assert.equal((await discovery.resolve('d.example')).port, 8448);
  });

  test('results are cached: 24 h by default, Cache-Control respected, capped at 48 h', async () => {
    const { discovery, wellKnown, advance } = setup();
    wellKnown.answers.set('example.org', ok('m.example.org:443'));
    wellKnown.answers.set('short.example', ok('m.short.example:443', 'public, max-age=600'));
    wellKnown.answers.set('long.example', ok('m.long.example:443', 'max-age=999999999'));
    for (const name of ['example.org', 'short.example', 'long.example']) await discovery.resolve(name);
    assert.equal(wellKnown.queries.length, 3);
    advance(HOUR + 1); // the resolution cache (1 h DNS) expires; the well-known one may not
    for (const name of ['example.org', 'short.example', 'long.example']) await discovery.resolve(name);
    assert.deepEqual(wellKnown.queries.slice(3), ['short.example']);
    advance(24 * HOUR);
    for (const name of ['example.org', 'long.example']) await discovery.resolve(name);
    assert.deepEqual(wellKnown.queries.slice(4), ['example.org']);
    advance(24 * HOUR);
    await discovery.resolve('long.example');
    assert.deepEqual(wellKnown.queries.slice(5), ['long.example']);
  });

  test('errors are cached: invalid answers for an hour, failures with exponential backoff', async () => {
    const { discovery, wellKnown, advance } = setup();
    wellKnown.answers.set('down.example', { kind: 'failure', reason: 'timeout' });
    await discovery.resolve('down.example');
    advance(HOUR + 1);
    await discovery.resolve('down.example'); // 2nd failure: backoff 4 min
    advance(HOUR + 1);
    await discovery.resolve('down.example'); // 3rd failure: 8 min
    assert.equal(wellKnown.queries.length, 3);
    await discovery.resolve('missing.example'); // 404: an hour
    discovery.invalidate('missing.example');
    advance(30 * 60_000);
    await discovery.resolve('missing.example');
    assert.equal(wellKnown.queries.filter((name) => name === 'missing.example').length, 1);
  });

  test('concurrent resolutions share one lookup', async () => {
    const { discovery, wellKnown } = setup();
    wellKnown.answers.set('example.org', ok('m.example.org'));
    await Promise.all([discovery.resolve('example.org'), discovery.resolve('example.org'), discovery.resolve('example.org')]);
    assert.equal(wellKnown.queries.length, 1);
  });

  test('a name that is not a server name is a DiscoveryError', async () => {
    const { discovery } = setup();
    await assert.rejects(discovery.resolve('bad name'), DiscoveryError);
    await assert.rejects(discovery.resolve('example.org:99999'), DiscoveryError);
  });

  test('Cache-Control parsing', () => {
    assert.equal(cacheControlMaxAgeMs(undefined), undefined);
    assert.equal(cacheControlMaxAgeMs('max-age=60'), 60_000);
    assert.equal(cacheControlMaxAgeMs('Public, Max-Age="120"'), 120_000);
    assert.equal(cacheControlMaxAgeMs('no-store, max-age=60'), 0);
    assert.equal(cacheControlMaxAgeMs('public'), undefined);
  });
});

describe('private-address guard', () => {
  test('non-public addresses', () => {
    for (const address of ['127.0.0.1', '10.0.0.1', '172.16.5.5', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', '::', 'fe80::1', 'fd12:3456::1', '::ffff:127.0.0.1', '::ffff:10.0.0.1', 'ff02::1', 'not-an-ip']) {
      assert.equal(isNonPublicAddress(address), true, address);
    }
    for (const address of ['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '::ffff:8.8.8.8', '172.32.0.1']) {
      assert.equal(isNonPublicAddress(address), false, address);
    }
    assert.throws(() => assertAllowedAddress('127.0.0.1', false), ForbiddenAddressError);
    assertAllowedAddress('127.0.0.1', true);
  });

  test('the socket lookup drops private addresses, and fails when none is left', async () => {
    const dns = new FakeDns();
    dns.addresses.set('mixed.example', [{ address: '10.0.0.1', family: 4 }, { address: '8.8.8.8', family: 4 }]);
    dns.addresses.set('internal.example', [{ address: '192.168.0.2', family: 4 }, { address: 'fd00::2', family: 6 }]);
    const call = (allow: boolean, host: string, all: boolean): Promise<unknown> =>
      new Promise((resolve, reject) => {
        guardedLookup(dns, allow)(host, { all }, (error, address) => (error ? reject(error) : resolve(address)));
      });
    assert.deepEqual(await call(false, 'mixed.example', true), [{ address: '8.8.8.8', family: 4 }]);
    assert.equal(await call(false, 'mixed.example', false), '8.8.8.8');
    await assert.rejects(call(false, 'internal.example', true), ForbiddenAddressError);
    assert.equal(await call(true, 'internal.example', false), '192.168.0.2');
    await assert.rejects(call(false, 'unknown.example', false), { code: 'ENOTFOUND' });
  });
});
