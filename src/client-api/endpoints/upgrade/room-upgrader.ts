// Upgrading a room (client-server § "Room Upgrades", "Server behaviour"), in the spec's order:
//   1. the upgrader must be joined and able to send m.room.tombstone in the old room;
//   2+3. the new room, with `predecessor` and the transferable state (./upgrade-plan.ts),
//      made by the roomserver in one transaction (as createRoom does), so a refusal leaves
//      no half-made room;
//   4. local aliases moved to the new room, and its directory listing with them;
//   5. the tombstone in the old room;
//   6. the old room's power levels restricted, when the upgrader may change them.
// Upgrades of one room run one at a time (in this process), so two concurrent requests
// cannot make two replacement rooms: the second finds the tombstone. After step 2 the
// upgrade cannot be undone, so failures of the later, optional steps
// (4's listing, 6) are logged rather than turned into an error for a room that now exists.

import { forbidden, unsupportedRoomVersion } from '../../../http/matrix-error.ts';
import type { Logger } from '../../../logger.ts';
import { getField, isJsonObject, type JsonObject } from '../../../rooms/json.ts';
import { roomVersionRules } from '../../../rooms/room-versions.ts';
import { EventNotAllowedError, type Roomserver } from '../../../roomserver/index.ts';
import { invalidRoomState, toMatrixError, withRoomErrors } from '../../rooms/errors.ts';
import { currentPowerLevels, maySendState } from '../../rooms/power.ts';
import type { AliasDirectory } from '../aliases/alias-directory.ts';
import type { MemberProfiles } from '../rooms-write/deps.ts';
import { planUpgrade, restrictedOldPowerLevels, TRANSFERRED_STATE_TYPES, type OldRoomState } from './upgrade-plan.ts';

/** The published room directory, as far as an upgrade moves a listing. */
export interface RoomListing {
  isPublic(roomId: string): Promise<boolean>;
  setPublic(roomId: string, isPublic: boolean): Promise<void>;
}

export interface RoomUpgraderDeps {
  readonly roomserver: Roomserver;
  readonly aliases: AliasDirectory;
  readonly listing: RoomListing;
  readonly profiles: MemberProfiles | undefined;
  readonly logger: Logger;
}

export interface UpgradeInput {
  readonly roomId: string;
  readonly upgrader: string;
  readonly newVersion: string;
  readonly additionalCreators?: readonly string[];
}

export class RoomUpgrader {
  readonly #deps: RoomUpgraderDeps;
  /** Upgrades under way per old room: a second one waits, then finds the tombstone (403). */
  readonly #inProgress = new Map<string, Promise<unknown>>();

  constructor(deps: RoomUpgraderDeps) {
    this.#deps = deps;
  }

