import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ConfigError } from './config-error.ts';
import { configFromObject, loadConfig, parseConfig } from './load.ts';

const SOURCE = { file: 'homeserver.yaml', baseDir: '/etc/stoa' };

function errorOf(raw: unknown): ConfigError {
  try {
    configFromObject(raw, SOURCE);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
    assert.ok(!error.message.includes('\n'), 'the message is one line');
    return error;
  }
  assert.fail('expected the config to be rejected');
}

function withServer(extra: Record<string, unknown>): Record<string, unknown> {
  return { server_name: 'example.org', ...extra };
}

describe('config validation: accepted documents', () => {
  test('a minimal file (server_name only) gets every default', () => {
    const config = configFromObject({ server_name: 'example.org' }, SOURCE);
    assert.equal(config.server_name, 'example.org');
    assert.equal(config.public_baseurl, 'https://example.org/');
    assert.deepEqual(config.listeners, {
      client: { bind: '127.0.0.1', port: 8008 },
      federation: { bind: '127.0.0.1', port: 8448, tls_certificate_path: undefined, tls_private_key_path: undefined },
    });
    assert.equal(config.data_dir, '/etc/stoa');
    assert.deepEqual(config.database, { engine: 'pglite', path: '/etc/stoa/db' });
    assert.equal(config.signing_key_path, '/etc/stoa/signing.key');
    assert.deepEqual(config.old_signing_keys, []);
    assert.equal(config.key_valid_for_ms, 86_400_000);
    assert.deepEqual(config.registration, { enabled: false, shared_secret: undefined, require_token: false, allow_guests: false });
    assert.deepEqual(config.auth, { refreshable_access_token_lifetime_ms: 300_000, login_token_lifetime_ms: 120_000 });
    assert.equal(config.rate_limits.enabled, true);
    assert.deepEqual(config.rate_limits.login, { per_second: 0.5, burst: 10 });
    assert.deepEqual(config.federation, {
      enabled: true,
      allow: ['*'],
      deny: [],
      verify_tls: true,
      extra_ca_paths: [],
      allow_private_addresses: false,
      trusted_key_servers: [],
    });
    assert.deepEqual(config.media, {
      store_path: '/etc/stoa/media',
      max_upload_bytes: 52_428_800,
      thumbnail_sizes: [
        { width: 32, height: 32, method: 'crop' },
        { width: 96, height: 96, method: 'crop' },
        { width: 320, height: 240, method: 'scale' },
        { width: 640, height: 480, method: 'scale' },
        { width: 800, height: 600, method: 'scale' },
      ],
      max_thumbnail_source_bytes: 33_554_432,
      legacy_unauthenticated_until: Date.UTC(2024, 8, 1),
      quota_bytes_per_user: 0,
      url_preview: { enabled: false, max_bytes: 10_485_760, timeout_ms: 10_000, cache_ms: 3_600_000, ip_range_allowlist: [] },
      encryption: undefined,
    });
    assert.equal(config.log_level, 'info');
    assert.deepEqual(config.metrics, { enabled: false, bind: '127.0.0.1', port: 9090 });
    assert.equal(config.well_known_server, undefined);
    assert.equal(config.max_request_body_bytes, 10_485_760);
  });

  test('relative paths resolve against the config folder; derived defaults follow data_dir', () => {
    const config = configFromObject(
      withServer({
        data_dir: 'state',
        listeners: { federation: { tls_certificate_path: 'tls/cert.pem', tls_private_key_path: '/abs/key.pem' } },
        federation: { extra_ca_paths: ['ca/internal.pem'] },
      }),
      SOURCE,
    );
    assert.equal(config.data_dir, '/etc/stoa/state');
    assert.deepEqual(config.database, { engine: 'pglite', path: '/etc/stoa/state/db' });
    assert.equal(config.signing_key_path, '/etc/stoa/state/signing.key');
    assert.equal(config.media.store_path, '/etc/stoa/state/media');
    assert.equal(config.listeners.federation.tls_certificate_path, '/etc/stoa/tls/cert.pem');
    assert.equal(config.listeners.federation.tls_private_key_path, '/abs/key.pem');
    assert.deepEqual(config.federation.extra_ca_paths, ['/etc/stoa/ca/internal.pem']);
  });

  test('explicit paths win over data_dir, and memory:// is not a path', () => {
    const config = configFromObject(
      withServer({
        data_dir: '/var/lib/stoa',
        signing_key_path: 'keys/signing.key',
        media: { store_path: '../media' },
        database: { engine: 'pglite', path: 'memory://' },
      }),
      SOURCE,
    );
    assert.equal(config.signing_key_path, '/etc/stoa/keys/signing.key');
    assert.equal(config.media.store_path, '/etc/media');
    assert.deepEqual(config.database, { engine: 'pglite', path: 'memory://' });
  });

  test('a postgres database keeps its URL', () => {
    const config = configFromObject(withServer({ database: { engine: 'postgres', url: 'postgres://stoa@db/stoa' } }), SOURCE);
    assert.deepEqual(config.database, { engine: 'postgres', url: 'postgres://stoa@db/stoa' });
  });

  test('public_baseurl gains a trailing slash; the default keeps the port of server_name', () => {
    assert.equal(configFromObject(withServer({ public_baseurl: 'https://m.example.org/base' }), SOURCE).public_baseurl, 'https://m.example.org/base/');
    assert.equal(configFromObject({ server_name: 'example.org:8448' }, SOURCE).public_baseurl, 'https://example.org:8448/');
  });

  test('port 0 (pick a free port) is accepted', () => {
    const config = configFromObject(withServer({ listeners: { client: { port: 0 }, federation: { port: 0 } } }), SOURCE);
    assert.equal(config.listeners.client.port, 0);
    assert.equal(config.listeners.federation.port, 0);
  });

  test('the returned config is frozen and the input object untouched', () => {
    const raw = { server_name: 'example.org' };
    const config = configFromObject(raw, SOURCE);
    assert.deepEqual(raw, { server_name: 'example.org' });
    assert.ok(Object.isFrozen(config.listeners.client));
    assert.ok(Object.isFrozen(config.federation.allow));
  });

  test('trusted key servers with pinned keys, old signing keys', () => {
    const key = 'Noi6WqcDj0QmPxCNQqgezwTlBKrfqehY1u2FyWP9uYw';
    const config = configFromObject(
      withServer({
        old_signing_keys: [{ key_id: 'ed25519:old', public_key: key, expired_ts: 1 }],
        federation: { trusted_key_servers: [{ server_name: 'notary.example.org', verify_keys: { 'ed25519:auto': key } }, { server_name: 'other.example.org' }] },
      }),
      SOURCE,
    );
    assert.deepEqual(config.old_signing_keys, [{ key_id: 'ed25519:old', public_key: key, expired_ts: 1 }]);
    assert.deepEqual(config.federation.trusted_key_servers, [
      { server_name: 'notary.example.org', verify_keys: { 'ed25519:auto': key } },
      { server_name: 'other.example.org' },
    ]);
  });
});

