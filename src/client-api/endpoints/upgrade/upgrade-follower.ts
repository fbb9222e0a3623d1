// Client-server § "Room Upgrades": "When a user joins the new room, the server should
// automatically transfer/replicate some of the user's personalized settings such as
// notifications, tags, etc." As Synapse does, when a local user joins a room whose create
// event names a predecessor they were in: the old room's tags, its place in `m.direct`, and
// the user's push rules for it (the `room` rule, and override/underride rules named after
// the room, which is how clients store per-room notification settings) are copied.
//
// Runs after the join is committed, off the roomserver's output; a failure is logged and
// changes nothing about the join.

import type { Logger } from '../../../logger.ts';
import { serverNameOf } from '../../../rooms/identifiers.ts';
import { getField, isJsonObject, type JsonObject, type JsonValue } from '../../../rooms/json.ts';
import type { PushRule, PushRuleset } from '../../../rooms/push/index.ts';
import type { NewRoomEvent, Roomserver } from '../../../roomserver/index.ts';

export interface FollowerAccountData {
  get(userId: string, roomId: string | undefined, type: string): Promise<JsonObject | undefined>;
  set(userId: string, roomId: string | undefined, type: string, content: JsonObject): Promise<number>;
}

export interface FollowerPushRules {
  ruleset(userId: string): Promise<PushRuleset>;
  putRule(
    userId: string,
    kind: string,
    ruleId: string,
    request: { actions: JsonValue | undefined; conditions: JsonValue | undefined; pattern: JsonValue | undefined; before: undefined; after: undefined },
  ): Promise<void>;
  setEnabled(userId: string, kind: string, ruleId: string, enabled: boolean): Promise<void>;
}

export interface UpgradeFollowerDeps {
  readonly roomserver: Pick<Roomserver, 'onNewEvent' | 'stateEvent' | 'membership'>;
  readonly serverName: string;
  readonly accountData: FollowerAccountData;
  readonly pushRules: FollowerPushRules;
  readonly logger: Logger;
}

export class UpgradeFollower {
  readonly #deps: UpgradeFollowerDeps;
  #unsubscribe: (() => void) | undefined;
  readonly #pending = new Set<Promise<void>>();

  constructor(deps: UpgradeFollowerDeps) {
    this.#deps = deps;
  }

  start(): void {
    this.#unsubscribe ??= this.#deps.roomserver.onNewEvent((event) => this.#onEvent(event));
  }

  /** Stops listening and waits for copies under way. */
  async close(): Promise<void> {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    await Promise.allSettled([...this.#pending]);
  }

  #onEvent(event: NewRoomEvent): void {
    const change = event.membershipChange;
    if (event.writtenElsewhere === true) return;
    if (event.type !== 'm.room.member' || change === undefined || change.membership !== 'join' || change.previous === 'join') return;
    if (serverNameOf(change.target) !== this.#deps.serverName) return;
    const work = this.follow(event.roomId, change.target)
      .catch((err: unknown) => this.#deps.logger.warn({ err, room_id: event.roomId }, 'could not carry settings over to the upgraded room'))
      .finally(() => this.#pending.delete(work));
    this.#pending.add(work);
  }

  /** Copies `userId`'s settings for the predecessor of `newRoomId`, if it has one they were in. */
  async follow(newRoomId: string, userId: string): Promise<void> {
    const { roomserver, accountData } = this.#deps;
    const create = await roomserver.stateEvent(newRoomId, 'm.room.create', '');
    const content = create === undefined ? undefined : getField(create.json, 'content');
    const predecessor = isJsonObject(content) ? content['predecessor'] : undefined;
    const oldRoomId = isJsonObject(predecessor) ? predecessor['room_id'] : undefined;
    if (typeof oldRoomId !== 'string' || oldRoomId === newRoomId) return;
    if ((await roomserver.membership(oldRoomId, userId)) === undefined) return;

    const oldTags = await accountData.get(userId, oldRoomId, 'm.tag');
    const newTags = await accountData.get(userId, newRoomId, 'm.tag');
    const tags = oldTags?.['tags'];
    if (isJsonObject(tags) && Object.keys(tags).length > 0 && !isJsonObject(newTags?.['tags'])) {
      await accountData.set(userId, newRoomId, 'm.tag', { tags });
    }

    const direct = await accountData.get(userId, undefined, 'm.direct');
    if (direct !== undefined) {
      let changed = false;
      const updated: JsonObject = {};
      for (const [other, rooms] of Object.entries(direct)) {
        if (Array.isArray(rooms) && rooms.includes(oldRoomId) && !rooms.includes(newRoomId)) {
          updated[other] = [...rooms, newRoomId];
          changed = true;
        } else {
          updated[other] = rooms;
        }
      }
      if (changed) await accountData.set(userId, undefined, 'm.direct', updated);
    }

    await this.#copyPushRules(userId, oldRoomId, newRoomId);
  }

  async #copyPushRules(userId: string, oldRoomId: string, newRoomId: string): Promise<void> {
    const { pushRules } = this.#deps;
    const ruleset = await pushRules.ruleset(userId);
    const copies: Array<{ kind: string; rule: PushRule; ruleId: string }> = [];
    for (const kind of ['override', 'underride', 'room'] as const) {
      for (const rule of ruleset[kind]) {
        if (rule.default || !rule.rule_id.includes(oldRoomId)) continue;
        const ruleId = rule.rule_id.split(oldRoomId).join(newRoomId);
        if (ruleset[kind].some((r) => r.rule_id === ruleId)) continue;
        copies.push({ kind, rule, ruleId });
      }
    }
    for (const { kind, rule, ruleId } of copies) {
      // `room_id` conditions on the old room now name the new one.
      const conditions = rule.conditions?.map((c) => {
        const condition = { ...(c as unknown as JsonObject) };
        if (condition['pattern'] === oldRoomId) condition['pattern'] = newRoomId;
        return condition;
      });
      await pushRules.putRule(userId, kind, ruleId, {
        actions: rule.actions as JsonValue,
        conditions,
        pattern: rule.pattern,
        before: undefined,
        after: undefined,
      });
      if (!rule.enabled) await pushRules.setEnabled(userId, kind, ruleId, false);
    }
  }
}