  /** The new room's ID. Throws MatrixErrors: 400 M_UNSUPPORTED_ROOM_VERSION, 403, 404. */
  async upgrade(input: UpgradeInput): Promise<string> {
    const previous = this.#inProgress.get(input.roomId) ?? Promise.resolve();
    const run = previous.catch(() => undefined).then(() => this.#upgrade(input));
    this.#inProgress.set(input.roomId, run);
    try {
      return await run;
    } finally {
      if (this.#inProgress.get(input.roomId) === run) this.#inProgress.delete(input.roomId);
    }
  }

  async #upgrade(input: UpgradeInput): Promise<string> {
    const { roomserver } = this.#deps;
    const newRules = roomVersionRules(input.newVersion);
    if (newRules === undefined) throw unsupportedRoomVersion(input.newVersion);
    const oldVersion = await roomserver.roomVersion(input.roomId);
    const oldRules = oldVersion === undefined ? undefined : roomVersionRules(oldVersion);
    // An unknown room and a room the user is not in look the same.
    if (oldRules === undefined || (await roomserver.membership(input.roomId, input.upgrader)) !== 'join') {
      throw forbidden('You are not in this room');
    }
    const levels = await currentPowerLevels(roomserver, input.roomId);
    if (levels === undefined || !maySendState(levels, input.upgrader, 'm.room.tombstone')) {
      throw forbidden('You are not allowed to upgrade this room');
    }
    if ((await roomserver.stateEvent(input.roomId, 'm.room.tombstone', '')) !== undefined) {
      throw forbidden('This room has already been upgraded');
    }

    const old = await this.#readOldRoom(input.roomId, oldRules);
    const plan = planUpgrade(old, {
      oldRoomId: input.roomId,
      upgrader: input.upgrader,
      newRules,
      additionalCreators: input.additionalCreators,
    });
    const profile = this.#deps.profiles === undefined ? {} : await this.#deps.profiles.get(input.upgrader);
    let newRoomId: string;
    try {
      ({ roomId: newRoomId } = await roomserver.createRoom({
        creator: input.upgrader,
        roomVersion: newRules.id,
        createContent: plan.createContent,
        creatorMemberContent: { ...profile },
        initialState: plan.initialState,
      }));
    } catch (error) {
      throw error instanceof EventNotAllowedError ? invalidRoomState(`The room's state cannot be copied: ${error.message}`) : toMatrixError(error);
    }
    const log = this.#deps.logger.child({ old_room_id: input.roomId, new_room_id: newRoomId });

    await this.#moveAliases(input.roomId, newRoomId);
    try {
      if (await this.#deps.listing.isPublic(input.roomId)) {
        await this.#deps.listing.setPublic(newRoomId, true);
        await this.#deps.listing.setPublic(input.roomId, false);
      }
    } catch (err) {
      log.warn({ err }, 'could not move the room directory listing to the upgraded room');
    }

    await withRoomErrors(() =>
      roomserver.sendEvent({
        roomId: input.roomId,
        sender: input.upgrader,
        type: 'm.room.tombstone',
        stateKey: '',
        content: { body: 'This room has been replaced', replacement_room: newRoomId },
      }),
    );

    const restricted = restrictedOldPowerLevels(old.powerLevels);
    if (restricted !== undefined) {
      try {
        await roomserver.sendEvent({ roomId: input.roomId, sender: input.upgrader, type: 'm.room.power_levels', stateKey: '', content: restricted });
      } catch (err) {
        // "If possible": an upgrader allowed to tombstone but not to change power levels.
        log.info({ err }, 'could not restrict the power levels of the upgraded room');
      }
    }
    log.info({ upgrader: input.upgrader, room_version: newRules.id }, 'room upgraded');
    return newRoomId;
  }

  async #readOldRoom(roomId: string, rules: OldRoomState['rules']): Promise<OldRoomState> {
    const { roomserver } = this.#deps;
    const contentOf = async (type: string, stateKey = ''): Promise<JsonObject | undefined> => {
      const event = await roomserver.stateEvent(roomId, type, stateKey);
      const content = event === undefined ? undefined : getField(event.json, 'content');
      return isJsonObject(content) ? content : undefined;
    };
    const transferred = new Map<string, JsonObject>();
    for (const type of TRANSFERRED_STATE_TYPES) {
      const content = await contentOf(type);
      if (content !== undefined) transferred.set(type, content);
    }
    const spaceChildren: Array<readonly [string, JsonObject]> = [];
    for (const entry of await roomserver.currentStateOfType(roomId, 'm.space.child')) {
      const content = await contentOf('m.space.child', entry.stateKey);
      // An empty child event is a removed child: nothing to carry over.
      if (content !== undefined && Object.keys(content).length > 0) spaceChildren.push([entry.stateKey, content]);
    }
    const extremities = await roomserver.forwardExtremities(roomId);
    return {
      rules,
      createContent: (await contentOf('m.room.create')) ?? {},
      lastEventId: extremities[0],
      powerLevels: await contentOf('m.room.power_levels'),
      transferred,
      spaceChildren,
      bannedUsers: await roomserver.members(roomId, 'ban'),
    };
  }

  /** Step 4: every local alias of the old room now names the new one, keeping its creator. */
  async #moveAliases(oldRoomId: string, newRoomId: string): Promise<void> {
    const { aliases } = this.#deps;
    for (const alias of await aliases.localAliases(oldRoomId)) {
      const stored = await aliases.find(alias);
      if (stored === undefined || stored.roomId !== oldRoomId) continue;
      await aliases.delete(alias);
      await aliases.create(alias, newRoomId, stored.creator);
    }
  }
}
