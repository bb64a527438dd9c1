/** Kept for `src/local-run.ts` until it imports `commandWatch` from `src/cli/commands/watch` (issue 14 merge). */
export { commandWatch } from './commands/watch';
