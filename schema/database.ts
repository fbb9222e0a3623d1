// The kysely view of Stoa's tables, as the migrations in ./migrations leave them.
// The migrations are the truth; this file follows them and a test compares the two.
//
// Every `bigint` (int8) column is typed `number`: src/storage/database.ts installs a type
// parser on both engines that returns int8 as a JS number and refuses values beyond 2^53,
// so timestamps (ms), depths and stream positions arrive as numbers, never as strings.

import type { Generated } from 'kysely';

/** A PDU as received; `json` holds the exact text, the other columns are indexes into it. */
export interface EventsTable {
  event_id: string;
  room_id: string;
  /** Position in the room-event stream; null for outliers, which are not in any timeline. */
  stream_ordering: number | null;
  depth: number;
  type: string;
  /** null for non-state events; `''` is a real state key. */
  state_key: string | null;
  sender: string;
  origin_server_ts: number;
  /** The event exactly as received (or as built, for local events); never re-serialised. */
  json: string;
  room_version: string;
  outlier: boolean;
  rejected_reason: string | null;
  soft_failed: Generated<boolean>;
  redacted_by: string | null;
  /** The snapshot of the room state before this event; null until calculated (outliers). */
  state_before_snapshot_id: number | null;
  received_ts: number;
  /** For `m.room.redaction`: the event it names (top-level or `content.redacts`). 0002. */
  redacts: string | null;
}

/** Client transaction IDs and the event each produced (migration 0002). */
export interface EventTransactionsTable {
  room_id: string;
  user_id: string;
  /** `''` when the sender has no device. */
  device_id: string;
  txn_id: string;
  event_id: string;
  created_ts: number;
}

export interface EventEdgesTable {
  event_id: string;
  prev_event_id: string;
}

export interface EventAuthTable {
  event_id: string;
  auth_event_id: string;
}

/**
 * A room state as a delta against `parent_id` (or a full state when the parent is null).
 * `chain_length` counts the deltas back to a full snapshot, so writers can re-base long chains.
 */
export interface StateSnapshotsTable {
  id: Generated<number>;
  room_id: string;
  parent_id: number | null;
  chain_length: number;
  created_ts: number;
}

export interface StateSnapshotEntriesTable {
  snapshot_id: number;
  type: string;
  state_key: string;
  /** null: the entry was removed relative to the parent snapshot. */
  event_id: string | null;
}

export interface CurrentStateTable {
  room_id: string;
  type: string;
  state_key: string;
  event_id: string;
  /** The `membership` of m.room.member events, denormalised for "rooms of a user". */
  membership: string | null;
}

export interface ForwardExtremitiesTable {
  room_id: string;
  event_id: string;
}

export interface RoomsTable {
  room_id: string;
  room_version: string;
  creator: string;
  is_public: Generated<boolean>;
  created_ts: number;
}

export interface UsersTable {
  user_id: string;
  password_hash: string | null;
  created_ts: number;
  is_admin: Generated<boolean>;
  is_guest: Generated<boolean>;
  deactivated: Generated<boolean>;
}

export interface DevicesTable {
  user_id: string;
  device_id: string;
  display_name: string | null;
  created_ts: number;
  last_seen_ts: number | null;
  last_seen_ip: string | null;
}

/** Tokens are stored hashed: a leaked table does not leak sessions. */
export interface AccessTokensTable {
  token_hash: string;
  user_id: string;
  device_id: string;
  created_ts: number;
  expires_ts: number | null;
  last_used_ts: number | null;
  /** The refresh token this access token was issued with (migration 0003). */
  refresh_token_id: number | null;
  /** Whether the token has been used; its first use revokes the previous refresh token (0003). */
  used: Generated<boolean>;
}

/** Refresh tokens, hashed (migration 0003); `next_token_id` is the token that replaced this one. */
export interface RefreshTokensTable {
  id: Generated<number>;
  token_hash: string;
  user_id: string;
  device_id: string;
  created_ts: number;
  next_token_id: number | null;
}

/** Single-use m.login.token tokens, hashed (migration 0003). */
export interface LoginTokensTable {
  token_hash: string;
  user_id: string;
  created_ts: number;
  expires_ts: number;
}

/** Redirects to an SSO provider awaiting its callback, by OAuth `state` (migration 0017). */
export interface SsoPendingLoginsTable {
  state: string;
  idp_id: string;
  nonce: string;
  code_verifier: string;
  redirect_url: string | null;
  uia_session_id: string | null;
  created_ts: number;
  expires_ts: number;
}

