// Push rules per user (client-server § "Push Rules: API"): the effective ruleset (the spec's
// defaults with the user's changes, plus the user's rules), CRUD with `before`/`after`,
// enabled and actions. Every change is also written as the user's `m.push_rules` global
// account data (§ "Push Rules: Events": "When a user changes their push rules a
// `m.push_rules` event is sent to all clients in the `account_data` section of their next
// /sync"), which advances the account-data stream and wakes their syncs.

import { MatrixError, invalidParam, missingParam, notFound } from '../../http/matrix-error.ts';
import { isJsonObject, type JsonObject, type JsonValue } from '../../rooms/json.ts';
import {
  defaultPushRules,
  effectiveRuleset,
  findRule,
  isPushRuleKind,
  PUSH_RULE_KINDS,
  type DefaultRuleChange,
  type PushAction,
  type PushRule,
  type PushRuleKind,
  type PushRuleset,
} from '../../rooms/push/index.ts';
import { PushRulesRepository, type StoredPushRule } from '../../storage/push-rules-repository.ts';
import type { StoaDatabase } from '../../storage/index.ts';

export const PUSH_RULES_ACCOUNT_DATA = 'm.push_rules';

/** Where the service announces a changed ruleset (the account-data service). */
export interface PushRulesAnnouncer {
  set(userId: string, roomId: undefined, type: string, content: JsonObject): Promise<number>;
}

export interface PutRuleRequest {
  readonly actions: JsonValue | undefined;
  readonly conditions: JsonValue | undefined;
  readonly pattern: JsonValue | undefined;
  readonly before: string | undefined;
  readonly after: string | undefined;
}

const KNOWN_STRING_ACTIONS: ReadonlySet<string> = new Set(['notify', 'dont_notify', 'coalesce']);
/** Cached rulesets expire, so a change made by another process is seen within this time. */
const CACHE_TTL_MS = 30_000;
const CACHE_LIMIT = 10_000;

export class PushRulesService {
  readonly #repo: PushRulesRepository;
  readonly #announcer: PushRulesAnnouncer | undefined;
  readonly #clock: () => number;
  readonly #cache = new Map<string, { ruleset: PushRuleset; at: number }>();
  /** Per-user write queue: a read-modify-write of one kind must not interleave with another. */
  readonly #writes = new Map<string, Promise<unknown>>();

  constructor(options: { db: StoaDatabase; announcer?: PushRulesAnnouncer; clock: () => number }) {
    this.#repo = new PushRulesRepository(options.db.kysely);
    this.#announcer = options.announcer;
    this.#clock = options.clock;
  }

