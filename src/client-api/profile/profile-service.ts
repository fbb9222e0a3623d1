// Users' profiles (client-server API § "Profiles", `profile.yaml`).
//
// A local user who never set a display name shows their localpart, as Synapse does at
// registration; here the default is derived when the profile is read, so registration does
// not need to know about profiles. Changing `displayname` or `avatar_url` re-sends the
// user's `m.room.member` event in every joined room (§ "Events on Change of Profile
// Information"), keeping the membership and other content and replacing those two keys.

import { MatrixError, forbidden, notFound } from '../../http/matrix-error.ts';
import type { Logger } from '../../logger.ts';
import { isJsonObject, type JsonObject, type JsonValue } from '../../rooms/json.ts';
import type { Roomserver } from '../../roomserver/index.ts';
import type { StoaDatabase } from '../../storage/index.ts';
import { ProfilesRepository, type ProfileFields } from '../../storage/profiles-repository.ts';

/** The two fields member events carry. */
export interface MemberProfile {
  displayname?: string;
  avatar_url?: string;
}

/** § "Profiles": the whole profile MUST stay under 64 KiB. */
export const MAX_PROFILE_BYTES = 64 * 1024;
/** `M_KEY_TOO_LARGE`: profile keys are at most 255 bytes. */
export const MAX_PROFILE_KEY_BYTES = 255;
/** Synapse's limit on display names; the spec leaves it to the server. */
export const MAX_DISPLAYNAME_LENGTH = 256;

/** `keyName`'s grammar from profile.yaml. */
const PROFILE_KEY = /^(avatar_url|displayname|m\.tz|[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+)$/;
const MXC_URI = /^mxc:\/\/[A-Za-z0-9.:[\]-]+\/[A-Za-z0-9_-]+$/;
const MEMBER_EVENT_FIELDS = new Set(['displayname', 'avatar_url']);

/** Looks up a remote user's profile over federation; undefined when the server says 404. */
export type RemoteProfileLookup = (userId: string) => Promise<JsonObject | undefined>;

export interface ProfileServiceOptions {
  readonly db: StoaDatabase;
  readonly roomserver: Roomserver;
  readonly serverName: string;
  readonly logger: Logger;
  readonly clock: () => number;
  readonly remote?: RemoteProfileLookup;
  /** True when an application service says it has (now) created `userId` (§ "Querying"). */
  readonly queryAppServiceUser?: ((userId: string) => Promise<boolean>) | undefined;
}

export class ProfileService {
  readonly #repo: ProfilesRepository;
  readonly #roomserver: Roomserver;
  readonly #serverName: string;
  readonly #logger: Logger;
  readonly #clock: () => number;
  readonly #remote: RemoteProfileLookup | undefined;
  readonly #queryAppServiceUser: ((userId: string) => Promise<boolean>) | undefined;

  constructor(options: ProfileServiceOptions) {
    this.#repo = new ProfilesRepository(options.db.kysely);
    this.#roomserver = options.roomserver;
    this.#serverName = options.serverName;
    this.#logger = options.logger;
    this.#clock = options.clock;
    this.#remote = options.remote;
    this.#queryAppServiceUser = options.queryAppServiceUser;
  }

  /**
   * The display name and avatar for member events and user directories: `{}` for users
   * this server cannot resolve (so callers can spread it into event content unconditionally).
   */
  async get(userId: string): Promise<MemberProfile> {
    const profile = await this.lookup(userId).catch(() => undefined);
    return profile === undefined ? {} : memberFieldsOf(profile);
  }

  /** The whole profile, or undefined when the user does not exist (→ 404 M_NOT_FOUND). */
  async lookup(userId: string): Promise<JsonObject | undefined> {
    if (!this.isLocal(userId)) return this.#remote === undefined ? undefined : this.#remote(userId);
    const stored = await this.#repo.find(userId);
    if (stored !== undefined) return toJsonObject(stored.fields);
    if (!(await this.#repo.userExists(userId))) {
      if (this.#queryAppServiceUser === undefined || !(await this.#queryAppServiceUser(userId))) return undefined;
      const created = await this.#repo.find(userId);
      if (created !== undefined) return toJsonObject(created.fields);
      if (!(await this.#repo.userExists(userId))) return undefined;
    }
    return this.#defaultProfile(userId);
  }

  /**
   * Sets one field of a local user's profile (PUT /profile/{userId}/{keyName}); only the user
   * may change their own profile. Member events are re-sent when the value changed.
   */
  async set(requester: string, userId: string, key: string, value: JsonValue): Promise<void> {
    this.#checkWritable(requester, userId, key);
    validateValue(key, value);
    const { before, after } = await this.#repo.update(
      userId,
      this.#defaultProfile(userId),
      (fields) => {
        const next: Record<string, unknown> = { ...fields, [key]: value };
        if (profileSize(next) > MAX_PROFILE_BYTES) {
          throw new MatrixError(400, 'M_PROFILE_TOO_LARGE', `The profile would exceed ${MAX_PROFILE_BYTES} bytes`);
        }
        return next;
      },
      this.#clock(),
    );
    await this.#propagateIfChanged(userId, before, after);
  }

  /** Removes one field (DELETE /profile/{userId}/{keyName}); removing an absent field is fine. */
  async delete(requester: string, userId: string, key: string): Promise<void> {
    this.#checkWritable(requester, userId, key);
    const { before, after } = await this.#repo.update(
      userId,
      this.#defaultProfile(userId),
      (fields) => Object.fromEntries(Object.entries(fields).filter(([k]) => k !== key)),
      this.#clock(),
    );
    await this.#propagateIfChanged(userId, before, after);
  }

  isLocal(userId: string): boolean {
    return userId.slice(userId.indexOf(':') + 1) === this.#serverName;
  }

  #defaultProfile(userId: string): JsonObject {
    const colon = userId.indexOf(':');
    return { displayname: userId.slice(1, colon === -1 ? undefined : colon) };
  }

  #checkWritable(requester: string, userId: string, key: string): void {
    if (new TextEncoder().encode(key).length > MAX_PROFILE_KEY_BYTES) {
      throw new MatrixError(400, 'M_KEY_TOO_LARGE', `Profile keys are at most ${MAX_PROFILE_KEY_BYTES} bytes`);
    }
    if (!PROFILE_KEY.test(key)) throw new MatrixError(400, 'M_INVALID_PARAM', `Invalid profile key: ${key}`);
    if (requester !== userId) throw forbidden("Cannot change another user's profile");
    if (!this.isLocal(userId)) throw forbidden('Cannot change the profile of a user on another server');
  }

  async #propagateIfChanged(userId: string, before: ProfileFields, after: ProfileFields): Promise<void> {
    const oldFields = memberFieldsOf(toJsonObject(before));
    const newFields = memberFieldsOf(toJsonObject(after));
    if (oldFields.displayname === newFields.displayname && oldFields.avatar_url === newFields.avatar_url) return;
    await this.propagateToRooms(userId, newFields);
  }

  /**
   * Re-sends the user's join event in every room they are joined to, with the new display
   * name and avatar. A room that refuses (e.g. power levels forbid it) is logged and skipped:
   * the profile change itself has already succeeded.
   */
  async propagateToRooms(userId: string, profile: MemberProfile): Promise<void> {
    for (const roomId of await this.#roomserver.roomsForUser(userId, 'join')) {
      try {
        const current = await this.#roomserver.stateEvent(roomId, 'm.room.member', userId);
        const content = current !== undefined && isJsonObject(current.json['content']) ? current.json['content'] : {};
        const extraContent: JsonObject = {};
        for (const [k, v] of Object.entries(content)) {
          if (k !== 'membership' && !MEMBER_EVENT_FIELDS.has(k)) extraContent[k] = v;
        }
        if (profile.displayname !== undefined) extraContent['displayname'] = profile.displayname;
        if (profile.avatar_url !== undefined) extraContent['avatar_url'] = profile.avatar_url;
        await this.#roomserver.setMembership({ roomId, sender: userId, target: userId, membership: 'join', extraContent });
      } catch (error) {
        this.#logger.warn({ err: error, roomId, userId }, 'could not update the member event after a profile change');
      }
    }
  }
}