/** A provider's subject and the local user it signs in as (migration 0017). */
export interface SsoUserLinksTable {
  idp_id: string;
  subject: string;
  user_id: string;
  created_ts: number;
}

/** Tokens for m.login.registration_token (migration 0003). */
export interface RegistrationTokensTable {
  token: string;
  /** null: unlimited. */
  uses_allowed: number | null;
  completed: Generated<number>;
  /** null: never expires. */
  expiry_ts: number | null;
  created_ts: number;
}

/** User-interactive authentication sessions (migration 0003). */
export interface UiaSessionsTable {
  session_id: string;
  operation: string;
  user_id: string | null;
  /** JSON array of completed stage types. */
  completed: string;
  /** JSON object of what the stages and the endpoint recorded. */
  data: string;
  created_ts: number;
  expires_ts: number;
}

/** One-use nonces of the shared-secret registration admin API (migration 0003). */
export interface RegistrationNoncesTable {
  nonce: string;
  created_ts: number;
}

export interface AccountDataTable {
  user_id: string;
  /** `''` for global account data (a primary key column cannot be null). */
  room_id: string;
  type: string;
  /** The content object as the client sent it. */
  content: string;
  stream_id: number;
}

export interface RoomAliasesTable {
  room_alias: string;
  room_id: string;
  creator: string;
  created_ts: number;
}

/** Remote servers' verify keys, cached from /_matrix/key/v2 responses (origin or notary). */
export interface ServerKeysTable {
  server_name: string;
  key_id: string;
  /** Unpadded base64 ed25519 public key. */
  public_key: string;
  /** For current keys: until when the key may be used to verify. */
  valid_until_ts: number | null;
  /** For old_verify_keys: when the key stopped being used. */
  expired_ts: number | null;
  fetched_ts: number;
  /** The signed key response the key came from, as received (a notary re-serves it). */
  key_json: string;
}

/** One row per PDU or EDU waiting for a destination; PDU rows point at `events`. */
export interface FederationOutboxTable {
  id: Generated<number>;
  destination: string;
  event_id: string | null;
  edu_json: string | null;
  queued_ts: number;
}

/** Health of a remote server, for backoff. */
export interface DestinationsTable {
  destination: string;
  failure_count: Generated<number>;
  retry_last_ts: number | null;
  retry_interval_ms: Generated<number>;
  last_success_ts: number | null;
}

/** A local user's profile fields as one JSON object (migration 0004); no row = never set. */
export interface ProfilesTable {
  user_id: string;
  fields: string;
  updated_ts: number;
}

/** The latest receipt per (room, type, user, thread) (migration 0004). */
export interface ReceiptsTable {
  room_id: string;
  /** `m.read`, `m.read.private`, ... */
  receipt_type: string;
  user_id: string;
  /** `''` for unthreaded receipts; `main` or a thread root event ID otherwise. */
  thread_id: string;
  event_id: string;
  ts: number;
  stream_id: number;
}

/** Each user's last presence (migration 0004). */
export interface PresenceTable {
  user_id: string;
  /** `online`, `unavailable` or `offline`. */
  state: string;
  status_msg: string | null;
  last_active_ts: number;
  currently_active: boolean;
  stream_id: number;
}

/** Transactions received per origin and the response given (migration 0007). */
export interface FederationInboundTransactionsTable {
  origin: string;
  txn_id: string;
  response_json: string;
  received_ts: number;
}

/** Filters uploaded by POST /user/{userId}/filter, one row per user and content (migration 0005). */
export interface FiltersTable {
  user_id: string;
  filter_id: string;
  /** The filter as uploaded, re-serialised canonically. */
  json: string;
  /** SHA-256 (base64url) of `json`: the same filter uploaded again gets the same ID. */
  json_hash: string;
  created_ts: number;
}

/** Rooms a user forgot, while `membership_event_id` is still their membership (0006). */
export interface ForgottenRoomsTable {
  user_id: string;
  room_id: string;
  membership_event_id: string;
  forgotten_ts: number;
}

/** A local device's identity keys as uploaded (migration 0008). */
export interface E2eDeviceKeysTable {
  user_id: string;
  device_id: string;
  key_json: string;
  updated_ts: number;
}

export interface E2eOneTimeKeysTable {
  user_id: string;
  device_id: string;
  algorithm: string;
  key_id: string;
  key_json: string;
  uploaded_ts: number;
}

