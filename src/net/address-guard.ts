// Refusing private destinations for every outbound connection (federation, remote media, URL
// previews, push gateways). A peer (or anyone who can create a room alias or a server
// name) could otherwise point our federation client at the loopback interface or the local
// network, turning the homeserver into a proxy into places the internet cannot reach. The
// check runs on the address actually connected to (inside the socket's DNS lookup), so a
// name that resolves differently the second time cannot slip past it.

import { BlockList, isIP } from 'node:net';
import type { LookupAddress, LookupOptions } from 'node:dns';
import type { Dns } from './dns.ts';

// Addresses that are not the public internet (IANA special-purpose registries).
const NON_PUBLIC = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8], // RFC 1918
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local
  ['172.16.0.0', 12], // RFC 1918
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.168.0.0', 16], // RFC 1918
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, and 255.255.255.255
] as const) {
  NON_PUBLIC.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128], // unspecified
  ['::1', 128], // loopback
  ['64:ff9b:1::', 48], // local-use NAT64
  ['100::', 64], // discard-only
  ['2001:db8::', 32], // documentation
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated, still not public)
  ['ff00::', 8], // multicast
] as const) {
  NON_PUBLIC.addSubnet(network, prefix, 'ipv6');
}

/** Whether `address` (an IP literal, IPv6 without brackets) is loopback, private, link-local, … */
export function isNonPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true; // not an address at all: never connect to it
  // BlockList matches IPv4-mapped IPv6 (::ffff:10.0.0.1) against the IPv4 rules too.
  return NON_PUBLIC.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

export class ForbiddenAddressError extends Error {
  override name = 'ForbiddenAddressError';
  readonly code = 'ERR_STOA_FORBIDDEN_ADDRESS';
  readonly host: string;
  constructor(host: string, addresses: readonly string[]) {
    super(`${host} resolves only to non-public addresses (${addresses.join(', ')}), and allow_private_addresses is off`);
    this.host = host;
  }
}

/**
 * Which non-public addresses a client may still reach: none (`false`), all (`true`, for
 * closed networks and tests), or those in an allow list (an intranet the admin named).
 */
export type PrivateAddressPolicy = boolean | BlockList;

/** Builds the allow-list policy from CIDR strings ("10.1.0.0/16", "fd00::/8"). */
export function allowListPolicy(cidrs: readonly string[]): PrivateAddressPolicy {
  if (cidrs.length === 0) return false;
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [network = '', prefix = ''] = cidr.split('/');
    const family = isIP(network);
    if (family === 0 || !/^\d{1,3}$/.test(prefix)) throw new Error(`not a network in CIDR notation: ${cidr}`);
    list.addSubnet(network, Number(prefix), family === 4 ? 'ipv4' : 'ipv6');
  }
  return list;
}

function isPermitted(address: string, policy: PrivateAddressPolicy): boolean {
  if (policy === true || !isNonPublicAddress(address)) return true;
  if (policy === false) return false;
  const family = isIP(address);
  return family !== 0 && policy.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

/** Throws `ForbiddenAddressError` for an IP literal we may not connect to. */
export function assertAllowedAddress(address: string, allowPrivate: PrivateAddressPolicy): void {
  if (!isPermitted(address, allowPrivate)) throw new ForbiddenAddressError(address, [address]);
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** The `lookup` function of `net.connect`, its two calling conventions (`all` or not). */
export type SocketLookup = (hostname: string, options: LookupOptions, callback: LookupCallback) => void;

/**
 * A `lookup` for sockets: resolves through `dns` and, unless `allowPrivate`, keeps only
 * public addresses, failing with `ForbiddenAddressError` when none is left.
 */
export function guardedLookup(dns: Dns, allowPrivate: PrivateAddressPolicy): SocketLookup {
  return (hostname, options, callback) => {
    dns.lookup(hostname).then(
      (resolved) => {
        const family = options.family === 4 || options.family === 6 ? options.family : undefined;
        let usable = family === undefined ? resolved : resolved.filter((entry) => entry.family === family);
        if (allowPrivate !== true) usable = usable.filter((entry) => isPermitted(entry.address, allowPrivate));
        const first = usable[0];
        if (first === undefined) {
          const error: NodeJS.ErrnoException =
            resolved.length === 0 || allowPrivate === true
              ? Object.assign(new Error(`no address found for ${hostname}`), { code: 'ENOTFOUND' })
              : new ForbiddenAddressError(hostname, resolved.map((entry) => entry.address));
          callback(error, options.all === true ? [] : '', undefined);
          return;
        }
        if (options.all === true) callback(null, usable.map((entry) => ({ address: entry.address, family: entry.family })));
        else callback(null, first.address, first.family);
      },
      (error: unknown) => {
        const failure = error instanceof Error ? error : new Error(String(error));
        callback(failure, options.all === true ? [] : '', undefined);
      },
    );
  };
}
