// Users' push rules (client-server § "Push Rules: API"): their own rules, ordered per kind,
// and their changes (enabled, actions) to the server-default rules. Rule content is kept as
// JSON text; the service parses and validates it.

import type { Kysely } from 'kysely';
import type { Database } from '../../schema/database.ts';

export interface StoredPushRule {
  readonly kind: string;
  readonly ruleId: string;
  /** JSON array text, or null for rules without conditions. */
  readonly conditions: string | null;
  readonly pattern: string | null;
  /** JSON array text. */
  readonly actions: string;
  readonly enabled: boolean;
}

export interface StoredDefaultChange {
  readonly kind: string;
  readonly ruleId: string;
  readonly enabled: boolean | null;
  readonly actions: string | null;
}

export class PushRulesRepository {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  /** The user's own rules, per kind in priority order. */
  async userRules(userId: string): Promise<StoredPushRule[]> {
    const rows = await this.#db
      .selectFrom('push_rules')
      .selectAll()
      .where('user_id', '=', userId)
      .orderBy('kind')
      .orderBy('position')
      .execute();
    return rows.map((r) => ({
      kind: r.kind,
      ruleId: r.rule_id,
      conditions: r.conditions,
      pattern: r.pattern,
      actions: r.actions,
      enabled: r.enabled,
    }));
  }

  async defaultChanges(userId: string): Promise<StoredDefaultChange[]> {
    const rows = await this.#db.selectFrom('push_rule_defaults').selectAll().where('user_id', '=', userId).execute();
    return rows.map((r) => ({ kind: r.kind, ruleId: r.rule_id, enabled: r.enabled, actions: r.actions }));
  }

  /** Replaces every rule of one kind with `rules`, in that priority order, atomically. */
  async replaceKind(userId: string, kind: string, rules: readonly StoredPushRule[]): Promise<void> {
    await this.#db.transaction().execute(async (trx) => {
      await trx.deleteFrom('push_rules').where('user_id', '=', userId).where('kind', '=', kind).execute();
      if (rules.length === 0) return;
      await trx
        .insertInto('push_rules')
        .values(
          rules.map((r, position) => ({
            user_id: userId,
            kind,
            rule_id: r.ruleId,
            position,
            conditions: r.conditions,
            pattern: r.pattern,
            actions: r.actions,
            enabled: r.enabled,
          })),
        )
        .execute();
    });
  }

  /** Sets `enabled` and/or `actions` of a user rule; false when there is no such rule. */
  async updateUserRule(userId: string, kind: string, ruleId: string, change: { enabled?: boolean; actions?: string }): Promise<boolean> {
    const result = await this.#db
      .updateTable('push_rules')
      .set({
        ...(change.enabled === undefined ? {} : { enabled: change.enabled }),
        ...(change.actions === undefined ? {} : { actions: change.actions }),
      })
      .where('user_id', '=', userId)
      .where('kind', '=', kind)
      .where('rule_id', '=', ruleId)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** Records a change to a server-default rule; unset fields keep their earlier change. */
  async changeDefault(userId: string, kind: string, ruleId: string, change: { enabled?: boolean; actions?: string }): Promise<void> {
    await this.#db
      .insertInto('push_rule_defaults')
      .values({
        user_id: userId,
        kind,
        rule_id: ruleId,
        enabled: change.enabled ?? null,
        actions: change.actions ?? null,
      })
      .onConflict((oc) =>
        oc.columns(['user_id', 'kind', 'rule_id']).doUpdateSet({
          ...(change.enabled === undefined ? {} : { enabled: change.enabled }),
          ...(change.actions === undefined ? {} : { actions: change.actions }),
        }),
      )
      .execute();
  }
}
