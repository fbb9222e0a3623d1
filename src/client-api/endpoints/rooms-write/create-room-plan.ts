// What POST /createRoom sends, worked out from the request before anything is written
// (create_room.yaml `createRoom`). Pure: the endpoint checks the alias, runs the plan through
// the roomserver (one transaction, so an event the auth rules refuse leaves no room behind)
// and sends the invites the local DAG cannot carry (users of other servers).
//
// The order is the spec's:
//   1. m.room.create  2. the creator's join  3. m.room.power_levels (+ override)
//   4. m.room.canonical_alias  5. the preset's join_rules, history_visibility, guest_access
//   6. initial_state  7. name, topic  8. invites

import { badJson, invalidParam, unsupportedRoomVersion } from '../../../http/matrix-error.ts';
import { isValidRoomAlias, parseUserId } from '../../../rooms/identifiers.ts';
import type { JsonObject } from '../../../rooms/json.ts';
import { MAX_STATE_KEY_BYTES, MAX_TYPE_BYTES } from '../../../rooms/pdu/limits.ts';
import { DEFAULT_ROOM_VERSION, roomVersionRules, type RoomVersionRules } from '../../../rooms/room-versions.ts';
import type { StateEventInput } from '../../../roomserver/index.ts';

export type Preset = 'private_chat' | 'trusted_private_chat' | 'public_chat';

/** The request body as the endpoint's schema guarantees it. */
export interface CreateRoomRequest {
  readonly visibility?: 'public' | 'private';
  readonly room_alias_name?: string;
  readonly name?: string;
  readonly topic?: string;
  readonly invite?: readonly string[];
  readonly invite_3pid?: readonly JsonObject[];
  readonly room_version?: string;
  readonly creation_content?: JsonObject;
  readonly initial_state?: ReadonlyArray<{ readonly type: string; readonly state_key?: string; readonly content: JsonObject }>;
  readonly preset?: Preset;
  readonly is_direct?: boolean;
  readonly power_level_content_override?: JsonObject;
}

export interface CreateRoomPlan {
  readonly roomVersion: string;
  readonly createContent: JsonObject;
  /** Steps 3–8 for local users, in order, all sent by the creator. */
  readonly initialState: StateEventInput[];
  /** Invitees on other servers: invited over federation once the room exists. */
  readonly remoteInvites: string[];
  /** Content of every invite event (step 8). */
  readonly inviteContent: JsonObject;
  /** The full alias from `room_alias_name`. */
  readonly alias: string | undefined;
  /** `visibility: public`: list the room in the published room directory. */
  readonly publish: boolean;
}

export interface PlanContext {
  readonly creator: string;
  readonly serverName: string;
}

/** The preset table of create_room.yaml. */
const PRESETS: Readonly<Record<Preset, { joinRule: string; historyVisibility: string; guestAccess: string }>> = {
  private_chat: { joinRule: 'invite', historyVisibility: 'shared', guestAccess: 'can_join' },
  trusted_private_chat: { joinRule: 'invite', historyVisibility: 'shared', guestAccess: 'can_join' },
  public_chat: { joinRule: 'public', historyVisibility: 'shared', guestAccess: 'forbidden' },
};

/** Throws MatrixErrors (400) for requests that cannot make a room. */
export function planCreateRoom(request: CreateRoomRequest, context: PlanContext): CreateRoomPlan {
  const roomVersion = request.room_version ?? DEFAULT_ROOM_VERSION;
  const rules = roomVersionRules(roomVersion);
  if (rules === undefined) throw unsupportedRoomVersion(roomVersion);

  // "If unspecified, the server should use the visibility to determine which preset to use."
  const preset: Preset = request.preset ?? (request.visibility === 'public' ? 'public_chat' : 'private_chat');
  const invitees = inviteesOf(request, context);
  if ((request.invite_3pid ?? []).length > 0) {
    throw invalidParam('invite_3pid is not supported: this server has no identity server');
  }
  const trusted = preset === 'trusted_private_chat';

  const createContent = createContentOf(request, rules, trusted ? invitees : []);
  const alias = aliasOf(request, context);

  const initialStateByKey = new Map<string, { type: string; stateKey: string; content: JsonObject }>();
  for (const [index, entry] of (request.initial_state ?? []).entries()) {
    const stateKey = entry.state_key ?? '';
    checkTypeAndKey(entry.type, stateKey, `initial_state[${index}]`);
    if (entry.type === 'm.room.create') throw badJson(`initial_state[${index}]: m.room.create is made by the server`);
    // A later entry for the same (type, state_key) replaces an earlier one, as one state would.
    initialStateByKey.delete(keyOf(entry.type, stateKey));
    initialStateByKey.set(keyOf(entry.type, stateKey), { type: entry.type, stateKey, content: entry.content });
  }
  // "name"/"topic" overwrite their initial_state events; a power-levels event in initial_state
  // becomes the base that power_level_content_override is applied to, in step 3.
  if (request.name !== undefined) initialStateByKey.delete(keyOf('m.room.name', ''));
  if (request.topic !== undefined) initialStateByKey.delete(keyOf('m.room.topic', ''));
  const initialPowerLevels = initialStateByKey.get(keyOf('m.room.power_levels', ''));
  initialStateByKey.delete(keyOf('m.room.power_levels', ''));

  const state: StateEventInput[] = [];
  const basePowerLevels = initialPowerLevels?.content ?? defaultPowerLevels(rules, context.creator, preset, invitees);
  state.push({
    type: 'm.room.power_levels',
    stateKey: '',
    content: { ...basePowerLevels, ...(request.power_level_content_override ?? {}) },
  });
  if (alias !== undefined) state.push({ type: 'm.room.canonical_alias', stateKey: '', content: { alias } });

  // "initial_state … takes precedence over events set by preset."
  const presetState = PRESETS[preset];
  const presetEvents: StateEventInput[] = [
    { type: 'm.room.join_rules', stateKey: '', content: { join_rule: presetState.joinRule } },
    { type: 'm.room.history_visibility', stateKey: '', content: { history_visibility: presetState.historyVisibility } },
    { type: 'm.room.guest_access', stateKey: '', content: { guest_access: presetState.guestAccess } },
  ];
  for (const event of presetEvents) {
    if (!initialStateByKey.has(keyOf(event.type, event.stateKey))) state.push(event);
  }
  for (const entry of initialStateByKey.values()) state.push(entry);
  if (request.name !== undefined) state.push({ type: 'm.room.name', stateKey: '', content: { name: request.name } });
  if (request.topic !== undefined) {
    state.push({
      type: 'm.room.topic',
      stateKey: '',
      content: { topic: request.topic, 'm.topic': { 'm.text': [{ body: request.topic, mimetype: 'text/plain' }] } },
    });
  }

  const inviteContent: JsonObject = { membership: 'invite', ...(request.is_direct === true ? { is_direct: true } : {}) };
  const remoteInvites: string[] = [];
  for (const invitee of invitees) {
    if (parseUserId(invitee, { historical: true })?.serverName === context.serverName) {
      state.push({ type: 'm.room.member', stateKey: invitee, content: inviteContent });
    } else {
      remoteInvites.push(invitee);
    }
  }

  return { roomVersion: rules.id, createContent, initialState: state, remoteInvites, inviteContent, alias, publish: request.visibility === 'public' };
}

