// Reads homeserver.yaml, validates it, and derives the defaults that depend on other keys.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { ConfigError } from './config-error.ts';
import { isValidServerName } from './server-name.ts';
import { validateConfigDocument, type ValidatedConfigDocument } from './schema-validator.ts';
import type { DatabaseConfig, StoaConfig } from './types.ts';

export interface ConfigSource {
  /** How errors name the source: the path as the operator typed it. */
  readonly file: string;
  /** Relative paths in the document are resolved against this folder. */
  readonly baseDir: string;
}

/** PGlite's in-memory data dir; not a filesystem path, so never resolved. */
const PGLITE_MEMORY = 'memory://';

/**
 * Loads and validates the config file at `file`. Every problem (missing file, YAML syntax,
 * schema, grammar) is thrown as a ConfigError whose message is one line naming the key.
 */
export async function loadConfig(file: string): Promise<StoaConfig> {
  const absolute = path.resolve(file);
  let text: string;
  try {
    text = await readFile(absolute, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'file not found' : code === 'EACCES' ? 'permission denied' : String(error);
    throw new ConfigError(file, undefined, `cannot read the file (${reason})`);
  }
  return parseConfig(text, { file, baseDir: path.dirname(absolute) });
}

/** Parses YAML text as a config document; see loadConfig. */
export function parseConfig(text: string, source: ConfigSource): StoaConfig {
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  const syntaxError = document.errors[0];
  if (syntaxError !== undefined) {
    // prettyErrors puts "at line L, column C" in the first line and a code frame after it.
    const firstLine = (syntaxError.message.split('\n')[0] ?? syntaxError.code).replace(/:\s*$/, '');
    throw new ConfigError(source.file, undefined, `invalid YAML: ${firstLine}`);
  }
  return configFromObject(document.toJS({ maxAliasCount: 100 }), source);
}

/**
 * Validates an already-parsed document (tests build configs this way) and returns the
 * complete, frozen StoaConfig. `raw` is not modified.
 */
export function configFromObject(raw: unknown, source: ConfigSource): StoaConfig {
  const result = validateConfigDocument(structuredClone(raw));
  if (!result.ok) throw new ConfigError(source.file, result.problem.key, result.problem.problem);
  return deepFreeze(deriveConfig(result.document, source));
}

function deriveConfig(doc: ValidatedConfigDocument, source: ConfigSource): StoaConfig {
  const fail = (key: string, problem: string): never => {
    throw new ConfigError(source.file, key, problem);
  };
  const resolvePath = (p: string): string => path.resolve(source.baseDir, p);
  const resolveOptional = (p: string | undefined): string | undefined => (p === undefined ? undefined : resolvePath(p));

  if (!isValidServerName(doc.server_name)) {
    fail('server_name', `"${doc.server_name}" is not a valid server name (a hostname or IP literal with an optional port, e.g. example.org or example.org:8448)`);
  }
  const publicBaseUrl = normaliseBaseUrl(doc.public_baseurl ?? `https://${doc.server_name}/`);
  if (publicBaseUrl === undefined) {
    fail('public_baseurl', 'must be an http:// or https:// URL without query, fragment or credentials');
  }
  if (doc.well_known_server !== undefined && !isValidServerName(doc.well_known_server)) {
    fail('well_known_server', `"${doc.well_known_server}" is not a valid host[:port]`);
  }
  doc.federation.trusted_key_servers.forEach((server, i) => {
    if (!isValidServerName(server.server_name)) {
      fail(`federation.trusted_key_servers[${i}].server_name`, `"${server.server_name}" is not a valid server name`);
    }
  });

  const dataDir = resolvePath(doc.data_dir);
  const federationListener = doc.listeners.federation;

  return {
    server_name: doc.server_name,
    public_baseurl: publicBaseUrl as string,
    listeners: {
      client: { bind: doc.listeners.client.bind, port: doc.listeners.client.port },
      federation: {
        bind: federationListener.bind,
        port: federationListener.port,
        tls_certificate_path: resolveOptional(federationListener.tls_certificate_path),
        tls_private_key_path: resolveOptional(federationListener.tls_private_key_path),
      },
    },
    database: deriveDatabase(doc.database, dataDir, resolvePath),
    data_dir: dataDir,
    signing_key_path: doc.signing_key_path === undefined ? path.join(dataDir, 'signing.key') : resolvePath(doc.signing_key_path),
    old_signing_keys: doc.old_signing_keys.map((k) => ({ key_id: k.key_id, public_key: k.public_key, expired_ts: k.expired_ts })),
    key_valid_for_ms: doc.key_valid_for_ms,
    registration: {
      enabled: doc.registration.enabled,
      shared_secret: doc.registration.shared_secret,
      require_token: doc.registration.require_token,
      allow_guests: doc.registration.allow_guests,
    },
    auth: {
      refreshable_access_token_lifetime_ms: doc.auth.refreshable_access_token_lifetime_ms,
      login_token_lifetime_ms: doc.auth.login_token_lifetime_ms,
    },
    rate_limits: {
      enabled: doc.rate_limits.enabled,
      login: { ...doc.rate_limits.login },
      failed_login: { ...doc.rate_limits.failed_login },
      registration: { ...doc.rate_limits.registration },
      message: { ...doc.rate_limits.message },
      join: { ...doc.rate_limits.join },
      media_upload: { ...doc.rate_limits.media_upload },
      federation: { ...doc.rate_limits.federation },
      default: { ...doc.rate_limits.default },
    },
    federation: {
      enabled: doc.federation.enabled,
      allow: [...doc.federation.allow],
      deny: [...doc.federation.deny],
      verify_tls: doc.federation.verify_tls,
      extra_ca_paths: doc.federation.extra_ca_paths.map(resolvePath),
      allow_private_addresses: doc.federation.allow_private_addresses,
      trusted_key_servers: doc.federation.trusted_key_servers.map((s) =>
        s.verify_keys === undefined ? { server_name: s.server_name } : { server_name: s.server_name, verify_keys: { ...s.verify_keys } },
      ),
    },
    media: {
      store_path: doc.media.store_path === undefined ? path.join(dataDir, 'media') : resolvePath(doc.media.store_path),
      max_upload_bytes: doc.media.max_upload_bytes,
      thumbnail_sizes: doc.media.thumbnail_sizes.map((t) => ({ width: t.width, height: t.height, method: t.method })),
      max_thumbnail_source_bytes: doc.media.max_thumbnail_source_bytes,
      legacy_unauthenticated_until: parseInstant(doc.media.legacy_unauthenticated_until, 'media.legacy_unauthenticated_until', fail),
      quota_bytes_per_user: doc.media.quota_bytes_per_user,
      url_preview: { ...doc.media.url_preview, ip_range_allowlist: [...doc.media.url_preview.ip_range_allowlist] },
      encryption: mediaEncryption(doc.media.encryption, resolvePath, fail),
    },
    turn: {
      uris: [...doc.turn.uris],
      shared_secret: doc.turn.shared_secret,
      username: doc.turn.username,
      password: doc.turn.password,
      ttl_seconds: doc.turn.ttl_seconds,
      allow_guests: doc.turn.allow_guests,
    },
    log_level: doc.log_level,
    metrics: { enabled: doc.metrics.enabled, bind: doc.metrics.bind, port: doc.metrics.port },
    well_known_server: doc.well_known_server,
    max_request_body_bytes: doc.max_request_body_bytes,
    app_service_config_files: doc.app_service_config_files.map(resolvePath),
    password_config: { enabled: doc.password_config.enabled },
    sso: ssoConfig(doc.sso, fail),
    cluster: clusterConfig(doc.cluster, fail),
    push: { allow_private_addresses: doc.push.allow_private_addresses },
    user_directory: { ...doc.user_directory },
    retention: { ...doc.retention, default_policy: { ...doc.retention.default_policy } },
  };
}

function clusterConfig(cluster: ValidatedConfigDocument['cluster'], fail: (key: string, problem: string) => never): StoaConfig['cluster'] {
  if (cluster.federation_sender_index >= cluster.federation_sender_instances) {
    fail('cluster.federation_sender_index', `must be below federation_sender_instances (${cluster.federation_sender_instances})`);
  }
  return { ...cluster };
}

function ssoConfig(sso: ValidatedConfigDocument['sso'], fail: (key: string, problem: string) => never): StoaConfig['sso'] {
  const seen = new Set<string>();
  const providers = sso.providers.map((p, i) => {
    if (seen.has(p.id)) fail(`sso.providers[${i}].id`, `"${p.id}" is used by another provider`);
    seen.add(p.id);
    if (!URL.canParse(p.issuer)) fail(`sso.providers[${i}].issuer`, `"${p.issuer}" is not a URL`);
    return {
      id: p.id,
      name: p.name,
      icon: p.icon,
      brand: p.brand,
      issuer: p.issuer,
      client_id: p.client_id,
      client_secret: p.client_secret,
      client_auth_method: p.client_auth_method,
      scopes: [...p.scopes],
      user_profile_method: p.user_profile_method,
      user_mapping: { localpart_template: p.user_mapping.localpart_template, display_name_template: p.user_mapping.display_name_template },
      allow_existing_users: p.allow_existing_users,
    };
  });
  sso.client_whitelist.forEach((prefix, i) => {
    if (!URL.canParse(prefix)) fail(`sso.client_whitelist[${i}]`, `"${prefix}" is not a URL`);
  });
  return { providers, client_whitelist: [...sso.client_whitelist] };
}

function parseInstant(value: string, key: string, fail: (key: string, problem: string) => never): number {
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? fail(key, `"${value}" is not a valid date`) : ms;
}

function mediaEncryption(
  encryption: ValidatedConfigDocument['media']['encryption'],
  resolvePath: (p: string) => string,
  fail: (key: string, problem: string) => never,
): StoaConfig['media']['encryption'] {
  if (encryption === undefined) return undefined;
  if (encryption.key !== undefined && encryption.key_path !== undefined) fail('media.encryption', 'set key or key_path, not both');
  if (encryption.key !== undefined) return { key: encryption.key };
  if (encryption.key_path !== undefined) return { key_path: resolvePath(encryption.key_path) };
  return fail('media.encryption', 'needs key or key_path');
}

function deriveDatabase(
  database: ValidatedConfigDocument['database'],
  dataDir: string,
  resolvePath: (p: string) => string,
): DatabaseConfig {
  if (database === undefined) return { engine: 'pglite', path: path.join(dataDir, 'db') };
  if (database.engine === 'postgres') return { engine: 'postgres', url: database.url };
  if (database.path === undefined) return { engine: 'pglite', path: path.join(dataDir, 'db') };
  if (database.path.startsWith(PGLITE_MEMORY)) return { engine: 'pglite', path: database.path };
  return { engine: 'pglite', path: resolvePath(database.path) };
}

/** An http(s) base URL with exactly one trailing slash, or undefined when unusable. */
function normaliseBaseUrl(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') return undefined;
  if (!url.pathname.endsWith('/')) url.pathname = `${url.pathname}/`;
  return url.href;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
