// Preload for looking inside a Stoa node under a benchmark, where wall-clock figures are
// too noisy on a shared machine to steer by:
//
//   NODE_OPTIONS="--import /work/main/bench/send-sync/profile-preload.ts" node bench/send-sync/run.ts ...
//
// (the rig hands NODE_OPTIONS to the node it starts). Each SIGUSR2 to the node writes the
// PostgreSQL statements run since the previous one, with counts, to
// /tmp/stoa-queries-<pid>.txt; with STOA_PROFILE=1 in the environment the first SIGUSR2 also
// starts a CPU profile and the second writes it to /tmp/stoa-<pid>.cpuprofile (open it in
// Chrome DevTools). Send the first signal after warm-up and the second after the workload.

import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import pg from 'pg';

const counts = new Map<string, number>();
let total = 0;
const query = pg.Client.prototype.query as (this: pg.Client, ...args: unknown[]) => unknown;
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  const config = args[0];
  const text = typeof config === 'string' ? config : (config as { text?: unknown } | undefined)?.text;
  if (typeof text === 'string') {
    total++;
    const key = text.replace(/\$\d+/g, '?').replace(/\s+/g, ' ').slice(0, 200);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return query.apply(this, args);
} as typeof pg.Client.prototype.query;

let session: Session | undefined;
let profiling = false;
process.on('SIGUSR2', () => {
  const rows = [...counts].sort((a, b) => b[1] - a[1]).map(([text, n]) => `${n}\t${text}`);
  writeFileSync(`/tmp/stoa-queries-${process.pid}.txt`, [`total ${total}`, ...rows].join('\n'));
  counts.clear();
  total = 0;
  if (process.env['STOA_PROFILE'] !== '1') return;
  if (!profiling) {
    session ??= new Session();
    session.connect();
    session.post('Profiler.enable', () => session?.post('Profiler.start'));
    profiling = true;
  } else {
    session?.post('Profiler.stop', (err, result) => {
      if (err === null) writeFileSync(`/tmp/stoa-${process.pid}.cpuprofile`, JSON.stringify(result.profile));
      session?.disconnect();
      session = undefined;
    });
    profiling = false;
  }
});
