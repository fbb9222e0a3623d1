import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mergeRequiredState, parseRequiredState, sameRequiredState, wantsState } from './required-state.ts';

const ME = '@me:example.org';

test('MSC4186 required_state: exact pairs, [type, *], [*, key], [*, *]', () => {
  const exact = parseRequiredState([['m.room.name', ''], ['m.room.member', '@a:x']], ME);
  assert.equal(wantsState(exact, 'm.room.name', ''), true);
  assert.equal(wantsState(exact, 'm.room.topic', ''), false);
  assert.equal(wantsState(exact, 'm.room.member', '@a:x'), true);
  assert.equal(wantsState(exact, 'm.room.member', '@b:x'), false);
  const byType = parseRequiredState([['m.room.member', '*']], ME);
  assert.equal(wantsState(byType, 'm.room.member', '@b:x'), true);
  assert.equal(wantsState(byType, 'm.room.name', ''), false);
  const anyType = parseRequiredState([['*', '']], ME);
  assert.equal(wantsState(anyType, 'm.room.topic', ''), true);
  assert.equal(wantsState(anyType, 'm.room.member', '@b:x'), false);
  const all = parseRequiredState([['*', '*']], ME);
  assert.equal(wantsState(all, 'anything', 'at all'), true);
});

test('MSC4186 required_state: $ME is the requesting user, $LAZY sets lazy members without matching a key', () => {
  const config = parseRequiredState([['m.room.member', '$ME'], ['m.room.member', '$LAZY']], ME);
  assert.equal(wantsState(config, 'm.room.member', ME), true);
  assert.equal(wantsState(config, 'm.room.member', '$LAZY'), false);
  assert.equal(config.lazyMembers, true);
});

test('MSC4186 required_state: merging is a union; comparison is by value', () => {
  const a = parseRequiredState([['m.room.name', '']], ME);
  const b = parseRequiredState([['m.room.topic', ''], ['m.room.member', '$LAZY']], ME);
  const merged = mergeRequiredState(a, b);
  assert.equal(wantsState(merged, 'm.room.name', ''), true);
  assert.equal(wantsState(merged, 'm.room.topic', ''), true);
  assert.equal(merged.lazyMembers, true);
  assert.equal(sameRequiredState(a, parseRequiredState([['m.room.name', '']], ME)), true);
  assert.equal(sameRequiredState(a, merged), false);
  assert.equal(sameRequiredState(parseRequiredState([['m.room.member', '*']], ME), parseRequiredState([['m.room.member', 'x']], ME)), false);
});