  /** The user's effective ruleset, in evaluation order. */
  async ruleset(userId: string): Promise<PushRuleset> {
    const cached = this.#cache.get(userId);
    if (cached !== undefined && this.#clock() - cached.at < CACHE_TTL_MS) return cached.ruleset;
    const [own, changes] = await Promise.all([this.#repo.userRules(userId), this.#repo.defaultChanges(userId)]);
    const rules: Partial<Record<PushRuleKind, PushRule[]>> = {};
    for (const row of own) {
      if (!isPushRuleKind(row.kind)) continue;
      (rules[row.kind] ??= []).push(toRule(row));
    }
    const defaultChanges = new Map<string, DefaultRuleChange>();
    for (const change of changes) {
      const actions = change.actions === null ? undefined : parseActions(change.actions);
      defaultChanges.set(`${change.kind}/${change.ruleId}`, {
        ...(change.enabled === null ? {} : { enabled: change.enabled }),
        ...(actions === undefined ? {} : { actions }),
      });
    }
    const ruleset = effectiveRuleset(userId, { rules, defaultChanges });
    if (this.#cache.size >= CACHE_LIMIT) this.#cache.clear();
    this.#cache.set(userId, { ruleset, at: this.#clock() });
    return ruleset;
  }

  /** `m.push_rules` content: `{global: ruleset}` as GET /pushrules/ returns it. */
  async accountDataContent(userId: string): Promise<JsonObject> {
    return { global: rulesetJson(await this.ruleset(userId)) };
  }

  async rule(userId: string, kind: string, ruleId: string): Promise<PushRule> {
    const k = checkKind(kind);
    const rule = findRule(await this.ruleset(userId), k, ruleId);
    if (rule === undefined) throw notFound('The push rule was not found.');
    return rule;
  }

  async putRule(userId: string, kind: string, ruleId: string, request: PutRuleRequest): Promise<void> {
    const k = checkKind(kind);
    if (ruleId === '' || ruleId.startsWith('.')) throw invalidParam('Rule IDs starting with "." are reserved for server-default rules');
    if (ruleId.includes('/') || ruleId.includes('\\')) throw invalidParam('Rule IDs may not contain "/" or "\\"');
    const actions = checkActions(request.actions);
    let conditions: string | null = null;
    let pattern: string | null = null;
    if (k === 'override' || k === 'underride') {
      conditions = JSON.stringify(checkConditions(request.conditions));
    } else if (k === 'content') {
      if (typeof request.pattern !== 'string') throw missingParam('Content rules need a string "pattern"');
      pattern = request.pattern;
    }
    const defaults = defaultPushRules(userId)[k];
    for (const anchor of [request.before, request.after]) {
      if (anchor !== undefined && defaults.some((r) => r.rule_id === anchor)) {
        throw invalidParam('A rule cannot be placed relative to a server-default rule');
      }
    }
    await this.#write(userId, async () => {
      const existing = (await this.#repo.userRules(userId)).filter((r) => r.kind === k);
      const previous = existing.find((r) => r.ruleId === ruleId);
      const rule: StoredPushRule = {
        kind: k,
        ruleId,
        conditions,
        pattern,
        actions: JSON.stringify(actions),
        // "When creating push rules, they MUST be enabled by default"; updates keep theirs.
        enabled: previous?.enabled ?? true,
      };
      const others = existing.filter((r) => r.ruleId !== ruleId);
      let at: number;
      if (request.before !== undefined) {
        at = others.findIndex((r) => r.ruleId === request.before);
        if (at < 0) throw new MatrixError(400, 'M_UNKNOWN', `before/after rule not found: ${request.before}`);
      } else if (request.after !== undefined) {
        const index = others.findIndex((r) => r.ruleId === request.after);
        if (index < 0) throw new MatrixError(400, 'M_UNKNOWN', `before/after rule not found: ${request.after}`);
        at = index + 1;
      } else {
        // A new rule is the most important of its kind; an updated one keeps its place.
        at = previous === undefined ? 0 : existing.findIndex((r) => r.ruleId === ruleId);
      }
      await this.#repo.replaceKind(userId, k, [...others.slice(0, at), rule, ...others.slice(at)]);
    });
  }

  async deleteRule(userId: string, kind: string, ruleId: string): Promise<void> {
    const k = checkKind(kind);
    if (defaultPushRules(userId)[k].some((r) => r.rule_id === ruleId)) {
      throw invalidParam('Server-default rules cannot be deleted; disable them instead');
    }
    await this.#write(userId, async () => {
      const existing = (await this.#repo.userRules(userId)).filter((r) => r.kind === k);
      if (!existing.some((r) => r.ruleId === ruleId)) throw notFound('The push rule was not found.');
      await this.#repo.replaceKind(userId, k, existing.filter((r) => r.ruleId !== ruleId));
    });
  }

  async setEnabled(userId: string, kind: string, ruleId: string, enabled: boolean): Promise<void> {
    await this.#change(userId, checkKind(kind), ruleId, { enabled });
  }

  async setActions(userId: string, kind: string, ruleId: string, actions: JsonValue | undefined): Promise<void> {
    await this.#change(userId, checkKind(kind), ruleId, { actions: JSON.stringify(checkActions(actions)) });
  }

  async #change(userId: string, kind: PushRuleKind, ruleId: string, change: { enabled?: boolean; actions?: string }): Promise<void> {
    await this.#write(userId, async () => {
      if (defaultPushRules(userId)[kind].some((r) => r.rule_id === ruleId)) {
        await this.#repo.changeDefault(userId, kind, ruleId, change);
      } else if (!(await this.#repo.updateUserRule(userId, kind, ruleId, change))) {
        throw notFound('The push rule was not found.');
      }
    });
  }

