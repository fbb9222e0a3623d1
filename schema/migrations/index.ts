// Every migration, by name. Names sort in the order they run (kysely compares them as
// strings), so new files take the next `NNNN_` number. A static map rather than a folder scan:
// the set of migrations is part of the program, not of whatever files sit on disk.

import type { Migration } from 'kysely/migration';
import { migration0001Initial } from './0001_initial.ts';
import { migration0002Roomserver } from './0002_roomserver.ts';

export const migrations: Readonly<Record<string, Migration>> = Object.freeze({
  '0001_initial': migration0001Initial,
  '0002_roomserver': migration0002Roomserver,
});
