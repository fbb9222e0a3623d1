// The DNS lookups federation needs, behind an interface so tests and closed networks can
// answer them without a resolver.

import { lookup as dnsLookup, resolveSrv as dnsResolveSrv } from 'node:dns/promises';

export interface SrvRecord {
  readonly name: string;
  readonly port: number;
  readonly priority: number;
  readonly weight: number;
}

export interface ResolvedAddress {
  readonly address: string;
  readonly family: 4 | 6;
}

export interface Dns {
  /** SRV records for `name`; empty when there are none (NXDOMAIN, no data). */
  resolveSrv(name: string): Promise<SrvRecord[]>;
  /** A/AAAA (CNAMEs followed) for `hostname`; empty or a rejection when there are none. */
  lookup(hostname: string): Promise<ResolvedAddress[]>;
}

const NO_RECORDS = new Set(['ENOTFOUND', 'ENODATA', 'ESERVFAIL', 'ENONAME', 'NXDOMAIN']);

/** The system resolver (node:dns/promises). */
export const systemDns: Dns = {
  async resolveSrv(name) {
    try {
      return await dnsResolveSrv(name);
    } catch (error) {
      if (NO_RECORDS.has((error as NodeJS.ErrnoException).code ?? '')) return [];
      throw error;
    }
  },
  async lookup(hostname) {
    const entries = await dnsLookup(hostname, { all: true });
    return entries
      .filter((entry) => entry.family === 4 || entry.family === 6)
      .map((entry) => ({ address: entry.address, family: entry.family as 4 | 6 }));
  },
};
