// Application service registration files (application-service API § "Registration";
// OpenAPI definitions/registration.yaml), listed in the homeserver config under
// `app_service_config_files` as Synapse names it. Each file is read and checked at start;
// a problem is a ConfigError naming the file and the key, so the CLI prints one line and
// exits 2 rather than starting with a half-configured bridge.

import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import { ConfigError } from '../config/config-error.ts';
import { isValidUserLocalpart } from '../rooms/identifiers.ts';

export interface Namespace {
  readonly exclusive: boolean;
  /** The registration's regex, as written. */
  readonly regex: string;
  /** Anchored at the start, as Synapse matches (`re.match`). */
  readonly pattern: RegExp;
}

export interface AppServiceRegistration {
  readonly id: string;
  /** Base URL of the service; null when it receives nothing (pushes and queries are skipped). */
  readonly url: string | null;
  readonly asToken: string;
  readonly hsToken: string;
  readonly senderLocalpart: string;
  /** `@<sender_localpart>:<server_name>`. */
  readonly senderUserId: string;
  readonly namespaces: {
    readonly users: readonly Namespace[];
    readonly aliases: readonly Namespace[];
    readonly rooms: readonly Namespace[];
  };
  /** Default true; false exempts the service's users from rate limits. */
  readonly rateLimited: boolean;
  readonly receiveEphemeral: boolean;
  readonly protocols: readonly string[];
  /** The file it came from (for logs). */
  readonly file: string;
}

/** Reads every file and checks that IDs and as_tokens are unique across them (the spec's MUST). */
export async function loadRegistrations(files: readonly string[], serverName: string): Promise<AppServiceRegistration[]> {
  const registrations: AppServiceRegistration[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const reason = code === 'ENOENT' ? 'file not found' : code === 'EACCES' ? 'permission denied' : String(error);
      throw new ConfigError(file, undefined, `cannot read the application service registration (${reason})`);
    }
    registrations.push(parseRegistration(text, file, serverName));
  }
  checkUnique(registrations);
  return registrations;
}

/** Parses and checks one registration file's text. */
export function parseRegistration(text: string, file: string, serverName: string): AppServiceRegistration {
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  const syntaxError = document.errors[0];
  if (syntaxError !== undefined) {
    const firstLine = (syntaxError.message.split('\n')[0] ?? syntaxError.code).replace(/:\s*$/, '');
    throw new ConfigError(file, undefined, `invalid YAML: ${firstLine}`);
  }
  return registrationFromObject(document.toJS({ maxAliasCount: 100 }), file, serverName);
}

export function registrationFromObject(raw: unknown, file: string, serverName: string): AppServiceRegistration {
  const fail = (key: string | undefined, problem: string): never => {
    throw new ConfigError(file, key, problem);
  };
  if (!isObject(raw)) return fail(undefined, 'an application service registration must be a YAML mapping');

  const requiredString = (key: string): string => {
    const value = raw[key];
    if (value === undefined || value === null) return fail(key, 'is required');
    if (typeof value !== 'string' || value === '') return fail(key, 'must be a non-empty string');
    return value;
  };
  const optionalBoolean = (key: string, fallback: boolean): boolean => {
    const value = raw[key];
    if (value === undefined || value === null) return fallback;
    if (typeof value !== 'boolean') return fail(key, 'must be true or false');
    return value;
  };

  const id = requiredString('id');
  if (!('url' in raw)) fail('url', 'is required (null when the service receives no requests)');
  const rawUrl = raw['url'];
  let url: string | null = null;
  if (rawUrl !== null) {
    if (typeof rawUrl !== 'string' || !isHttpUrl(rawUrl)) return fail('url', 'must be an http:// or https:// URL, or null');
    url = rawUrl.replace(/\/+$/, '');
  }
  const asToken = requiredString('as_token');
  const hsToken = requiredString('hs_token');
  if (asToken === hsToken) fail('hs_token', 'must differ from as_token');
  const senderLocalpart = requiredString('sender_localpart');
  if (!isValidUserLocalpart(senderLocalpart)) fail('sender_localpart', `"${senderLocalpart}" is not a valid user localpart`);

  const rawNamespaces = raw['namespaces'];
  if (!isObject(rawNamespaces)) return fail('namespaces', 'is required (a mapping with users, aliases and rooms lists)');
  const namespaceList = (kind: 'users' | 'aliases' | 'rooms'): Namespace[] => {
    const list = rawNamespaces[kind];
    if (list === undefined || list === null) return [];
    if (!Array.isArray(list)) return fail(`namespaces.${kind}`, 'must be a list');
    return list.map((entry: unknown, i) => {
      const key = `namespaces.${kind}[${i}]`;
      if (!isObject(entry)) return fail(key, 'must be a mapping with exclusive and regex');
      const regex = entry['regex'];
      if (typeof regex !== 'string' || regex === '') return fail(`${key}.regex`, 'must be a non-empty string');
      const exclusive = entry['exclusive'];
      if (typeof exclusive !== 'boolean') return fail(`${key}.exclusive`, 'is required (true or false)');
      let pattern: RegExp;
      try {
        pattern = new RegExp(`^(?:${regex})`, 'u');
      } catch (error) {
        return fail(`${key}.regex`, `is not a valid regular expression (${(error as Error).message})`);
      }
      return { exclusive, regex, pattern };
    });
  };
  const namespaces = { users: namespaceList('users'), aliases: namespaceList('aliases'), rooms: namespaceList('rooms') };

  const rawProtocols = raw['protocols'];
  let protocols: string[] = [];
  if (rawProtocols !== undefined && rawProtocols !== null) {
    if (!Array.isArray(rawProtocols) || !rawProtocols.every((p) => typeof p === 'string')) fail('protocols', 'must be a list of strings');
    protocols = [...(rawProtocols as string[])];
  }

  return {
    id,
    url,
    asToken,
    hsToken,
    senderLocalpart,
    senderUserId: `@${senderLocalpart}:${serverName}`,
    namespaces,
    rateLimited: optionalBoolean('rate_limited', true),
    receiveEphemeral: optionalBoolean('receive_ephemeral', false) || optionalBoolean('de.sorunome.msc2409.push_ephemeral', false),
    protocols,
    file,
  };
}

function checkUnique(registrations: readonly AppServiceRegistration[]): void {
  const ids = new Map<string, string>();
  const tokens = new Map<string, string>();
  for (const registration of registrations) {
    const sameId = ids.get(registration.id);
    if (sameId !== undefined) throw new ConfigError(registration.file, 'id', `"${registration.id}" is already the id of ${sameId}`);
    const sameToken = tokens.get(registration.asToken);
    if (sameToken !== undefined) throw new ConfigError(registration.file, 'as_token', `is already the as_token of ${sameToken}`);
    ids.set(registration.id, registration.file);
    tokens.set(registration.asToken, registration.file);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.search === '' && url.hash === '';
  } catch {
    return false;
  }
}
