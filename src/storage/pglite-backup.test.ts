import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { PGlite } from '@electric-sql/pglite';
import { BackupError, backupPGlite, restorePGlite } from './pglite-backup.ts';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'stoa-backup-'));
});
after(() => rm(root, { recursive: true, force: true }));

test('a PGlite backup restores into an empty directory with the same rows', async () => {
  const source = join(root, 'source');
  const db = await PGlite.create(source);
  await db.exec("CREATE TABLE notes (id int PRIMARY KEY, body text); INSERT INTO notes VALUES (1, 'kept'), (2, 'also kept');");
  await db.close();

  const archive = join(root, 'backups', 'stoa.tar.gz');
  const { bytes } = await backupPGlite(source, archive);
  assert.ok(bytes > 0);
  assert.deepEqual((await readdir(join(root, 'backups'))).sort(), ['stoa.tar.gz'], 'no .partial file is left behind');

  const target = join(root, 'restored');
  await restorePGlite(archive, target);
  const restored = await PGlite.create(target);
  try {
    const result = await restored.query<{ id: number; body: string }>('SELECT id, body FROM notes ORDER BY id');
    assert.deepEqual(result.rows, [{ id: 1, body: 'kept' }, { id: 2, body: 'also kept' }]);
  } finally {
    await restored.close();
  }
});

test('restore refuses a directory that already holds files, and leaves it untouched', async () => {
  const target = join(root, 'occupied');
  await PGlite.create(target).then((db) => db.close());
  const before = (await readdir(target)).sort();
  await assert.rejects(restorePGlite(join(root, 'backups', 'stoa.tar.gz'), target), (error: unknown) => {
    assert.ok(error instanceof BackupError);
    assert.match(error.message, /not empty/);
    return true;
  });
  assert.deepEqual((await readdir(target)).sort(), before);
});

test('restore of a file that is not a backup fails clearly and leaves an empty directory', async () => {
  const garbage = join(root, 'garbage.tar.gz');
  await writeFile(garbage, 'this is not a tarball');
  const target = join(root, 'from-garbage');
  await assert.rejects(restorePGlite(garbage, target), BackupError);
  assert.deepEqual(await readdir(target), []);
});

test('backup refuses a directory without a database', async () => {
  await assert.rejects(backupPGlite(join(root, 'nothing-here'), join(root, 'x.tar.gz')), /holds no PGlite database/);
});
