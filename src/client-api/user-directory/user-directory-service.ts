// POST /user_directory/search (client-server § "User directory"): users who share a room
// with the searcher, members of public and world_readable rooms (config
// `user_directory.include_public_rooms`) and, with `search_all_users`, every local user.
// Matching is case-insensitive by word prefix: each word of the search term must begin a
// word of the localpart or the display name ("ali smi" finds "Alice Smith"), or the whole
// term must begin the user ID ("@alice:ex" finds @alice:example.org). Display names of local users come from their profile, of remote
// users from their member events.

import type { UserDirectoryConfig } from '../../config/types.ts';
import { getField, isJsonObject, type JsonObject } from '../../rooms/json.ts';
import type { StoaDatabase } from '../../storage/index.ts';
import { UserDirectoryRepository, type DirectoryCandidate } from '../../storage/user-directory-repository.ts';

export const DEFAULT_DIRECTORY_LIMIT = 10;
/** The most results one search returns, whatever `limit` asks for (Synapse's cap). */
export const MAX_DIRECTORY_LIMIT = 50;

export interface DirectoryUser {
  readonly userId: string;
  readonly displayName: string | undefined;
  readonly avatarUrl: string | undefined;
}

export interface DirectorySearchResult {
  readonly results: DirectoryUser[];
  readonly limited: boolean;
}

export class UserDirectoryService {
  readonly #repo: UserDirectoryRepository;
  readonly #config: UserDirectoryConfig;
  readonly #serverName: string;

  constructor(options: { db: StoaDatabase; config: UserDirectoryConfig; serverName: string }) {
    this.#repo = new UserDirectoryRepository(options.db.kysely);
    this.#config = options.config;
    this.#serverName = options.serverName;
  }

  get repository(): UserDirectoryRepository {
    return this.#repo;
  }

  async search(searcher: string, term: string, limit: number): Promise<DirectorySearchResult> {
    const words = wordsOf(term);
    if (!this.#config.enabled || words.length === 0) return { results: [], limited: false };
    const candidates = await this.#repo.candidates(
      { searcher, publicRooms: this.#config.include_public_rooms, allLocalUsers: this.#config.search_all_users },
      words,
    );
    const users = this.#merge(candidates);
    const whole = term.trim().toLowerCase().replace(/^@/, '');
    const ranked = users
      .filter((u) => matches(u, words, whole))
      .map((u) => ({ user: u, rank: rankOf(u, whole), local: this.#isLocal(u.userId) }))
      .sort(
        (a, b) =>
          a.rank - b.rank ||
          Number(b.local) - Number(a.local) ||
          Number(b.user.displayName !== undefined) - Number(a.user.displayName !== undefined) ||
          Number(b.user.avatarUrl !== undefined) - Number(a.user.avatarUrl !== undefined) ||
          (a.user.userId < b.user.userId ? -1 : a.user.userId > b.user.userId ? 1 : 0),
      );
    const capped = Math.min(Math.max(limit, 0), MAX_DIRECTORY_LIMIT);
    return { results: ranked.slice(0, capped).map((r) => r.user), limited: ranked.length > capped };
  }

  /** One entry per user: the local profile wins over member events for local users. */
  #merge(candidates: readonly DirectoryCandidate[]): DirectoryUser[] {
    const byUser = new Map<string, { displayName?: string | undefined; avatarUrl?: string | undefined; fromProfile: boolean }>();
    for (const c of candidates) {
      let entry = byUser.get(c.userId);
      if (entry === undefined) byUser.set(c.userId, (entry = { fromProfile: false }));
      if (entry.fromProfile) continue;
      if (this.#isLocal(c.userId)) {
        const profile = c.profileJson === undefined ? undefined : parseObject(c.profileJson);
        // No stored profile: the localpart, as GET /profile derives it.
        const fields = profile ?? { displayname: localpartOf(c.userId) };
        const displayName = stringField(fields, 'displayname');
        const avatarUrl = stringField(fields, 'avatar_url');
        byUser.set(c.userId, {
          ...(displayName === undefined ? {} : { displayName }),
          ...(avatarUrl === undefined ? {} : { avatarUrl }),
          fromProfile: true,
        });
        continue;
      }
      const event = c.memberEventJson === undefined ? undefined : parseObject(c.memberEventJson);
      const content = event === undefined ? undefined : getField(event, 'content');
      if (!isJsonObject(content)) continue;
      entry.displayName ??= stringField(content, 'displayname');
      entry.avatarUrl ??= stringField(content, 'avatar_url');
    }
    return [...byUser].map(([userId, e]) => ({ userId, displayName: e.displayName, avatarUrl: e.avatarUrl }));
  }

  #isLocal(userId: string): boolean {
    return userId.slice(userId.indexOf(':') + 1) === this.#serverName;
  }
}

/** The lower-cased words of a search term or name: runs of letters and digits. */
export function wordsOf(text: string): string[] {
  return text.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter((w) => w !== '');
}

/**
 * Every word of the term begins a word of the localpart or display name, or the whole term
 * begins the user ID. The server name is not searched word by word: "l" would find every
 * user of local.example.
 */
function matches(user: DirectoryUser, words: readonly string[], whole: string): boolean {
  if (user.userId.toLowerCase().replace(/^@/, '').startsWith(whole)) return true;
  const own = [...wordsOf(localpartOf(user.userId)), ...wordsOf(user.displayName ?? '')];
  return words.every((w) => own.some((o) => o.startsWith(w)));
}

/** 0: the term is the display name or localpart; 1: either starts with it; 2: word matches. */
function rankOf(user: DirectoryUser, whole: string): number {
  const name = (user.displayName ?? '').toLowerCase();
  const id = user.userId.toLowerCase().replace(/^@/, '');
  const localpart = id.split(':')[0] ?? '';
  if (name === whole || localpart === whole || id === whole) return 0;
  if (name.startsWith(whole) || id.startsWith(whole)) return 1;
  return 2;
}

function localpartOf(userId: string): string {
  const colon = userId.indexOf(':');
  return userId.slice(1, colon === -1 ? undefined : colon);
}

function stringField(object: JsonObject, key: string): string | undefined {
  const value = getField(object, key);
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function parseObject(text: string): JsonObject | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return isJsonObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}
