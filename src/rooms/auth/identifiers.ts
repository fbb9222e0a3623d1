// The identifier checks the auth rules need (content/appendices.md "Identifier Grammar"),
// kept private to the auth rules. Events from historical rooms must still authorise, so
// user IDs are checked against the historical grammar: any localpart without `:` or NUL.

/** The server name of a `@user:server`, `!room:server` or `$event:server` ID. */
export function serverNameOf(id: string): string | undefined {
  const colon = id.indexOf(':');
  return colon < 0 ? undefined : id.slice(colon + 1);
}

const utf8 = new TextEncoder();

/** "User Identifiers", accepting historical localparts as "Historical User IDs" requires. */
export function isValidUserId(id: string): boolean {
  if (!id.startsWith('@') || !id.isWellFormed()) return false;
  if (utf8.encode(id).length > 255) return false;
  const colon = id.indexOf(':');
  if (colon < 0) return false;
  if (id.slice(1, colon).includes('\u0000')) return false;
  return isValidServerName(id.slice(colon + 1));
}

const PORT = /^[0-9]{1,5}$/;
const IPV6 = /^[0-9A-Fa-f:.]{2,45}$/;
const DNS_NAME = /^[0-9A-Za-z.-]{1,255}$/;

/** "Server Name": `hostname [":" port]`. */
export function isValidServerName(name: string): boolean {
  let host: string;
  let rest: string;
  if (name.startsWith('[')) {
    const close = name.indexOf(']');
    if (close < 0) return false;
    if (!IPV6.test(name.slice(1, close))) return false;
    host = name.slice(0, close + 1);
    rest = name.slice(close + 1);
  } else {
    const colon = name.indexOf(':');
    host = colon < 0 ? name : name.slice(0, colon);
    rest = colon < 0 ? '' : name.slice(colon);
    // An IPv4 literal is also a dns-name by the grammar's characters.
    if (!DNS_NAME.test(host)) return false;
  }
  if (rest === '') return host.length > 0;
  return rest.startsWith(':') && PORT.test(rest.slice(1));
}
