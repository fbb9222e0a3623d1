// Legal holds (issue 8 item 4): a hold on a room, or on a user's events in every room.
// While a hold is active nothing in its scope is purged — not by retention, not by
// redaction pruning, not by an admin purge (they all go through RetentionRepository, whose
// queries exclude held events). Redactions still apply: clients see redacted events as
// before, but the original JSON stays in the events table and in exports.
//
// Who: only users holding the `compliance` role create or release holds, server admins
// included (an admin grants the role to themself first, which the audit log records): a
// hold is a legal decision, and the role makes who may take it explicit. Admins and
// compliance users may list holds. Every create and release is audit-logged.

import { randomBytes } from 'node:crypto';
import { parseUserId } from '../../rooms/identifiers.ts';
import { LegalHoldsRepository, type LegalHold, type LegalHoldScope } from '../../storage/legal-holds-repository.ts';
import type { StoaDatabase } from '../../storage/database.ts';

export class LegalHoldError extends Error {
  override readonly name = 'LegalHoldError';
  readonly kind: 'invalid' | 'not-found' | 'released';
  constructor(kind: 'invalid' | 'not-found' | 'released', message: string) {
    super(message);
    this.kind = kind;
  }
}

export const MAX_REASON_LENGTH = 2000;

export class LegalHolds {
  readonly #repository: LegalHoldsRepository;
  readonly #clock: () => number;

  constructor(db: StoaDatabase, clock: () => number = Date.now) {
    this.#repository = new LegalHoldsRepository(db);
    this.#clock = clock;
  }

  async create(input: { scope: string; target: string; reason: string; createdBy: string }): Promise<LegalHold> {
    const scope = validScope(input.scope);
    validTarget(scope, input.target);
    const reason = input.reason.trim();
    if (reason === '') throw new LegalHoldError('invalid', 'A legal hold needs a reason');
    if (reason.length > MAX_REASON_LENGTH) throw new LegalHoldError('invalid', `The reason must be at most ${MAX_REASON_LENGTH} characters`);
    const hold = {
      holdId: `hold_${randomBytes(12).toString('base64url')}`,
      scope,
      target: input.target,
      reason,
      createdBy: input.createdBy,
      createdTs: this.#clock(),
    };
    await this.#repository.insert(hold);
    return { ...hold, releasedBy: null, releasedTs: null };
  }

  async release(holdId: string, by: string): Promise<LegalHold> {
    const hold = await this.#repository.find(holdId);
    if (hold === undefined) throw new LegalHoldError('not-found', 'No such legal hold');
    if (hold.releasedTs !== null || !(await this.#repository.release(holdId, by, this.#clock()))) {
      throw new LegalHoldError('released', 'The legal hold was already released');
    }
    return (await this.#repository.find(holdId)) ?? hold;
  }

  list(options: { includeReleased: boolean; scope?: LegalHoldScope; target?: string }): Promise<LegalHold[]> {
    return this.#repository.list(options);
  }

  find(holdId: string): Promise<LegalHold | undefined> {
    return this.#repository.find(holdId);
  }

  /** Whether `sender`'s events in `roomId` are held (for a roomserver hook, e.g. at redaction time). */
  isHeld(roomId: string, sender: string): Promise<boolean> {
    return this.#repository.isHeld(roomId, sender);
  }
}

export function validScope(scope: string): LegalHoldScope {
  if (scope !== 'room' && scope !== 'user') throw new LegalHoldError('invalid', 'scope must be "room" or "user"');
  return scope;
}

function validTarget(scope: LegalHoldScope, target: string): void {
  if (scope === 'room' && !/^![^:]+(:.+)?$/.test(target)) throw new LegalHoldError('invalid', 'target must be a room ID');
  if (scope === 'user' && parseUserId(target, { historical: true }) === undefined) throw new LegalHoldError('invalid', 'target must be a user ID');
}

/** A hold as the admin API shows it. */
export function holdJson(hold: LegalHold): {
  id: string;
  scope: LegalHoldScope;
  target: string;
  reason: string;
  created_by: string;
  created_ts: number;
  released_by: string | null;
  released_ts: number | null;
  active: boolean;
} {
  return {
    id: hold.holdId,
    scope: hold.scope,
    target: hold.target,
    reason: hold.reason,
    created_by: hold.createdBy,
    created_ts: hold.createdTs,
    released_by: hold.releasedBy,
    released_ts: hold.releasedTs,
    active: hold.releasedTs === null,
  };
}