function keyOf(type: string, stateKey: string): string {
  return `${type}\u0000${stateKey}`;
}

function utf8Length(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** "Size limits": `type` and `state_key` are at most 255 bytes. */
export function checkTypeAndKey(type: string, stateKey: string | undefined, where: string): void {
  if (type === '' || utf8Length(type) > MAX_TYPE_BYTES) throw invalidParam(`${where}: event type must be 1–${MAX_TYPE_BYTES} bytes`);
  if (stateKey !== undefined && utf8Length(stateKey) > MAX_STATE_KEY_BYTES) {
    throw invalidParam(`${where}: state key must be at most ${MAX_STATE_KEY_BYTES} bytes`);
  }
}

/** The invitees, checked and de-duplicated; the creator is already in the room. */
function inviteesOf(request: CreateRoomRequest, context: PlanContext): string[] {
  const invitees = new Set<string>();
  for (const userId of request.invite ?? []) {
    if (parseUserId(userId, { historical: true }) === undefined) throw invalidParam(`Invalid user ID in invite: ${JSON.stringify(userId)}`);
    if (userId !== context.creator) invitees.add(userId);
  }
  return [...invitees];
}

/**
 * `creation_content` with `room_version` set and `creator` overwritten (v1–v10: the caller;
 * v11+: the event's sender is the creator, so the key is dropped). trusted_private_chat in
 * v12: the invitees join `additional_creators`, de-duplicated.
 */
function createContentOf(request: CreateRoomRequest, rules: RoomVersionRules, trustedInvitees: readonly string[]): JsonObject {
  const content: JsonObject = { ...(request.creation_content ?? {}) };
  delete content['creator'];
  delete content['room_version'];
  if (rules.auth.additionalCreators) {
    const given = content['additional_creators'];
    if (given !== undefined && (!Array.isArray(given) || given.some((u) => typeof u !== 'string' || parseUserId(u, { historical: true }) === undefined))) {
      throw badJson('creation_content.additional_creators must be a list of user IDs');
    }
    const creators = new Set<string>([...((given as string[] | undefined) ?? []), ...trustedInvitees]);
    if (creators.size > 0) content['additional_creators'] = [...creators];
  }
  const type = content['type'];
  if (type !== undefined && typeof type !== 'string') throw badJson('creation_content.type must be a string');
  return content;
}

function aliasOf(request: CreateRoomRequest, context: PlanContext): string | undefined {
  const localpart = request.room_alias_name;
  if (localpart === undefined) return undefined;
  // Synapse refuses whitespace and ':' in the local part; the grammar forbids ':' and NUL.
  if (/[\s:]/.test(localpart)) throw invalidParam('room_alias_name may not contain whitespace or ":"');
  const alias = `#${localpart}:${context.serverName}`;
  if (!isValidRoomAlias(alias)) throw invalidParam(`Invalid room alias: ${JSON.stringify(alias)}`);
  return alias;
}

/**
 * The default power levels (Synapse's, which clients expect). v1–v11: the creator (and, for
 * trusted_private_chat, every invitee) at 100. v12: creators hold infinite power and are not
 * listed, and tombstones "MUST explicitly be higher than state_default", above 100.
 */
function defaultPowerLevels(rules: RoomVersionRules, creator: string, preset: Preset, invitees: readonly string[]): JsonObject {
  const users: JsonObject = {};
  if (!rules.auth.privilegeCreators) {
    users[creator] = 100;
    if (preset === 'trusted_private_chat') for (const invitee of invitees) users[invitee] = 100;
  }
  return {
    users,
    users_default: 0,
    events: {
      'm.room.name': 50,
      'm.room.power_levels': 100,
      'm.room.history_visibility': 100,
      'm.room.canonical_alias': 50,
      'm.room.avatar': 50,
      'm.room.tombstone': rules.auth.privilegeCreators ? 150 : 100,
      'm.room.server_acl': 100,
      'm.room.encryption': 100,
    },
    events_default: 0,
    state_default: 50,
    ban: 50,
    kick: 50,
    redact: 50,
    // Private rooms let any member invite (Synapse's preset); public rooms need moderators.
    invite: preset === 'public_chat' ? 50 : 0,
  };
}
