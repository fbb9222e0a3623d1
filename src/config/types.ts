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
    /** Networks (CIDR) that previews may fetch from although they are private or loopback. */
    readonly ip_range_allowlist: readonly string[];
  };
  /** Encryption at rest: a base64 key inline, or a file of keys (first = current). Unset = off. */
  readonly encryption: { readonly key: string } | { readonly key_path: string } | undefined;
}

/** One OpenID Connect identity provider (shaped after Synapse's `oidc_providers`). */
export interface SsoProviderConfig {
  /** The `idpId` of `/login/sso/redirect/{idpId}` and of `identity_providers`. */
  readonly id: string;
  readonly name: string;
  readonly icon: string | undefined;
  readonly brand: string | undefined;
  /** Discovery reads `{issuer}/.well-known/openid-configuration`; ID tokens must carry it as `iss`. */
  readonly issuer: string;
  readonly client_id: string;
  readonly client_secret: string;
  readonly client_auth_method: 'client_secret_basic' | 'client_secret_post';
  readonly scopes: readonly string[];
  /** `auto`: the ID token's claims, else the userinfo endpoint; `userinfo_endpoint`: always it. */
  readonly user_profile_method: 'auto' | 'userinfo_endpoint';
  readonly user_mapping: {
    /** `{{ user.<claim> }}` placeholders, e.g. `{{ user.preferred_username }}`. */
    readonly localpart_template: string;
    readonly display_name_template: string | undefined;
  };
  /** A first login whose localpart is taken links to that existing account instead of picking another localpart. */
  readonly allow_existing_users: boolean;
}

export interface SsoConfig {
  readonly providers: readonly SsoProviderConfig[];
  /** redirectUrl prefixes that receive login tokens; others are refused. */
  readonly client_whitelist: readonly string[];
}

/**
 * With `shared_secret`, clients get coturn REST-API credentials (`use-auth-secret`):
 * username `<expiry>:<user_id>`, password base64(HMAC-SHA1(secret, username)). Otherwise the
 * static `username`/`password`.
 */
export interface TurnConfig {
  readonly uris: readonly string[];
  readonly shared_secret: string | undefined;
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly ttl_seconds: number;
  readonly allow_guests: boolean;
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
    /** Room joins and knocks, per user. */
    readonly join: RateLimitConfig;
    /** Media uploads (and creating an upload slot), per user. */
    readonly media_upload: RateLimitConfig;
    /** Every federation request, per origin server, unless its endpoint names another bucket. */
    readonly federation: RateLimitConfig;
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
  /** TURN for VoIP (`/voip/turnServer`); off while `uris` is empty. */
  readonly turn: TurnConfig;
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
  /** Absolute paths of application service registration files (read by src/appservice at start). */
  readonly app_service_config_files: readonly string[];
  readonly password_config: {
    /** false: password login is neither offered nor accepted (single sign-on only). */
    readonly enabled: boolean;
  };
  readonly sso: SsoConfig;
  /** Several processes on one PostgreSQL (DESIGN.md "Scale"). */
  readonly cluster: ClusterConfig;
  readonly push: {
    /** Deliver to push gateways on non-public addresses (test networks, an in-house gateway). */
    readonly allow_private_addresses: boolean;
  };
  /** /user_directory/search and who may read /profile (Synapse's keys of the same names). */
  readonly user_directory: UserDirectoryConfig;
  /** Message retention and redaction pruning (issue 8 items 3 and 4). */
  readonly retention: RetentionConfig;
}

/** Lifetimes in milliseconds, as `m.room.retention` gives them; null: no bound. */
export interface RetentionPolicyConfig {
  readonly min_lifetime: number | null;
  readonly max_lifetime: number | null;
}

export interface RetentionConfig {
  /** false: the purge job does not run and nothing is purged. */
  readonly enabled: boolean;
  /** For rooms without an `m.room.retention` state event. */
  readonly default_policy: RetentionPolicyConfig;
  /** Bounds a room's `max_lifetime` is clamped to. */
  readonly allowed_lifetime_min: number | null;
  readonly allowed_lifetime_max: number | null;
  readonly purge_interval_ms: number;
  /** How long a redacted event's original content is kept after the redaction; null: forever. */
  readonly redaction_retention_period_ms: number | null;
  /** Delete local media that only purged events referenced. */
  readonly delete_media: boolean;
}

export interface UserDirectoryConfig {
  /** false: /user_directory/search returns no results. */
  readonly enabled: boolean;
  /** Every local user is searchable, not only those who share a room with the searcher. */
  readonly search_all_users: boolean;
  /** Members of rooms with join rule `public` or `world_readable` history are searchable. */
  readonly include_public_rooms: boolean;
  /** /profile needs an access token (401 M_MISSING_TOKEN without). */
  readonly require_auth_for_profile_requests: boolean;
  /** /profile answers 403 unless the requester may see the user through a room (§ "Profiles"). */
  readonly limit_profile_requests_to_users_who_share_rooms: boolean;
}

export type ProcessRole = 'all' | 'client' | 'federation-sender';

export interface ClusterConfig {
  readonly role: ProcessRole;
  readonly federation_sender_instances: number;
  readonly federation_sender_index: number;
  readonly heartbeat_ms: number;
}
