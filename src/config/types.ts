// The validated, defaulted configuration every component receives from main.ts.
// Loaded from YAML by ./load.ts and validated against schema/config.schema.json.

export type DatabaseConfig =
  | { readonly engine: 'pglite'; readonly path: string }
  | { readonly engine: 'postgres'; readonly url: string };

export interface ListenerConfig {
  readonly bind: string;
  readonly port: number;
}

export interface FederationListenerConfig extends ListenerConfig {
  /** TLS is on when both paths are set. */
  readonly tls_certificate_path: string | undefined;
  readonly tls_private_key_path: string | undefined;
}

/** A token bucket: refills at `per_second`, holds up to `burst` requests. */
export interface RateLimitConfig {
  readonly per_second: number;
  readonly burst: number;
}

export interface ThumbnailSize {
  readonly width: number;
  readonly height: number;
  readonly method: 'crop' | 'scale';
}

export interface MediaConfig {
  readonly store_path: string;
  readonly max_upload_bytes: number;
  /** Sizes thumbnails are generated at; a request is served from the nearest one. */
  readonly thumbnail_sizes: readonly ThumbnailSize[];
  /** Larger images are not thumbnailed (M_TOO_LARGE). */
  readonly max_thumbnail_source_bytes: number;
  /** Milliseconds since the epoch: media stored before it stays on the deprecated unauthenticated routes. */
  readonly legacy_unauthenticated_until: number;
  /** Total bytes each local user may upload; 0 = no quota. */
  readonly quota_bytes_per_user: number;
  readonly url_preview: {
    readonly enabled: boolean;
    readonly max_bytes: number;
    readonly timeout_ms: number;
    readonly cache_ms: number;
  };
  /** Encryption at rest: a base64 key inline, or a file of keys (first = current). Unset = off. */
  readonly encryption: { readonly key: string } | { readonly key_path: string } | undefined;
}

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

export interface StoaConfig {
  /** The Matrix server name: a hostname or IP literal with an optional port. */
  readonly server_name: string;
  /** The client-facing base URL, with a trailing slash (`https://matrix.example.org/`). */
  readonly public_baseurl: string;
  readonly listeners: {
    readonly client: ListenerConfig;
    readonly federation: FederationListenerConfig;
  };
  readonly database: DatabaseConfig;
  /** Absolute path; relative paths in the file are resolved against the config file's folder. */
  readonly data_dir: string;
  readonly signing_key_path: string;
  /** Keys that signed events in the past, published as `old_verify_keys`. */
  readonly old_signing_keys: ReadonlyArray<{ readonly key_id: string; readonly public_key: string; readonly expired_ts: number }>;
  /** How long remote servers may cache our key, in milliseconds. */
  readonly key_valid_for_ms: number;
  readonly registration: {
    readonly enabled: boolean;
    readonly shared_secret: string | undefined;
    readonly require_token: boolean;
    readonly allow_guests: boolean;
  };
  readonly auth: {
    /** Lifetime of access tokens issued with a refresh token, in milliseconds. */
    readonly refreshable_access_token_lifetime_ms: number;
    readonly login_token_lifetime_ms: number;
  };
  readonly rate_limits: {
    readonly enabled: boolean;
    readonly login: RateLimitConfig;
    readonly failed_login: RateLimitConfig;
    readonly registration: RateLimitConfig;
    readonly message: RateLimitConfig;
    /** For every rate-limit bucket an endpoint names that has no key of its own here. */
    readonly default: RateLimitConfig;
  };
  readonly federation: {
    readonly enabled: boolean;
    /** Server-name globs, or "*" for everyone. */
    readonly allow: readonly string[];
    readonly deny: readonly string[];
    readonly verify_tls: boolean;
    readonly extra_ca_paths: readonly string[];
    readonly allow_private_addresses: boolean;
    readonly trusted_key_servers: ReadonlyArray<{ readonly server_name: string; readonly verify_keys?: Readonly<Record<string, string>> }>;
  };
  readonly media: MediaConfig;
  readonly log_level: LogLevel;
  readonly metrics: {
    readonly enabled: boolean;
    readonly bind: string;
    readonly port: number;
  };
  /** `/.well-known/matrix/server` delegation target (`host:port`); unset = not served. */
  readonly well_known_server: string | undefined;
  /** Request body limit for JSON endpoints, in bytes. */
  readonly max_request_body_bytes: number;
}