describe('config validation: one line naming the key and the problem', () => {
  const cases: Array<[string, unknown, string]> = [
    ['port above 65535', withServer({ listeners: { client: { port: 65536 } } }), 'listeners.client.port: must be <= 65535'],
    ['negative port', withServer({ metrics: { port: -1 } }), 'metrics.port: must be >= 0'],
    ['wrong type', withServer({ listeners: { client: { port: '8008' } } }), 'listeners.client.port: must be integer'],
    ['wrong type (boolean)', withServer({ registration: { enabled: 'yes' } }), 'registration.enabled: must be boolean'],
    ['unknown top-level key', withServer({ sever_name: 'x' }), 'sever_name: unknown key'],
    ['unknown nested key, with a suggestion', withServer({ listeners: { client: { prot: 1 } } }), 'listeners.client.prot: unknown key (did you mean port?)'],
    ['missing server_name', {}, 'server_name: is required'],
    ['server_name with a space (spec appendix "Server Name")', { server_name: 'exa mple.org' }, 'server_name: "exa mple.org" is not a valid server name'],
    ['server_name with a bad port', { server_name: 'example.org:http' }, 'server_name: "example.org:http" is not a valid server name'],
    ['server_name port above 65535', { server_name: 'example.org:70000' }, 'server_name: "example.org:70000" is not a valid server name'],
    ['server_name not a string', { server_name: 8448 }, 'server_name: must be string'],
    ['unknown log level', withServer({ log_level: 'verbose' }), 'log_level: must be one of trace, debug, info, warn, error, fatal'],
    ['unknown database engine', withServer({ database: { engine: 'mysql' } }), 'database.engine: must be one of pglite, postgres'],
    ['postgres without url', withServer({ database: { engine: 'postgres' } }), 'database.url: is required'],
    ['postgres with a non-postgres url', withServer({ database: { engine: 'postgres', url: 'mysql://db' } }), 'database.url: must be a postgres:// or postgresql:// connection URL'],
    ['pglite given a url', withServer({ database: { engine: 'pglite', url: 'postgres://db' } }), 'database.url: unknown key'],
    ['only one TLS path', withServer({ listeners: { federation: { tls_certificate_path: 'c.pem' } } }), 'listeners.federation.tls_private_key_path: is required when tls_certificate_path is set'],
    ['public_baseurl not a URL', withServer({ public_baseurl: 'matrix.example.org' }), 'public_baseurl: must be an http:// or https:// URL'],
    ['public_baseurl ftp', withServer({ public_baseurl: 'ftp://example.org/' }), 'public_baseurl: must be an http:// or https:// URL'],
    ['bad federation glob', withServer({ federation: { allow: ['ok.org', 'bad/glob'] } }), 'federation.allow[1]: must be a server-name glob'],
    ['bad trusted key server name', withServer({ federation: { trusted_key_servers: [{ server_name: 'no such' }] } }), 'federation.trusted_key_servers[0].server_name: "no such" is not a valid server name'],
    ['bad pinned key ID', withServer({ federation: { trusted_key_servers: [{ server_name: 'n.org', verify_keys: { rsa: 'x' } }] } }), 'federation.trusted_key_servers[0].verify_keys.rsa: is not a key ID'],
    ['bad old key', withServer({ old_signing_keys: [{ key_id: 'ed25519:a', public_key: 'short', expired_ts: 0 }] }), 'old_signing_keys[0].public_key: must be an ed25519 public key'],
    ['rate limit without burst', withServer({ rate_limits: { login: { per_second: 1 } } }), 'rate_limits.login.burst: is required'],
    ['short shared secret', withServer({ registration: { shared_secret: 'secret' } }), 'registration.shared_secret: must NOT have fewer than 16 characters'],
    ['well_known_server not host:port', withServer({ well_known_server: 'https://m.example.org' }), 'well_known_server: "https://m.example.org" is not a valid host[:port]'],
    ['key validity above the 7-day cap', withServer({ key_valid_for_ms: 8 * 86_400_000 }), 'key_valid_for_ms: must be <= 604800000'],
    ['body limit below one PDU', withServer({ max_request_body_bytes: 1000 }), 'max_request_body_bytes: must be >= 65536'],
    ['a list instead of a mapping', ['server_name'], 'the file must hold a YAML mapping'],
  ];
  for (const [name, raw, expected] of cases) {
    test(name, () => {
      const error = errorOf(raw);
      assert.ok(error.message.startsWith('config error: homeserver.yaml: '), error.message);
      assert.ok(error.message.includes(expected), `${error.message}\n  should contain: ${expected}`);
    });
  }

  test('the error carries the key path separately', () => {
    const error = errorOf(withServer({ listeners: { federation: { port: 1e6 } } }));
    assert.equal(error.key, 'listeners.federation.port');
    assert.equal(error.problem, 'must be <= 65535');
    assert.equal(error.message, 'config error: homeserver.yaml: listeners.federation.port: must be <= 65535');
  });
});