  async #write(userId: string, work: () => Promise<void>): Promise<void> {
    const previous = this.#writes.get(userId) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(async () => {
      try {
        await work();
      } finally {
        this.#cache.delete(userId);
      }
      if (this.#announcer !== undefined) {
        await this.#announcer.set(userId, undefined, PUSH_RULES_ACCOUNT_DATA, await this.accountDataContent(userId));
      }
    });
    this.#writes.set(userId, run);
    try {
      await run;
    } finally {
      if (this.#writes.get(userId) === run) this.#writes.delete(userId);
    }
  }
}

/** A ruleset as push_ruleset.yaml shows it. */
export function rulesetJson(ruleset: PushRuleset): JsonObject {
  const out: JsonObject = {};
  for (const kind of PUSH_RULE_KINDS) out[kind] = ruleset[kind].map(ruleJson);
  return out;
}

/** A rule as push_rule.yaml shows it. */
export function ruleJson(rule: PushRule): JsonObject {
  const out: JsonObject = {
    rule_id: rule.rule_id,
    default: rule.default,
    enabled: rule.enabled,
    actions: [...rule.actions],
  };
  if (rule.conditions !== undefined) out['conditions'] = [...rule.conditions];
  if (rule.pattern !== undefined) out['pattern'] = rule.pattern;
  return out;
}

function toRule(row: StoredPushRule): PushRule {
  const conditions = row.conditions === null ? undefined : parseJsonArray(row.conditions)?.filter(isJsonObject);
  return {
    rule_id: row.ruleId,
    default: false,
    enabled: row.enabled,
    actions: parseActions(row.actions),
    ...(conditions === undefined ? {} : { conditions }),
    ...(row.pattern === null ? {} : { pattern: row.pattern }),
  };
}

function parseActions(text: string): PushAction[] {
  return (parseJsonArray(text) ?? []).filter((a): a is PushAction => typeof a === 'string' || isJsonObject(a));
}

function parseJsonArray(text: string): JsonValue[] | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) ? (value as JsonValue[]) : undefined;
  } catch {
    return undefined;
  }
}

function checkKind(kind: string): PushRuleKind {
  if (!isPushRuleKind(kind)) throw invalidParam(`Unknown push rule kind: ${kind}`);
  return kind;
}

/** § "Actions": strings `notify` (and the historical ones), or `{set_tweak, value?}` objects. */
function checkActions(actions: JsonValue | undefined): PushAction[] {
  if (actions === undefined) throw missingParam('"actions" is required');
  if (!Array.isArray(actions)) throw invalidParam('"actions" must be an array');
  return actions.map((action) => {
    if (typeof action === 'string') {
      if (!KNOWN_STRING_ACTIONS.has(action)) throw invalidParam(`Unknown action: ${action}`);
      return action;
    }
    if (isJsonObject(action) && typeof action['set_tweak'] === 'string') return action;
    throw invalidParam('Each action is a string or an object with "set_tweak"');
  });
}

/** push_condition.yaml: objects with a string `kind`; the rest is kept as sent. */
function checkConditions(conditions: JsonValue | undefined): JsonObject[] {
  if (conditions === undefined) return [];
  if (!Array.isArray(conditions)) throw invalidParam('"conditions" must be an array');
  return conditions.map((condition) => {
    if (!isJsonObject(condition) || typeof condition['kind'] !== 'string') {
      throw invalidParam('Each condition is an object with a string "kind"');
    }
    return condition;
  });
}

