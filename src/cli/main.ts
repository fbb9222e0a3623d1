// Entry point: `node src/cli/main.ts <command>` (npm start, npm run stoa) and bin/stoa.js.
import { readRawEnvironment } from '../config/env.ts';
import { processIo } from './io.ts';
import { runCli } from './run.ts';
import { serverV8Flags } from './v8-flags.ts';

// V8 flags take effect only at start: `stoa start` (and the export commands) re-execute
// themselves once with them (same process, same PID: execve), unless they were given already.
const flags = serverV8Flags(process.argv.slice(2), process.execArgv, process.env);
if (flags.length > 0 && typeof process.execve === 'function') {
  process.execve(process.execPath, [process.execPath, ...flags, ...process.execArgv, ...process.argv.slice(1)], process.env);
}

const status = await runCli(process.argv.slice(2), processIo, readRawEnvironment(), (code) => process.exit(code));
if (status !== undefined) process.exitCode = status;
