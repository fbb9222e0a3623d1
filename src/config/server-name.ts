// The server-name grammar of the spec's appendix "Server Name" (content/appendices.md):
//   server_name = hostname [ ":" port ]
//   hostname    = IPv4address / "[" IPv6address "]" / dns-name
// IPv4 literals are a subset of dns-name, so two alternatives cover all three.
const SERVER_NAME = /^(?:\[[0-9A-Fa-f:.]{2,45}\]|[A-Za-z0-9.-]{1,255})(?::([0-9]{1,5}))?$/;

/**
 * True when `name` matches the spec's server-name grammar. The grammar allows ports up to
 * 99999; a server's own name must name a real TCP port, so ports above 65535 are refused.
 */
export function isValidServerName(name: string): boolean {
  const match = SERVER_NAME.exec(name);
  if (match === null) return false;
  const port = match[1];
  return port === undefined || Number(port) <= 65535;
}