export interface E2eFallbackKeysTable {
  user_id: string;
  device_id: string;
  algorithm: string;
  key_id: string;
  key_json: string;
  used: boolean;
}

/** `key_type`: `master`, `self_signing` or `user_signing`. */
export interface E2eCrossSigningKeysTable {
  user_id: string;
  key_type: string;
  public_key: string;
  key_json: string;
  updated_ts: number;
}

export interface E2eKeySignaturesTable {
  target_user_id: string;
  /** A device ID, or a cross-signing key's public key. */
  target_key_id: string;
  signer_user_id: string;
  signer_key_id: string;
  signature: string;
}

export interface E2eDeviceListStreamTable {
  stream_id: number;
  user_id: string;
  created_ts: number;
}

export interface E2eRemoteDeviceListsTable {
  user_id: string;
  /** The remote server's `stream_id` last applied. */
  stream_id: number;
  stale: boolean;
  updated_ts: number;
}

export interface E2eRemoteDevicesTable {
  user_id: string;
  device_id: string;
  display_name: string | null;
  key_json: string | null;
}

export interface E2eToDeviceTable {
  stream_id: number;
  user_id: string;
  device_id: string;
  sender: string;
  type: string;
  content: string;
  created_ts: number;
}

export interface E2eToDeviceTxnsTable {
  user_id: string;
  device_id: string;
  txn_id: string;
  created_ts: number;
}

export interface E2eBackupVersionsTable {
  user_id: string;
  version: number;
  algorithm: string;
  auth_data: string;
  etag: number;
  deleted: boolean;
}

export interface E2eBackupKeysTable {
  user_id: string;
  version: number;
  room_id: string;
  session_id: string;
  first_message_index: number;
  forwarded_count: number;
  is_verified: boolean;
  session_data: string;
}

/** One mxc:// URI, local or cached remote (migration 0009). Bytes are in the blob store under `sha256`. */
export interface MediaTable {
  server_name: string;
  media_id: string;
  /** The local uploader; null for remote media. */
  user_id: string | null;
  /** null only while a created URI waits for its upload. */
  content_type: string | null;
  filename: string | null;
  size: number | null;
  /** Hex SHA-256 of the plaintext; null until the bytes arrive. */
  sha256: string | null;
  created_ts: number;
  /** When the bytes were stored (uploaded, or cached from the origin). */
  stored_ts: number | null;
  /** For URIs from POST /media/v1/create: the upload deadline. */
  pending_expires_ts: number | null;
  quarantined_ts: number | null;
  quarantined_by: string | null;
}

/** A generated thumbnail of one media item at one size and method (migration 0009). */
export interface MediaThumbnailsTable {
  server_name: string;
  media_id: string;
  width: number;
  height: number;
  method: string;
  animated: boolean;
  content_type: string;
  size: number;
  sha256: string;
  created_ts: number;
}

/** URL previews as answered to clients, reused until `expires_ts` (migration 0009). */
export interface UrlPreviewsTable {
  url: string;
  response_json: string;
  fetched_ts: number;
  expires_ts: number;
}

/** A user's own push rule; `position` orders rules of one kind, lowest first (migration 0010). */
export interface PushRulesTable {
  user_id: string;
  kind: string;
  rule_id: string;
  position: number;
  /** JSON array, override and underride rules only. */
  conditions: string | null;
  /** content rules only. */
  pattern: string | null;
  /** JSON array. */
  actions: string;
  enabled: boolean;
}

/** A user's change to a server-default push rule; null columns keep the default (0010). */
export interface PushRuleDefaultsTable {
  user_id: string;
  kind: string;
  rule_id: string;
  enabled: boolean | null;
  /** JSON array. */
  actions: string | null;
}

/** An HTTP pusher (POST /pushers/set) (migration 0010). */
export interface PushersTable {
  user_id: string;
  app_id: string;
  pushkey: string;
  kind: string;
  app_display_name: string;
  device_display_name: string;
  profile_tag: string | null;
  lang: string;
  /** JSON object, `url` included. */
  data: string;
  /** Milliseconds; when the pushkey was last set. */
  pushkey_ts: number;
}

/** A notification not yet accepted by the pusher's gateway (migration 0010). */
export interface PushOutboxTable {
  id: Generated<number>;
  user_id: string;
  app_id: string;
  pushkey: string;
  room_id: string;
  event_id: string;
  /** JSON object. */
  tweaks: string;
  attempts: number;
  next_attempt_ts: number;
  created_ts: number;
}

