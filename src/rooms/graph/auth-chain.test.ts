// Auth chains (content/rooms/fragments/v2-state-res.md "Auth chain").

import { deepStrictEqual } from 'node:assert/strict';
import { describe, it } from 'node:test';
import { authChainOf, fullAuthChain } from './auth-chain.ts';

const AUTH = new Map<string, string[]>([
  ['create', []],
  ['member', ['create']],
  ['pl', ['create', 'member']],
  ['topic', ['create', 'pl', 'member']],
  ['loop1', ['loop2']],
  ['loop2', ['loop1', 'unknown']],
]);
const authEventsOf = (id: string): readonly string[] | undefined => AUTH.get(id);

describe('auth chain', () => {
  it('is everything reachable by auth_events, without the starting event', () => {
    deepStrictEqual(authChainOf(['topic'], authEventsOf), new Set(['create', 'pl', 'member']));
    deepStrictEqual(authChainOf(['create'], authEventsOf), new Set());
  });

  it('the full auth chain of a state set includes its own events', () => {
    deepStrictEqual(fullAuthChain(['pl', 'topic'], authEventsOf), new Set(['create', 'pl', 'member', 'topic']));
  });

  it('terminates on cycles and keeps unknown IDs it was pointed at', () => {
    deepStrictEqual(fullAuthChain(['loop1'], authEventsOf), new Set(['loop1', 'loop2', 'unknown']));
  });
});
