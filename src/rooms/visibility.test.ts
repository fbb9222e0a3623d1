// client-server § "Room History Visibility" → "Server behaviour": every setting against
// every membership, and the before/after rule for history-visibility and own member events.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  allowedAt,
  historyVisibilityOf,
  isEventVisible,
  type HistoryVisibility,
  type VisibilityPoint,
} from './visibility.ts';

const SETTINGS: readonly HistoryVisibility[] = ['world_readable', 'shared', 'invited', 'joined'];
const MEMBERSHIPS: ReadonlyArray<string | undefined> = [undefined, 'join', 'invite', 'leave', 'ban', 'knock'];

/** The spec's table, written out independently of the implementation's rule order. */
function expected(setting: HistoryVisibility, membership: string | undefined, joinedAfter: boolean): boolean {
  switch (setting) {
    case 'world_readable':
      return true;
    case 'shared':
      return membership === 'join' || joinedAfter;
    case 'invited':
      return membership === 'join' || membership === 'invite';
    case 'joined':
      return membership === 'join';
  }
}

test('history visibility § server behaviour: every setting × membership × joined-later', () => {
  for (const setting of SETTINGS) {
    for (const membership of MEMBERSHIPS) {
      for (const joinedAfter of [false, true]) {
        const point: VisibilityPoint = { historyVisibility: setting, membership };
        assert.equal(
          isEventVisible({ before: point, after: point, joinedAfterEvent: joinedAfter }),
          expected(setting, membership, joinedAfter),
          `${setting} / ${String(membership)} / joinedAfter=${joinedAfter}`,
        );
      }
    }
  }
});

test('history visibility § server behaviour: missing or unknown setting is shared', () => {
  assert.equal(historyVisibilityOf(undefined), 'shared');
  assert.equal(historyVisibilityOf({}), 'shared');
  assert.equal(historyVisibilityOf({ history_visibility: 'everyone' }), 'shared');
  assert.equal(historyVisibilityOf({ history_visibility: 7 }), 'shared');
  assert.equal(historyVisibilityOf('joined'), 'shared');
  assert.equal(historyVisibilityOf({ history_visibility: 'joined' }), 'joined');
  assert.equal(historyVisibilityOf({ history_visibility: 'world_readable' }), 'world_readable');
  // An inherited key is not the content's own.
  assert.equal(historyVisibilityOf(Object.create({ history_visibility: 'joined' }) as never), 'shared');
});

test('history visibility § server behaviour: a history_visibility event is visible if before OR after allows', () => {
  const outsider = undefined;
  // world_readable → joined, seen by someone who never joined.
  assert.equal(
    isEventVisible({
      before: { historyVisibility: 'world_readable', membership: outsider },
      after: { historyVisibility: 'joined', membership: outsider },
      joinedAfterEvent: false,
    }),
    true,
  );
  // joined → world_readable.
  assert.equal(
    isEventVisible({
      before: { historyVisibility: 'joined', membership: outsider },
      after: { historyVisibility: 'world_readable', membership: outsider },
      joinedAfterEvent: false,
    }),
    true,
  );
  // joined → invited, seen by an outsider: neither side allows.
  assert.equal(
    isEventVisible({
      before: { historyVisibility: 'joined', membership: outsider },
      after: { historyVisibility: 'invited', membership: outsider },
      joinedAfterEvent: false,
    }),
    false,
  );
  // joined → shared, by someone who joins later: the after side (shared + joined later) allows.
  assert.equal(
    isEventVisible({
      before: { historyVisibility: 'joined', membership: outsider },
      after: { historyVisibility: 'shared', membership: outsider },
      joinedAfterEvent: true,
    }),
    true,
  );
});

test('history visibility § server behaviour: the user\'s own member event is visible if before OR after allows', () => {
  // Their join, under `joined`: after = join.
  assert.equal(
    isEventVisible({
      before: { historyVisibility: 'joined', membership: undefined },
      after: { historyVisibility: 'joined', membership: 'join' },
      joinedAfterEvent: true,
    }),
    true,
  );
  // Their leave, under `joined`: before = join.
  assert.equal(
    isEventVisible({
      before: { historyVisibility: 'joined', membership: 'join' },
      after: { historyVisibility: 'joined', membership: 'leave' },
      joinedAfterEvent: false,
    }),
    true,
  );
  // Their invite, under `invited`: after = invite.
  assert.equal(
    isEventVisible({
      before: { historyVisibility: 'invited', membership: undefined },
      after: { historyVisibility: 'invited', membership: 'invite' },
      joinedAfterEvent: false,
    }),
    true,
  );
  // Their invite, under `joined`: neither invite nor nothing allows.
  assert.equal(
    isEventVisible({
      before: { historyVisibility: 'joined', membership: undefined },
      after: { historyVisibility: 'joined', membership: 'invite' },
      joinedAfterEvent: false,
    }),
    false,
  );
  // A ban of someone who was only invited, under `invited`: before = invite.
  assert.equal(
    isEventVisible({
      before: { historyVisibility: 'invited', membership: 'invite' },
      after: { historyVisibility: 'invited', membership: 'ban' },
      joinedAfterEvent: false,
    }),
    true,
  );
});

test('history visibility § server behaviour: after leaving, events need the window the user had', () => {
  // Sent while the user had left and never rejoined: hidden under shared, invited and joined.
  for (const setting of ['shared', 'invited', 'joined'] as const) {
    assert.equal(allowedAt({ historyVisibility: setting, membership: 'leave' }, false), false, setting);
  }
  // ... but shared history sent while they were away is theirs again once they rejoin.
  assert.equal(allowedAt({ historyVisibility: 'shared', membership: 'leave' }, true), true);
  assert.equal(allowedAt({ historyVisibility: 'joined', membership: 'leave' }, true), false);
});
