// Identifier grammars (content/appendices.md "Identifier Grammar"): server names, user IDs,
// room IDs, event IDs, room aliases, opaque and namespaced identifiers.
//
// Two strictnesses for user IDs: IDs Stoa allocates follow the current grammar; IDs that
// arrive in events follow "Historical User IDs", which the spec requires servers to accept
// (any localpart without `:` or NUL, even empty). Every identifier is at most 255 bytes of
// UTF-8, and a string with a lone surrogate is never an identifier (it has no UTF-8 form).

import type { RoomVersionRules } from './room-versions.ts';

/** "User Identifiers", "Room IDs", "Room Aliases", "Event IDs": 255 bytes, sigil and domain included. */
export const MAX_IDENTIFIER_BYTES = 255;

/** Length of `text` in UTF-8 without allocating; a lone surrogate counts as U+FFFD would (3). */
export function utf8ByteLength(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else {
        bytes += 3;
      }
    } else bytes += 3;
  }
  return bytes;
}

function withinIdentifierLimit(id: string): boolean {
  // A UTF-8 byte is at least one UTF-16 unit's worth, so long strings fail before counting.
  return id.length <= MAX_IDENTIFIER_BYTES && utf8ByteLength(id) <= MAX_IDENTIFIER_BYTES;
}

// ---------------------------------------------------------------------------------------
// Server names: `hostname [":" port]`, hostname = IPv4address / "[" IPv6address "]" / dns-name

export type HostKind = 'ipv4' | 'ipv6' | 'dns';

export interface ServerName {
  /** The hostname as written; IPv6 literals keep their brackets. */
  readonly host: string;
  readonly kind: HostKind;
  /** The explicit port, or `undefined` when none was given. */
  readonly port: number | undefined;
}

