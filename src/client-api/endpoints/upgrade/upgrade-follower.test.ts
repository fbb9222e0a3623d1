import assert from 'node:assert/strict';
import { test } from 'node:test';
import { silentLogger } from '../../../http/testing.ts';
import type { JsonObject } from '../../../rooms/json.ts';
import type { PushRule, PushRuleset } from '../../../rooms/push/index.ts';
import type { RoomEvent } from '../../../roomserver/index.ts';
import { UpgradeFollower } from './upgrade-follower.ts';

const BOB = '@bob:stoa.test';
const OLD = '!old:stoa.test';
const NEW = '!new:stoa.test';

test('client-server § Room Upgrades: a joiner\'s tags, m.direct and per-room push rules follow them to the new room', async () => {
  const accountData = new Map<string, JsonObject>([
    [`${OLD}|m.tag`, { tags: { 'm.lowpriority': {} } }],
    ['|m.direct', { '@carol:x': [OLD, '!other:x'] }],
  ]);
  const rule = (ruleId: string, extra: Partial<PushRule> = {}): PushRule => ({ rule_id: ruleId, default: false, enabled: true, actions: [], ...extra });
  const ruleset: PushRuleset = {
    override: [rule(OLD, { enabled: false, conditions: [{ kind: 'event_match', key: 'room_id', pattern: OLD }] })],
    content: [],
    room: [],
    sender: [],
    underride: [rule('.m.rule.message', { default: true })],
  };
  const put: Array<[string, string, unknown]> = [];
  const disabled: string[] = [];
  const follower = new UpgradeFollower({
    roomserver: {
      onNewEvent: () => () => {},
      stateEvent: async (roomId) => (roomId === NEW ? ({ json: { content: { predecessor: { room_id: OLD } } } } as unknown as RoomEvent) : undefined),
      membership: async (roomId) => (roomId === OLD ? 'leave' : undefined),
    },
    serverName: 'stoa.test',
    accountData: {
      get: async (_user, roomId, type) => accountData.get(`${roomId ?? ''}|${type}`),
      set: async (_user, roomId, type, content) => {
        accountData.set(`${roomId ?? ''}|${type}`, content);
        return 1;
      },
    },
    pushRules: {
      ruleset: async () => ruleset,
      putRule: async (_user, kind, ruleId, request) => {
        put.push([kind, ruleId, request.conditions]);
      },
      setEnabled: async (_user, _kind, ruleId) => {
        disabled.push(ruleId);
      },
    },
    logger: silentLogger(),
  });
  await follower.follow(NEW, BOB);
  assert.deepEqual(accountData.get(`${NEW}|m.tag`), { tags: { 'm.lowpriority': {} } });
  assert.deepEqual(accountData.get('|m.direct'), { '@carol:x': [OLD, '!other:x', NEW] });
  assert.deepEqual(put, [['override', NEW, [{ kind: 'event_match', key: 'room_id', pattern: NEW }]]]);
  assert.deepEqual(disabled, [NEW]);
});
