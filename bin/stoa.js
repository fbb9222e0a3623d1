#!/usr/bin/env node
// The `stoa` command. Stoa's TypeScript runs on Node's type stripping (Node >= 22.18).
import('../src/cli/main.ts');
