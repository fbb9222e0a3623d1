// Prints every import that breaks DESIGN.md's dependency direction; exits 1 if any.
// `node scripts/check-imports.ts` (the same check runs in spec-tests/dependency-direction.test.ts).
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkDependencyDirection, formatViolation, readSourceTree } from '../spec-tests/rig/dependency-rules.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const violations = checkDependencyDirection(readSourceTree(repoRoot, ['src', 'schema']));
for (const violation of violations) console.log(formatViolation(violation));
console.log(violations.length === 0 ? 'dependency direction: no violations' : `dependency direction: ${violations.length} violation(s)`);
process.exitCode = violations.length === 0 ? 0 : 1;
