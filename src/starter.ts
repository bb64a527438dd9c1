#!/usr/bin/env node
import { ExitCode } from './cli/common';
import { reportOf } from './cli/errors';
import { runProgram, wantsJson } from './cli/program';

/**
 * The CLI, `atlas-export <command> [options]`: the `bin` of package.json and of the published package
 * (packages/atlas-export), built to `dist/starter.js` with this shebang kept; `npm run starter -- <command>` runs
 * it from source in development. Each command is its own file under `src/cli/commands/`; `src/cli/program.ts`
 * puts them together. `--help` on any command prints its options.
 */

export { ExitCode };

/** Runs the CLI on `argv`; returns the exit code, or throws what `reportOf` turns into one. */
export function main(argv: string[]): Promise<number> {
  return runProgram(argv, (text) => console.log(text.replace(/\n$/, '')));
}

if (require.main === module) {
  const argv = process.argv.slice(2);
  main(argv).then(
    (code) => process.exit(code),
    (err: unknown) => {
      const { exitCode, kind, message } = reportOf(err);
      if (wantsJson(argv)) console.log(JSON.stringify({ status: 'error', error: { kind, message } }));
      else console.error(message);
      process.exit(exitCode);
    }
  );
}