const PORT = /^[0-9]{1,5}$/;
const DOTTED_QUAD = /^([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})$/;
const ALL_DIGIT_QUAD = /^[0-9]+(?:\.[0-9]+){3}$/;
// RFC 1123 host names as the spec recommends: labels of letters, digits and hyphens.
const DNS_NAME = /^[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*$/;
const IPV6_CHARS = /^[0-9A-Fa-f:.]{2,45}$/;
const HEX_GROUP = /^[0-9A-Fa-f]{1,4}$/;
const MAX_DNS_NAME_LENGTH = 255;

/** "IPv4 literals must be a sequence of four decimal numbers in the range 0 to 255". */
export function isValidIpv4(text: string): boolean {
  const match = DOTTED_QUAD.exec(text);
  if (match === null) return false;
  return match.slice(1).every((part) => Number(part) <= 255);
}

/** An IPv6 literal as RFC 3513 section 2.2 writes it (no zone index). */
export function isValidIpv6(text: string): boolean {
  if (!IPV6_CHARS.test(text)) return false;
  const halves = text.split('::');
  if (halves.length > 2) return false;
  if (halves.length === 1) return countIpv6Groups(text, true) === 8;
  const head = countIpv6Groups(halves[0] ?? '', false);
  const tail = countIpv6Groups(halves[1] ?? '', true);
  // `::` stands for at least one group of zeros.
  return head !== undefined && tail !== undefined && head + tail <= 7;
}

/** 16-bit groups in a `::`-free run, an IPv4 tail counting two; `undefined` when malformed. */
function countIpv6Groups(run: string, allowIpv4Tail: boolean): number | undefined {
  if (run === '') return 0;
  const groups = run.split(':');
  let count = 0;
  for (let i = 0; i < groups.length; i++) {
    const group = groups[i] ?? '';
    if (allowIpv4Tail && i === groups.length - 1 && group.includes('.')) {
      if (!isValidIpv4(group)) return undefined;
      count += 2;
    } else if (HEX_GROUP.test(group)) {
      count += 1;
    } else {
      return undefined;
    }
  }
  return count;
}

/** Parses a server name (appendices "Server Name"); `undefined` when it is not one. */
export function parseServerName(name: string): ServerName | undefined {
  let host: string;
  let kind: HostKind;
  let rest: string;
  if (name.startsWith('[')) {
    const close = name.indexOf(']');
    if (close < 0 || !isValidIpv6(name.slice(1, close))) return undefined;
    host = name.slice(0, close + 1);
    kind = 'ipv6';
    rest = name.slice(close + 1);
  } else {
    const colon = name.indexOf(':');
    host = colon < 0 ? name : name.slice(0, colon);
    rest = colon < 0 ? '' : name.slice(colon);
    if (ALL_DIGIT_QUAD.test(host)) {
      // A dotted quad is an IPv4 literal, never a DNS name (RFC 1123 2.1), so 1.2.3.256 is invalid.
      if (!isValidIpv4(host)) return undefined;
      kind = 'ipv4';
    } else if (host.length <= MAX_DNS_NAME_LENGTH && DNS_NAME.test(host)) {
      kind = 'dns';
    } else {
      return undefined;
    }
  }
  if (rest === '') return { host, kind, port: undefined };
  const digits = rest.slice(1);
  if (!rest.startsWith(':') || !PORT.test(digits)) return undefined;
  const port = Number(digits);
  if (port > 65535) return undefined;
  return { host, kind, port };
}

export function isValidServerName(name: string): boolean {
  return parseServerName(name) !== undefined;
}

// ---------------------------------------------------------------------------------------
// `&localpart:domain` identifiers

/** The part after the first colon: the server name of a user ID, v1–v11 room ID, alias or v1–v2 event ID. */
export function serverNameOf(id: string): string | undefined {
  const colon = id.indexOf(':');
  return colon < 0 ? undefined : id.slice(colon + 1);
}

export interface SplitIdentifier {
  readonly localpart: string;
  readonly serverName: string;
}

/**
 * Splits `&localpart:domain` at the first colon (a localpart never holds `:`), checking the
 * sigil, the server name, the byte limit and that the localpart holds no NUL.
 */
function splitNamespaced(id: string, sigil: string): SplitIdentifier | undefined {
  if (!id.startsWith(sigil) || !withinIdentifierLimit(id) || !id.isWellFormed()) return undefined;
  const colon = id.indexOf(':');
  if (colon < 0) return undefined;
  const localpart = id.slice(sigil.length, colon);
  const serverName = id.slice(colon + 1);
  if (localpart.includes('\u0000') || !isValidServerName(serverName)) return undefined;
  return { localpart, serverName };
}

// "User Identifiers": the grammar for user IDs Stoa allocates.
const USER_LOCALPART = /^[a-z0-9._=\-/+]+$/;

export interface UserIdOptions {
  /**
   * Accept "Historical User IDs": any localpart without `:` or NUL, empty included. Required
   * for `sender`s and state keys in events from peers; never for IDs Stoa allocates.
   */
  readonly historical: boolean;
}

export function parseUserId(id: string, options: UserIdOptions): SplitIdentifier | undefined {
  const split = splitNamespaced(id, '@');
  if (split === undefined) return undefined;
  if (!options.historical && !USER_LOCALPART.test(split.localpart)) return undefined;
  return split;
}

export function isValidUserId(id: string, options: UserIdOptions): boolean {
  return parseUserId(id, options) !== undefined;
}

/** "User Identifiers": a localpart valid for a user ID Stoa allocates. */
export function isValidUserLocalpart(localpart: string): boolean {
  return USER_LOCALPART.test(localpart);
}

/**
 * "Historical User IDs": localparts outside U+0021–U+007E, or empty, are non-compliant.
 * Events still carry them; servers should not forward them outside events.
 */
export function isCompliantUserId(id: string): boolean {
  const split = parseUserId(id, { historical: true });
  return split !== undefined && /^[\u0021-\u007e]+$/.test(split.localpart);
}

/** "Room Aliases": `#localpart:domain`, the localpart any code points but `:` and NUL. */
export function isValidRoomAlias(alias: string): boolean {
  const split = splitNamespaced(alias, '#');
  return split !== undefined && split.localpart.length > 0;
}

// ---------------------------------------------------------------------------------------
// Room IDs and event IDs, per room version

// 32 bytes of SHA-256 in unpadded base64 are 43 characters.
const URL_SAFE_HASH = /^[A-Za-z0-9_-]{43}$/;
const STANDARD_HASH = /^[A-Za-z0-9+/]{43}$/;

/**
 * "Room IDs": v1–v11 `!opaque:domain` (localpart any code points but `:` and NUL);
 * v12 `!` + the create event's reference hash in URL-safe unpadded base64.
 */
export function isValidRoomId(id: string, rules: RoomVersionRules): boolean {
  if (!rules.format.createHasRoomId) return id.startsWith('!') && URL_SAFE_HASH.test(id.slice(1));
  const split = splitNamespaced(id, '!');
  return split !== undefined && split.localpart.length > 0;
}

/**
 * "Event IDs" and the room versions' event ID fragments: v1–v2 `$opaque:domain`; v3 `$` +
 * unpadded base64 reference hash; v4+ the URL-safe alphabet.
 */
export function isValidEventId(id: string, rules: RoomVersionRules): boolean {
  switch (rules.format.eventIdFormat) {
    case 'v1': {
      const split = splitNamespaced(id, '$');
      return split !== undefined && split.localpart.length > 0;
    }
    case 'v3':
      return id.startsWith('$') && STANDARD_HASH.test(id.slice(1));
    case 'v4':
      return id.startsWith('$') && URL_SAFE_HASH.test(id.slice(1));
  }
}

// ---------------------------------------------------------------------------------------
// Opaque and namespaced identifiers

const OPAQUE_ID = /^[0-9A-Za-z._~-]+$/;

/** "Opaque Identifiers": RFC 3986 unreserved characters, 1–`maxLength` (255 unless specified). */
export function isValidOpaqueId(id: string, maxLength = 255): boolean {
  return id.length >= 1 && id.length <= maxLength && OPAQUE_ID.test(id);
}

const NAMESPACED_ID = /^[a-z][a-z0-9._-]*$/;

/** "Common Namespaced Identifier Grammar" (without checking reverse-DNS namespacing). */
export function isValidNamespacedId(id: string): boolean {
  return id.length <= 255 && NAMESPACED_ID.test(id);
}