/** An event that notified a user (GET /notifications) (migration 0010). */
export interface UserNotificationsTable {
  user_id: string;
  event_id: string;
  room_id: string;
  stream_ordering: number;
  /** JSON array. */
  actions: string;
  highlight: boolean;
  ts: number;
}

/** One event's `m.relates_to` with a `rel_type` (migration 0010). */
export interface EventRelationsTable {
  event_id: string;
  relates_to_id: string;
  rel_type: string;
  room_id: string;
  sender: string;
  type: string;
  stream_ordering: number;
  origin_server_ts: number;
  annotation_key: string | null;
}

/** Searchable text of timeline events, for POST /search (migration 0013). */
export interface EventSearchTable {
  event_id: string;
  room_id: string;
  sender: string;
  type: string;
  /** `content.body`, `content.name` or `content.topic`. */
  key: string;
  value: string;
  /** A tsvector; written with `to_tsvector`, never read back. */
  vector: string;
  stream_ordering: number;
  origin_server_ts: number;
}

/** How far a post-commit consumer of the event stream has got (migration 0010). */
export interface EventConsumerPositionsTable {
  consumer: string;
  position: number;
}

/** One entry of the hash-chained admin audit log (migration 0011). */
export interface AdminAuditLogTable {
  seq: number;
  ts: number;
  actor: string;
  action: string;
  target: string | null;
  /** Where the action came from: the client IP, or `cli@<host>`. */
  origin: string;
  details: string;
  /** Lowercase hex SHA-256 of the previous entry (the genesis hash for the first). */
  prev_hash: string;
  hash: string;
}

/** A user's report of an event, a room or a user (migration 0014). */
export interface ContentReportsTable {
  id: Generated<number>;
  ts: number;
  reporter: string;
  kind: 'event' | 'room' | 'user';
  room_id: string | null;
  event_id: string | null;
  target_user_id: string | null;
  reason: string | null;
  score: number | null;
}

/** OpenID tokens for `/openid/userinfo` (migration 0014). */
export interface OpenidTokensTable {
  token: string;
  user_id: string;
  expires_ts: number;
}

/** A role beside `users.is_admin`, e.g. `compliance` (migration 0019). */
export interface AdminRolesTable {
  user_id: string;
  role: string;
  granted_by: string;
  granted_ts: number;
}

/** Users deactivated with erasure (migration 0019). */
export interface ErasedUsersTable {
  user_id: string;
  erased_ts: number;
}

/** Rooms an admin blocked: local users may not join them (migration 0019). */
export interface BlockedRoomsTable {
  room_id: string;
  blocked_by: string;
  blocked_ts: number;
}

/** Admin room deletions and their outcome (migration 0019). */
export interface RoomDeletionsTable {
  delete_id: string;
  room_id: string;
  status: string;
  /** JSON of the delete-status API's `shutdown_room` object. */
  result: string;
  error: string | null;
  requested_by: string;
  created_ts: number;
}

/** Shadow-banned users: their sends are dropped while they are told they succeeded (migration 0019). */
export interface ShadowBannedUsersTable {
  user_id: string;
  banned_by: string;
  banned_ts: number;
}

/** Per-user message rate limits set by admins; 0 per second = not limited (migration 0019). */
export interface RatelimitOverridesTable {
  user_id: string;
  messages_per_second: number;
  burst_count: number;
}

/** The server-notices room of each user (migration 0019). */
export interface ServerNoticeRoomsTable {
  user_id: string;
  room_id: string;
  created_ts: number;
}

/** Incoming webhooks; the secret only as its SHA-256 (migration 0019). */
export interface WebhooksTable {
  webhook_id: string;
  room_id: string;
  sender: string;
  name: string;
  secret_hash: string;
  created_by: string;
  created_ts: number;
  revoked_ts: number | null;
  last_used_ts: number | null;
}

/** An event or ephemeral datum waiting to be pushed to an application service (migration 0016). */
export interface AppserviceQueueTable {
  id: Generated<number>;
  appservice_id: string;
  kind: 'event' | 'ephemeral';
  /** JSON object, as sent. */
  json: string;
  /** Set once the row is part of a transaction; a retry resends the same rows. */
  txn_id: number | null;
  created_ts: number;
}

