// Backup and restore of the embedded database (issue 12 item 4). PostgreSQL deployments use
// pg_dump/pg_restore; PGlite has no server to dump from, so we ask PGlite itself for a
// tarball of its data directory. A copy of the files of a running PGlite could be torn, which
// is why both operations take the directory lock: the server must be stopped.

import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { lockDirectory } from './directory-lock.ts';

export class BackupError extends Error {
  override readonly name = 'BackupError';
}

/** Writes a gzip-compressed tarball of the PGlite data directory at `dataDir` to `outFile`. */
export async function backupPGlite(dataDir: string, outFile: string): Promise<{ bytes: number }> {
  if (!(await isPGliteDataDir(dataDir))) throw new BackupError(`${dataDir} holds no PGlite database`);
  const lock = await lockDirectory(dataDir);
  try {
    const pglite = await PGlite.create(dataDir);
    try {
      const dump = await pglite.dumpDataDir('gzip');
      const bytes = new Uint8Array(await dump.arrayBuffer());
      // Written beside the target, then renamed: a crash never leaves a half backup under
      // the name an operator will later restore from.
      await mkdir(dirname(outFile), { recursive: true });
      const partial = `${outFile}.partial`;
      await writeFile(partial, bytes, { flag: 'w' });
      await rename(partial, outFile);
      return { bytes: bytes.length };
    } finally {
      await pglite.close();
    }
  } finally {
    await lock.release();
  }
}

/**
 * Creates the PGlite data directory `dataDir` from a tarball made by `backupPGlite`. Refuses a
 * directory that already holds files: restoring over a live database is never what was meant.
 */
export async function restorePGlite(archive: string, dataDir: string): Promise<void> {
  if ((await listOrEmpty(dataDir)).length > 0) {
    throw new BackupError(`${dataDir} is not empty; move it aside (or choose another path) before restoring`);
  }
  const bytes = await readFile(archive).catch((error: NodeJS.ErrnoException) => {
    throw new BackupError(`cannot read ${archive}: ${error.code ?? error.message}`);
  });
  await mkdir(dataDir, { recursive: true });
  const lock = await lockDirectory(dataDir);
  try {
    let pglite: PGlite;
    try {
      pglite = await PGlite.create(dataDir, { loadDataDir: new Blob([bytes]) });
    } catch (error) {
      await rm(dataDir, { recursive: true, force: true }).then(() => mkdir(dataDir, { recursive: true }));
      throw new BackupError(`${archive} is not a PGlite backup: ${(error as Error).message}`);
    }
    try {
      // A restored directory that cannot answer a query is not a restore.
      await pglite.query('SELECT 1');
    } finally {
      await pglite.close();
    }
  } finally {
    await lock.release();
  }
}

async function isPGliteDataDir(dir: string): Promise<boolean> {
  try {
    return (await stat(join(dir, 'PG_VERSION'))).isFile();
  } catch {
    return false;
  }
}

async function listOrEmpty(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}
