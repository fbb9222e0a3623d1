// The user directory (client-server § "User directory", users.yaml `searchUserDirectory`)
// and the profile-visibility test (§ "Profiles", "Server behaviour"), read straight from the
// current room state: who is joined where, which rooms are public (join rule `public`) or
// `world_readable`, and the display names of member events and local profiles. Nothing is
// copied, so a join, leave or profile change is visible to the next search.
//
// The SQL narrows the candidates by substring (`strpos` on lower-cased text, for ASCII search
// words, where PostgreSQL's and JavaScript's lower-casing agree); the caller decides the exact
// match (word prefixes) and the ranking.

import { sql, type Expression, type Kysely, type SqlBool } from 'kysely';
import type { Database } from '../../schema/database.ts';

export interface DirectoryScope {
  /** Users who share a room with the searcher (always, § "User directory"). */
  readonly searcher: string;
  /** Users joined to rooms with join rule `public` or history `world_readable`. */
  readonly publicRooms: boolean;
  /** Every local, non-deactivated user (Synapse's `search_all_users`). */
  readonly allLocalUsers: boolean;
}

/** One user as a candidate; the JSON texts are parsed by the caller. */
export interface DirectoryCandidate {
  readonly userId: string;
  /** One of the user's join events (JSON text) in a room in scope; undefined for local-only rows. */
  readonly memberEventJson: string | undefined;
  /** The local profile's fields (JSON text); undefined when none is stored. */
  readonly profileJson: string | undefined;
}

const MAX_CANDIDATES = 2000;

export class UserDirectoryRepository {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  /** Candidates in scope whose user ID or display-name text contains every ASCII word. */
  async candidates(scope: DirectoryScope, words: readonly string[]): Promise<DirectoryCandidate[]> {
    const ascii = words.filter((w) => /^[\x20-\x7e]+$/.test(w)).map((w) => w.toLowerCase());
    const memberRows = await this.#db
      .selectFrom('current_state as cs')
      .innerJoin('events as e', 'e.event_id', 'cs.event_id')
      .leftJoin('profiles as p', 'p.user_id', 'cs.state_key')
      .select(['cs.state_key as user_id', 'e.json as json', 'p.fields as fields'])
      .where('cs.type', '=', 'm.room.member')
      .where('cs.membership', '=', 'join')
      .where((eb) => {
        const rooms: Expression<SqlBool>[] = [eb('cs.room_id', 'in', this.#roomsOf(scope.searcher))];
        if (scope.publicRooms) rooms.push(eb('cs.room_id', 'in', this.#publicRooms()));
        return eb.or(rooms);
      })
      .where((eb) =>
        eb.and(
          ascii.map((w) =>
            eb.or([
              eb(sql`strpos(lower(cs.state_key), ${w})`, '>', 0),
              eb(sql`strpos(lower(e.json), ${w})`, '>', 0),
              eb(sql`strpos(lower(coalesce(p.fields, '')), ${w})`, '>', 0),
            ]),
          ),
        ),
      )
      .limit(MAX_CANDIDATES)
      .execute();
    const out: DirectoryCandidate[] = memberRows.map((r) => ({
      userId: r.user_id,
      memberEventJson: r.json,
      profileJson: r.fields ?? undefined,
    }));
    if (scope.allLocalUsers) {
      const localRows = await this.#db
        .selectFrom('users as u')
        .leftJoin('profiles as p', 'p.user_id', 'u.user_id')
        .select(['u.user_id as user_id', 'p.fields as fields'])
        .where('u.deactivated', '=', false)
        .where((eb) =>
          eb.and(
            ascii.map((w) =>
              eb.or([eb(sql`strpos(lower(u.user_id), ${w})`, '>', 0), eb(sql`strpos(lower(coalesce(p.fields, '')), ${w})`, '>', 0)]),
            ),
          ),
        )
        .limit(MAX_CANDIDATES)
        .execute();
      for (const r of localRows) out.push({ userId: r.user_id, memberEventJson: undefined, profileJson: r.fields ?? undefined });
    }
    return out;
  }

  /**
   * Whether `target` is visible to `requester` by room membership (§ "Profiles": they share
   * a room, or `target` is joined to a public or world_readable room). `requester` undefined:
   * only the public-room test applies.
   */
  async isVisible(requester: string | undefined, target: string): Promise<boolean> {
    if (requester === target) return true;
    // No such user ID can exist, and PostgreSQL text cannot hold U+0000.
    if (target.includes('\u0000')) return false;
    const row = await this.#db
      .selectFrom('current_state as cs')
      .select('cs.room_id')
      .where('cs.type', '=', 'm.room.member')
      .where('cs.state_key', '=', target)
      .where('cs.membership', 'in', ['join', 'invite'])
      .where((eb) => {
        // Correlated (primary-key look-ups in the target's few rooms), not the whole set of public rooms.
        const rooms: Expression<SqlBool>[] = [eb.exists(this.#publicRooms().where('rs.room_id', '=', sql.ref<string>('cs.room_id')))];
        if (requester !== undefined) {
          rooms.push(
            eb(
              'cs.room_id',
              'in',
              eb
                .selectFrom('current_state as mine')
                .select('mine.room_id')
                .where('mine.type', '=', 'm.room.member')
                .where('mine.state_key', '=', requester)
                .where('mine.membership', 'in', ['join', 'invite']),
            ),
          );
        }
        return eb.or(rooms);
      })
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  }

  #roomsOf(userId: string) {
    return this.#db
      .selectFrom('current_state as mine')
      .select('mine.room_id')
      .where('mine.type', '=', 'm.room.member')
      .where('mine.state_key', '=', userId)
      .where('mine.membership', '=', 'join');
  }

  /** Rooms whose current join rule is `public` or whose history is `world_readable`. */
  #publicRooms() {
    return this.#db
      .selectFrom('current_state as rs')
      .innerJoin('events as re', 're.event_id', 'rs.event_id')
      .select('rs.room_id')
      .where('rs.state_key', '=', '')
      .where((eb) =>
        eb.or([
          eb.and([eb('rs.type', '=', 'm.room.join_rules'), eb(sql`(re.json::jsonb -> 'content' ->> 'join_rule')`, '=', 'public')]),
          eb.and([
            eb('rs.type', '=', 'm.room.history_visibility'),
            eb(sql`(re.json::jsonb -> 'content' ->> 'history_visibility')`, '=', 'world_readable'),
          ]),
        ]),
      );
  }
}
