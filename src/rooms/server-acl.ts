// Server ACLs (`m.room.server_acl`, client-server § "Server Access Control Lists (ACLs) for
// rooms"; server-server § "Server ACLs"): which servers may take part in a room, decided on
// the server name without its port. Also the glob matching the spec's appendix defines
// (§ "Glob-style matching": `*` any run of characters, `?` exactly one), shared with the
// operator's `federation.allow`/`deny` lists.

import { getField, isJsonObject, type JsonValue } from './json.ts';
import { parseServerName } from './identifiers.ts';

/** A compiled glob: case-insensitive, anchored at both ends. */
export interface Glob {
  readonly pattern: string;
  matches(text: string): boolean;
}

export function compileGlob(pattern: string): Glob {
  let source = '';
  for (const char of pattern) {
    if (char === '*') source += '.*';
    else if (char === '?') source += '.';
    else source += char.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
  }
  // `s`: a `?` or `*` also matches a newline; `u`: `?` is one code point, not one UTF-16 unit.
  const regex = new RegExp(`^${source}$`, 'isu');
  return { pattern, matches: (text) => regex.test(text) };
}

export interface ServerAcl {
  readonly allowIpLiterals: boolean;
  readonly allow: readonly Glob[];
  readonly deny: readonly Glob[];
}

/**
 * The ACL an `m.room.server_acl` content describes, read leniently as the event schema
 * says: `allow_ip_literals` is true unless it is the boolean false; `allow` and `deny`
 * default to empty, and entries that are not strings are ignored.
 */
export function parseServerAcl(content: JsonValue | undefined): ServerAcl {
  const object = isJsonObject(content) ? content : {};
  const globs = (value: JsonValue | undefined): Glob[] =>
    Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string').map(compileGlob) : [];
  return {
    allowIpLiterals: getField(object, 'allow_ip_literals') !== false,
    allow: globs(getField(object, 'allow')),
    deny: globs(getField(object, 'deny')),
  };
}

/**
 * The host part of a server name: the port removed, IPv6 literals kept in brackets as
 * written. A name that does not parse is returned as it is (and will only match globs
 * written for it).
 */
export function serverHost(serverName: string): { host: string; isIpLiteral: boolean } {
  const parsed = parseServerName(serverName);
  if (parsed === undefined) return { host: serverName, isIpLiteral: false };
  return { host: parsed.host, isIpLiteral: parsed.kind !== 'dns' };
}

export type AclDecision = 'allow' | 'deny-ip-literal' | 'deny-listed' | 'deny-not-allowed';

/**
 * The m.room.server_acl rules in the event schema's order. `acl` undefined: the room has no
 * ACL (rule 1, allow).
 */
export function evaluateServerAcl(acl: ServerAcl | undefined, serverName: string): AclDecision {
  if (acl === undefined) return 'allow';
  const { host, isIpLiteral } = serverHost(serverName);
  if (isIpLiteral && !acl.allowIpLiterals) return 'deny-ip-literal';
  if (acl.deny.some((glob) => glob.matches(host))) return 'deny-listed';
  if (acl.allow.some((glob) => glob.matches(host))) return 'allow';
  return 'deny-not-allowed';
}

export function isServerAllowedByAcl(acl: ServerAcl | undefined, serverName: string): boolean {
  return evaluateServerAcl(acl, serverName) === 'allow';
}