/** A legal hold on a room or a user's events (migration 0020). */
export interface LegalHoldsTable {
  hold_id: string;
  scope: 'room' | 'user';
  /** A room ID or a user ID. */
  target: string;
  reason: string;
  created_by: string;
  created_ts: number;
  released_by: string | null;
  released_ts: number | null;
}

/** An event whose content was purged; its row now holds the redacted form (migration 0020). */
export interface PurgedEventsTable {
  event_id: string;
  room_id: string;
  reason: 'retention' | 'redaction';
  purged_ts: number;
  /** Lowercase hex SHA-256 of the JSON that was replaced. */
  original_sha256: string;
}

export interface Database {
  events: EventsTable;
  push_rules: PushRulesTable;
  push_rule_defaults: PushRuleDefaultsTable;
  pushers: PushersTable;
  push_outbox: PushOutboxTable;
  user_notifications: UserNotificationsTable;
  event_relations: EventRelationsTable;
  event_consumer_positions: EventConsumerPositionsTable;
  event_search: EventSearchTable;
  event_edges: EventEdgesTable;
  event_auth: EventAuthTable;
  event_transactions: EventTransactionsTable;
  state_snapshots: StateSnapshotsTable;
  state_snapshot_entries: StateSnapshotEntriesTable;
  current_state: CurrentStateTable;
  forward_extremities: ForwardExtremitiesTable;
  rooms: RoomsTable;
  users: UsersTable;
  devices: DevicesTable;
  access_tokens: AccessTokensTable;
  refresh_tokens: RefreshTokensTable;
  login_tokens: LoginTokensTable;
  sso_pending_logins: SsoPendingLoginsTable;
  sso_user_links: SsoUserLinksTable;
  registration_tokens: RegistrationTokensTable;
  uia_sessions: UiaSessionsTable;
  registration_nonces: RegistrationNoncesTable;
  account_data: AccountDataTable;
  room_aliases: RoomAliasesTable;
  server_keys: ServerKeysTable;
  federation_outbox: FederationOutboxTable;
  destinations: DestinationsTable;
  filters: FiltersTable;
  federation_inbound_transactions: FederationInboundTransactionsTable;
  profiles: ProfilesTable;
  receipts: ReceiptsTable;
  presence: PresenceTable;
  forgotten_rooms: ForgottenRoomsTable;
  media: MediaTable;
  media_thumbnails: MediaThumbnailsTable;
  url_previews: UrlPreviewsTable;
  e2e_device_keys: E2eDeviceKeysTable;
  e2e_one_time_keys: E2eOneTimeKeysTable;
  e2e_fallback_keys: E2eFallbackKeysTable;
  e2e_cross_signing_keys: E2eCrossSigningKeysTable;
  e2e_key_signatures: E2eKeySignaturesTable;
  e2e_device_list_stream: E2eDeviceListStreamTable;
  e2e_remote_device_lists: E2eRemoteDeviceListsTable;
  e2e_remote_devices: E2eRemoteDevicesTable;
  e2e_to_device: E2eToDeviceTable;
  e2e_to_device_txns: E2eToDeviceTxnsTable;
  e2e_backup_versions: E2eBackupVersionsTable;
  e2e_backup_keys: E2eBackupKeysTable;
  admin_audit_log: AdminAuditLogTable;
  appservice_queue: AppserviceQueueTable;
  content_reports: ContentReportsTable;
  openid_tokens: OpenidTokensTable;
  admin_roles: AdminRolesTable;
  erased_users: ErasedUsersTable;
  blocked_rooms: BlockedRoomsTable;
  room_deletions: RoomDeletionsTable;
  shadow_banned_users: ShadowBannedUsersTable;
  ratelimit_overrides: RatelimitOverridesTable;
  server_notice_rooms: ServerNoticeRoomsTable;
  webhooks: WebhooksTable;
  legal_holds: LegalHoldsTable;
  purged_events: PurgedEventsTable;
}

/**
 * Sequences that allocate stream positions. A sequence is monotonic across processes sharing
 * one PostgreSQL; gaps (rolled-back allocations) are expected.
 */
export const STREAM_SEQUENCES = {
  events: 'events_stream_seq',
  account_data: 'account_data_stream_seq',
  receipts: 'receipts_stream_seq',
  presence: 'presence_stream_seq',
  e2e_to_device: 'e2e_to_device_stream_seq',
  e2e_device_lists: 'e2e_device_list_stream_seq',
} as const;

export type StreamName = keyof typeof STREAM_SEQUENCES;