/** The 404 the profile endpoints answer for an unknown user or an absent field. */
export function profileNotFound(): MatrixError {
  return notFound('Profile not found');
}

function validateValue(key: string, value: JsonValue): void {
  if (key === 'displayname') {
    if (typeof value !== 'string') throw new MatrixError(400, 'M_BAD_JSON', 'displayname must be a string');
    if (value.length > MAX_DISPLAYNAME_LENGTH) {
      throw new MatrixError(400, 'M_BAD_JSON', `displayname is longer than ${MAX_DISPLAYNAME_LENGTH} characters`);
    }
  } else if (key === 'avatar_url') {
    // An empty string clears the avatar, as Synapse and Element do it.
    if (typeof value !== 'string' || (value !== '' && !MXC_URI.test(value))) {
      throw new MatrixError(400, 'M_BAD_JSON', 'avatar_url must be an mxc:// URI');
    }
  } else if (key === 'm.tz') {
    if (typeof value !== 'string') throw new MatrixError(400, 'M_BAD_JSON', 'm.tz must be a string');
  }
}

function memberFieldsOf(profile: JsonObject): MemberProfile {
  const fields: MemberProfile = {};
  const displayname = profile['displayname'];
  const avatarUrl = profile['avatar_url'];
  if (typeof displayname === 'string' && displayname !== '') fields.displayname = displayname;
  if (typeof avatarUrl === 'string' && avatarUrl !== '') fields.avatar_url = avatarUrl;
  return fields;
}

function toJsonObject(fields: ProfileFields): JsonObject {
  // Stored by this service from validated JSON request bodies.
  return fields as JsonObject;
}

function profileSize(fields: Readonly<Record<string, unknown>>): number {
  return new TextEncoder().encode(JSON.stringify(fields)).length;
}
