// The server-default push rules (client-server § "Push Notifications" › "Predefined Rules"),
// in the spec's order and with its exact content. v1.17 removed the legacy body-matching
// defaults (`.m.rule.contains_display_name`, `.m.rule.roomnotif`, `.m.rule.contains_user_name`),
// so there are no default content rules.

import type { PushRule, PushRuleset } from './types.ts';

const SOUND_DEFAULT = { set_tweak: 'sound', value: 'default' };
const HIGHLIGHT = { set_tweak: 'highlight' };

function rule(ruleId: string, conditions: PushRule['conditions'], actions: PushRule['actions'], enabled = true): PushRule {
  return { rule_id: ruleId, default: true, enabled, conditions: conditions ?? [], actions };
}

/** `.m.rule.master`: always first, ahead of user-defined override rules. */
export const MASTER_RULE_ID = '.m.rule.master';

export function defaultPushRules(userId: string): PushRuleset {
  return {
    override: [
      rule(MASTER_RULE_ID, [], [], false),
      rule('.m.rule.suppress_notices', [{ kind: 'event_match', key: 'content.msgtype', pattern: 'm.notice' }], []),
      rule(
        '.m.rule.invite_for_me',
        [
          { key: 'type', kind: 'event_match', pattern: 'm.room.member' },
          { key: 'content.membership', kind: 'event_match', pattern: 'invite' },
          { key: 'state_key', kind: 'event_match', pattern: userId },
        ],
        ['notify', SOUND_DEFAULT],
      ),
      rule('.m.rule.member_event', [{ key: 'type', kind: 'event_match', pattern: 'm.room.member' }], []),
      rule(
        '.m.rule.is_user_mention',
        [{ kind: 'event_property_contains', key: 'content.m\\.mentions.user_ids', value: userId }],
        ['notify', SOUND_DEFAULT, HIGHLIGHT],
      ),
      rule(
        '.m.rule.is_room_mention',
        [
          { kind: 'event_property_is', key: 'content.m\\.mentions.room', value: true },
          { kind: 'sender_notification_permission', key: 'room' },
        ],
        ['notify', HIGHLIGHT],
      ),
      rule(
        '.m.rule.tombstone',
        [
          { kind: 'event_match', key: 'type', pattern: 'm.room.tombstone' },
          { kind: 'event_match', key: 'state_key', pattern: '' },
        ],
        ['notify', HIGHLIGHT],
      ),
      rule('.m.rule.reaction', [{ kind: 'event_match', key: 'type', pattern: 'm.reaction' }], []),
      rule(
        '.m.rule.room.server_acl',
        [
          { kind: 'event_match', key: 'type', pattern: 'm.room.server_acl' },
          { kind: 'event_match', key: 'state_key', pattern: '' },
        ],
        [],
      ),
      rule(
        '.m.rule.suppress_edits',
        [{ kind: 'event_property_is', key: 'content.m\\.relates_to.rel_type', value: 'm.replace' }],
        [],
      ),
    ],
    content: [],
    room: [],
    sender: [],
    underride: [
      rule('.m.rule.call', [{ key: 'type', kind: 'event_match', pattern: 'm.call.invite' }], [
        'notify',
        { set_tweak: 'sound', value: 'ring' },
      ]),
      rule(
        '.m.rule.encrypted_room_one_to_one',
        [
          { kind: 'room_member_count', is: '2' },
          { kind: 'event_match', key: 'type', pattern: 'm.room.encrypted' },
        ],
        ['notify', SOUND_DEFAULT],
      ),
      rule(
        '.m.rule.room_one_to_one',
        [
          { kind: 'room_member_count', is: '2' },
          { kind: 'event_match', key: 'type', pattern: 'm.room.message' },
        ],
        ['notify', SOUND_DEFAULT],
      ),
      rule('.m.rule.message', [{ kind: 'event_match', key: 'type', pattern: 'm.room.message' }], ['notify']),
      rule('.m.rule.encrypted', [{ kind: 'event_match', key: 'type', pattern: 'm.room.encrypted' }], ['notify']),
    ],
  };
}
