// PGlite is a whole PostgreSQL inside this process, with no postmaster to stop a second
// process (a `stoa migrate` next to a running `stoa start`) from opening the same data
// directory and corrupting it. A lock file beside the directory, holding the owner's pid,
// keeps the embedded database to one process at a time.

import { open, readFile, unlink } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

export class DirectoryLockedError extends Error {
  readonly lockPath: string;
  readonly ownerPid: number;
  constructor(lockPath: string, ownerPid: number) {
    super(`database directory is in use by process ${ownerPid} (lock file ${lockPath})`);
    this.name = 'DirectoryLockedError';
    this.lockPath = lockPath;
    this.ownerPid = ownerPid;
  }
}

export interface DirectoryLock {
  readonly path: string;
  release(): Promise<void>;
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readOwner(lockPath: string): Promise<number | undefined> {
  try {
    const pid = Number.parseInt(await readFile(lockPath, 'utf8'), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * Takes `<directory>.lock`. A lock left by a process that no longer runs (a crash, kill -9)
 * is taken over; one held by a live process — this one included — is refused.
 */
export async function lockDirectory(directory: string): Promise<DirectoryLock> {
  const lockPath = `${directory}.lock`;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(lockPath, 'wx');
      try {
        await handle.writeFile(`${process.pid}\n`);
      } finally {
        await handle.close();
      }
      let released = false;
      return {
        path: lockPath,
        async release(): Promise<void> {
          if (released) return;
          released = true;
          await unlink(lockPath).catch((error: NodeJS.ErrnoException) => {
            if (error.code !== 'ENOENT') throw error;
          });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    let owner = await readOwner(lockPath);
    if (owner === undefined) {
      // Another process may have created the file and not yet written its pid.
      await sleep(50);
      owner = await readOwner(lockPath);
    }
    if (owner !== undefined && isProcessAlive(owner)) {
      throw new DirectoryLockedError(lockPath, owner);
    }
    // Stale (or unreadable) lock: remove it and try again; `wx` arbitrates between racers.
    await unlink(lockPath).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }
  throw new Error(`could not take the lock ${lockPath}`);
}
