// Validates a parsed homeserver.yaml against schema/config.schema.json and turns the first
// ajv error into one human line naming the key. ajv fills in the schema's defaults in place.
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import configSchema from '../../schema/config.schema.json' with { type: 'json' };

/** The shape of a config document after schema validation and defaults (paths still as written). */
export interface ValidatedConfigDocument {
  server_name: string;
  public_baseurl?: string;
  listeners: {
    client: { bind: string; port: number };
    federation: { bind: string; port: number; tls_certificate_path?: string; tls_private_key_path?: string };
  };
  database?: { engine: 'pglite'; path?: string } | { engine: 'postgres'; url: string };
  data_dir: string;
  signing_key_path?: string;
  old_signing_keys: Array<{ key_id: string; public_key: string; expired_ts: number }>;
  key_valid_for_ms: number;
  registration: { enabled: boolean; shared_secret?: string; require_token: boolean; allow_guests: boolean };
  auth: { refreshable_access_token_lifetime_ms: number; login_token_lifetime_ms: number };
  rate_limits: {
    enabled: boolean;
    login: { per_second: number; burst: number };
    failed_login: { per_second: number; burst: number };
    registration: { per_second: number; burst: number };
    message: { per_second: number; burst: number };
    join: { per_second: number; burst: number };
    media_upload: { per_second: number; burst: number };
    federation: { per_second: number; burst: number };
    default: { per_second: number; burst: number };
  };
  federation: {
    enabled: boolean;
    allow: string[];
    deny: string[];
    verify_tls: boolean;
    extra_ca_paths: string[];
    allow_private_addresses: boolean;
    trusted_key_servers: Array<{ server_name: string; verify_keys?: Record<string, string> }>;
  };
  media: {
    store_path?: string;
    max_upload_bytes: number;
    thumbnail_sizes: Array<{ width: number; height: number; method: 'crop' | 'scale' }>;
    max_thumbnail_source_bytes: number;
    legacy_unauthenticated_until: string;
    quota_bytes_per_user: number;
    url_preview: { enabled: boolean; max_bytes: number; timeout_ms: number; cache_ms: number; ip_range_allowlist: string[] };
    encryption?: { key?: string; key_path?: string };
  };
  turn: { uris: string[]; shared_secret?: string; username?: string; password?: string; ttl_seconds: number; allow_guests: boolean };
  log_level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';
  metrics: { enabled: boolean; bind: string; port: number };
  well_known_server?: string;
  max_request_body_bytes: number;
  app_service_config_files: string[];
  password_config: { enabled: boolean };
  push: { allow_private_addresses: boolean };
  cluster: { role: 'all' | 'client' | 'federation-sender'; federation_sender_instances: number; federation_sender_index: number; heartbeat_ms: number };
  user_directory: {
    enabled: boolean;
    search_all_users: boolean;
    include_public_rooms: boolean;
    require_auth_for_profile_requests: boolean;
    limit_profile_requests_to_users_who_share_rooms: boolean;
  };
  retention: {
    enabled: boolean;
    default_policy: { min_lifetime: number | null; max_lifetime: number | null };
    allowed_lifetime_min: number | null;
    allowed_lifetime_max: number | null;
    purge_interval_ms: number;
    redaction_retention_period_ms: number | null;
    delete_media: boolean;
  };
  sso: {
    providers: Array<{
      id: string;
      name: string;
      icon?: string;
      brand?: string;
      issuer: string;
      client_id: string;
      client_secret: string;
      client_auth_method: 'client_secret_basic' | 'client_secret_post';
      scopes: string[];
      user_profile_method: 'auto' | 'userinfo_endpoint';
      user_mapping: { localpart_template: string; display_name_template?: string };
      allow_existing_users: boolean;
    }>;
    client_whitelist: string[];
  };
}

export interface SchemaProblem {
  /** Dotted key path; '' for the document itself. */
  readonly key: string;
  readonly problem: string;
}

export type SchemaValidation =
  | { readonly ok: true; readonly document: ValidatedConfigDocument }
  | { readonly ok: false; readonly problem: SchemaProblem };

let compiled: ValidateFunction | undefined;

function validator(): ValidateFunction {
  if (compiled === undefined) {
    const ajv = new Ajv2020({
      strict: true,
      useDefaults: true,
      discriminator: true,
      // parentSchema on each error, so the formatter can read the schema's x-messages.
      verbose: true,
      allErrors: false,
    });
    // Annotation only: friendlier wording for a keyword's failure (e.g. a pattern).
    ajv.addKeyword({ keyword: 'x-messages', schemaType: 'object' });
    compiled = ajv.compile(configSchema);
  }
  return compiled;
}

/** The compiled schema document, for tests that walk its properties. */
export const CONFIG_SCHEMA: unknown = configSchema;

/**
 * Validates `document` (mutated: ajv inserts defaults) against the config schema.
 * A YAML file that is empty or only comments parses to null and is treated as `{}`.
 */
export function validateConfigDocument(document: unknown): SchemaValidation {
  if (document === null || document === undefined) document = {};
  if (typeof document !== 'object' || Array.isArray(document)) {
    return { ok: false, problem: { key: '', problem: 'the file must hold a YAML mapping of keys to values' } };
  }
  const validate = validator();
  if (validate(document)) return { ok: true, document: document as ValidatedConfigDocument };
  const first = validate.errors?.[0];
  if (first === undefined) return { ok: false, problem: { key: '', problem: 'does not match the config schema' } };
  return { ok: false, problem: describeError(first) };
}

function describeError(error: ErrorObject): SchemaProblem {
  const base = pointerToKey(error.instancePath);
  const params = error.params as Record<string, unknown>;
  const parent = (error.parentSchema ?? {}) as Record<string, unknown>;
  const custom = (parent['x-messages'] as Record<string, string> | undefined)?.[error.keyword];

  switch (error.keyword) {
    case 'additionalProperties': {
      const name = String(params['additionalProperty']);
      const known = Object.keys((parent['properties'] as Record<string, unknown> | undefined) ?? {});
      const guess = closestName(name, known);
      return { key: joinKey(base, name), problem: `unknown key${guess === undefined ? '' : ` (did you mean ${guess}?)`}` };
    }
    case 'required':
      return { key: joinKey(base, String(params['missingProperty'])), problem: 'is required' };
    case 'dependentRequired':
      return {
        key: joinKey(base, String(params['missingProperty'])),
        problem: `is required when ${String(params['property'])} is set`,
      };
    case 'discriminator':
      return { key: joinKey(base, String(params['tag'])), problem: custom ?? error.message ?? 'is invalid' };
    case 'enum':
      return { key: base, problem: `must be one of ${(params['allowedValues'] as unknown[]).join(', ')}` };
    case 'const':
      return { key: base, problem: `must be ${JSON.stringify(params['allowedValue'])}` };
    default: {
      // An error inside propertyNames concerns a key of the object, not a value.
      const key = error.propertyName === undefined ? base : joinKey(base, error.propertyName);
      return { key, problem: custom ?? error.message ?? `fails ${error.keyword}` };
    }
  }
}

/** `/federation/allow/2` → `federation.allow[2]`. */
function pointerToKey(pointer: string): string {
  if (pointer === '') return '';
  return pointer
    .slice(1)
    .split('/')
    .map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((key, segment) => (/^[0-9]+$/.test(segment) ? `${key}[${segment}]` : joinKey(key, segment)), '');
}

function joinKey(base: string, name: string): string {
  return base === '' ? name : `${base}.${name}`;
}

/** The known key within two edits of a mistyped one, to suggest it. */
function closestName(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of known) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
