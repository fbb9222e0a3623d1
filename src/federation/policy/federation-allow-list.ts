// The operator's `federation.allow` / `federation.deny` lists (homeserver.example.yaml):
// closed federation between an organisation's own sites. Deny wins over allow. A glob is
// matched against the whole server name and against its host without the port, so
// `*.example.org` covers `a.example.org:8448`, and `10.0.0.5:8448` names one port only.

import { compileGlob, serverHost, type Glob } from '../../rooms/server-acl.ts';

export type AllowListDecision = 'allow' | 'denied' | 'not-allowed';

export class FederationAllowList {
  readonly #allow: readonly Glob[];
  readonly #deny: readonly Glob[];

  constructor(lists: { readonly allow: readonly string[]; readonly deny: readonly string[] }) {
    this.#allow = lists.allow.map(compileGlob);
    this.#deny = lists.deny.map(compileGlob);
  }

  decide(serverName: string): AllowListDecision {
    const { host } = serverHost(serverName);
    const matches = (glob: Glob): boolean => glob.matches(serverName) || glob.matches(host);
    if (this.#deny.some(matches)) return 'denied';
    return this.#allow.some(matches) ? 'allow' : 'not-allowed';
  }

  isAllowed(serverName: string): boolean {
    return this.decide(serverName) === 'allow';
  }
}
