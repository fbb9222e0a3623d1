// The config written on first start, when Stoa is run with no config: a single-node
// homeserver on the embedded database, listening on loopback only.
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** Where `stoa start` looks when neither --config nor STOA_CONFIG names a file. */
export const DEFAULT_CONFIG_PATH = path.join('data', 'homeserver.yaml');

/** The text of a first-start config with the given registration shared secret. */
export function renderFirstStartConfig(sharedSecret: string): string {
  return `# Stoa homeserver configuration, generated on first start.
# Every key is explained in homeserver.example.yaml; relative paths below are resolved
# against the folder holding this file. Edit and restart Stoa to apply changes.

# The name in your users' IDs (@alice:localhost). Choose it once: changing it later
# orphans every existing account and room.
server_name: localhost

# The URL clients use to reach the client listener.
public_baseurl: http://127.0.0.1:8008/

listeners:
  client:
    bind: 127.0.0.1
    port: 8008
  federation:
    bind: 127.0.0.1
    port: 8448

# The embedded database (PGlite). For production use PostgreSQL:
#   database: {engine: postgres, url: postgres://stoa:secret@db.example.org/stoa}
database:
  engine: pglite
  path: db

data_dir: .
signing_key_path: signing.key

registration:
  enabled: true
  # Lets an administrator create accounts with the shared-secret registration API.
  # Keep it secret.
  shared_secret: "${sharedSecret}"
  require_token: false

media:
  store_path: media

log_level: info
`;
}

/**
 * Writes a first-start config to `file` (creating its folder) with a fresh shared secret.
 * Never overwrites: an existing file is an error (EEXIST), so a race cannot clobber one.
 */
export async function writeFirstStartConfig(file: string): Promise<void> {
  await mkdir(path.dirname(path.resolve(file)), { recursive: true });
  const sharedSecret = randomBytes(32).toString('base64url');
  // 0600: the file holds the registration secret.
  await writeFile(file, renderFirstStartConfig(sharedSecret), { flag: 'wx', mode: 0o600 });
}