describe('config files', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'stoa-config-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('loadConfig resolves paths against the file folder', async () => {
    const file = path.join(dir, 'homeserver.yaml');
    await writeFile(file, 'server_name: example.org\ndata_dir: ./state\n');
    const config = await loadConfig(file);
    assert.equal(config.data_dir, path.join(dir, 'state'));
    assert.deepEqual(config.database, { engine: 'pglite', path: path.join(dir, 'state', 'db') });
  });

  test('a missing file is a one-line error naming the file', async () => {
    const file = path.join(dir, 'nope.yaml');
    await assert.rejects(loadConfig(file), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.message, `config error: ${file}: cannot read the file (file not found)`);
      return true;
    });
  });

  test('a YAML syntax error is one line with its position', () => {
    assert.throws(
      () => parseConfig('server_name: example.org\nlisteners:\n  client: [1, 2\n', SOURCE),
      (error: unknown) => error instanceof ConfigError && !error.message.includes('\n') && /^config error: homeserver\.yaml: invalid YAML: .*line \d+/.test(error.message),
    );
  });

  test('a duplicated key is a YAML error', () => {
    assert.throws(() => parseConfig('server_name: a.org\nserver_name: b.org\n', SOURCE), (error: unknown) => error instanceof ConfigError && error.message.includes('invalid YAML'));
  });

  test('an empty file asks for server_name', () => {
    assert.throws(() => parseConfig('# nothing yet\n', SOURCE), { message: 'config error: homeserver.yaml: server_name: is required' });
  });
});
