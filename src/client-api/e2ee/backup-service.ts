// Server-side key backups (client-server § "Server-side key backups", key_backup.yaml):
// versions (create, read, update, delete) and the session keys in them. Keys may only be
// written to the current (latest) version: writing to another is 403
// M_WRONG_ROOM_KEYS_VERSION naming the current one. A stored key is replaced only by a
// better one: verified over unverified, then a lower first_message_index, then a lower
// forwarded_count.

import { invalidParam, MatrixError, notFound } from '../../http/matrix-error.ts';
import { getField, isJsonObject, type JsonObject, type JsonValue } from '../../rooms/json.ts';
import type { StoaDatabase } from '../../storage/index.ts';
import { E2eeBackupRepository, type BackupKey, type BackupKeyMetadata, type BackupKeyScope, type StoredBackupVersion } from '../../storage/e2ee-backup-repository.ts';

/** The spec's replacement rule, in its order. */
export function uploadedKeyIsBetter(stored: BackupKeyMetadata, uploaded: BackupKeyMetadata): boolean {
  if (stored.isVerified !== uploaded.isVerified) return uploaded.isVerified;
  if (stored.firstMessageIndex !== uploaded.firstMessageIndex) return uploaded.firstMessageIndex < stored.firstMessageIndex;
  return uploaded.forwardedCount < stored.forwardedCount;
}

export class BackupService {
  readonly #repo: E2eeBackupRepository;

  constructor(db: StoaDatabase) {
    this.#repo = new E2eeBackupRepository(db.kysely);
  }

  async createVersion(userId: string, body: JsonObject): Promise<JsonObject> {
    const { algorithm, authData } = checkVersionBody(body);
    const version = await this.#repo.createVersion(userId, algorithm, JSON.stringify(authData));
    return { version: String(version) };
  }

  /** The version, or the current one when `version` is undefined. */
  async getVersion(userId: string, version: string | undefined): Promise<JsonObject> {
    const stored = await this.#repo.findVersion(userId, version === undefined ? undefined : parseVersion(version));
    if (stored === undefined) throw notFound(version === undefined ? 'No current backup version' : 'Unknown backup version');
    return formatVersion(stored);
  }

  async updateVersion(userId: string, version: string, body: JsonObject): Promise<JsonObject> {
    const number = parseVersion(version);
    const { algorithm, authData } = checkVersionBody(body);
    const bodyVersion = getField(body, 'version');
    if (bodyVersion !== undefined && bodyVersion !== version) throw invalidParam('version in the body does not match the path');
    const stored = await this.#repo.findVersion(userId, number);
    if (stored === undefined) throw notFound('Unknown backup version');
    if (stored.algorithm !== algorithm) throw invalidParam('algorithm does not match the version');
    await this.#repo.updateVersion(userId, number, JSON.stringify(authData));
    return {};
  }

  async deleteVersion(userId: string, version: string): Promise<JsonObject> {
    if (!(await this.#repo.deleteVersion(userId, parseVersion(version)))) throw notFound('Unknown backup version');
    return {};
  }

  /** PUT of keys; `body` is the `rooms` map, or one room's `sessions`, or one session's key. */
  async putKeys(userId: string, version: string | null, keys: readonly BackupKey[]): Promise<JsonObject> {
    const number = await this.#writableVersion(userId, version);
    const counts = await this.#repo.putKeys(userId, number, keys, uploadedKeyIsBetter);
    return { etag: String(counts.etag), count: counts.count };
  }

  async getKeys(userId: string, version: string | null, scope: BackupKeyScope): Promise<BackupKey[]> {
    const stored = await this.#existingVersion(userId, version);
    return this.#repo.keys(userId, stored.version, scope);
  }

  async deleteKeys(userId: string, version: string | null, scope: BackupKeyScope): Promise<JsonObject> {
    const stored = await this.#existingVersion(userId, version);
    const counts = await this.#repo.deleteKeys(userId, stored.version, scope);
    return { etag: String(counts.etag), count: counts.count };
  }

  async #existingVersion(userId: string, version: string | null): Promise<StoredBackupVersion> {
    if (version === null) throw new MatrixError(400, 'M_MISSING_PARAM', 'The version query parameter is required');
    const stored = await this.#repo.findVersion(userId, parseVersion(version));
    if (stored === undefined) throw notFound('Unknown backup version');
    return stored;
  }

  /** Writes go to the current version only; a deleted or unknown one is not current either. */
  async #writableVersion(userId: string, version: string | null): Promise<number> {
    if (version === null) throw new MatrixError(400, 'M_MISSING_PARAM', 'The version query parameter is required');
    const current = await this.#repo.findVersion(userId);
    if (current === undefined) throw notFound('No current backup version');
    if (String(current.version) !== version) {
      throw new MatrixError(403, 'M_WRONG_ROOM_KEYS_VERSION', 'Wrong backup version', { current_version: String(current.version) });
    }
    return current.version;
  }
}

/** One KeyBackupData object (key_backup.yaml) for `roomId` / `sessionId`. */
export function parseBackupKey(roomId: string, sessionId: string, value: JsonValue): BackupKey {
  if (!isJsonObject(value)) throw invalidParam(`Key ${sessionId} must be an object`);
  const firstMessageIndex = getField(value, 'first_message_index');
  const forwardedCount = getField(value, 'forwarded_count');
  const isVerified = getField(value, 'is_verified');
  const sessionData = getField(value, 'session_data');
  if (typeof firstMessageIndex !== 'number' || !Number.isSafeInteger(firstMessageIndex) || firstMessageIndex < 0) {
    throw invalidParam('first_message_index must be a non-negative integer');
  }
  if (typeof forwardedCount !== 'number' || !Number.isSafeInteger(forwardedCount) || forwardedCount < 0) {
    throw invalidParam('forwarded_count must be a non-negative integer');
  }
  if (typeof isVerified !== 'boolean') throw invalidParam('is_verified must be a boolean');
  if (!isJsonObject(sessionData)) throw invalidParam('session_data must be an object');
  return { roomId, sessionId, firstMessageIndex, forwardedCount, isVerified, sessionData: JSON.stringify(sessionData) };
}

/** A key as GET returns it. */
export function formatBackupKey(key: BackupKey): JsonObject {
  return {
    first_message_index: key.firstMessageIndex,
    forwarded_count: key.forwardedCount,
    is_verified: key.isVerified,
    session_data: JSON.parse(key.sessionData) as JsonObject,
  };
}

function formatVersion(stored: StoredBackupVersion): JsonObject {
  return {
    algorithm: stored.algorithm,
    auth_data: JSON.parse(stored.authData) as JsonObject,
    count: stored.count,
    etag: String(stored.etag),
    version: String(stored.version),
  };
}

function checkVersionBody(body: JsonObject): { algorithm: string; authData: JsonObject } {
  const algorithm = getField(body, 'algorithm');
  const authData = getField(body, 'auth_data');
  if (typeof algorithm !== 'string' || algorithm === '') throw invalidParam('algorithm must be a string');
  if (!isJsonObject(authData)) throw invalidParam('auth_data must be an object');
  return { algorithm, authData };
}

/** Versions are positive integers; anything else names no version (404, as for an unknown one). */
function parseVersion(version: string): number {
  if (!/^[1-9][0-9]{0,14}$/.test(version)) throw notFound('Unknown backup version');
  return Number(version);
}
