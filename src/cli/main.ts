// Entry point: `node src/cli/main.ts <command>` (npm start, npm run stoa) and bin/stoa.js.
import { readRawEnvironment } from '../config/env.ts';
import { processIo } from './io.ts';
import { runCli } from './run.ts';

const status = await runCli(process.argv.slice(2), processIo, readRawEnvironment(), (code) => process.exit(code));
if (status !== undefined) process.exitCode = status;
