import { ExitCode } from './cli/common';
import { reportOf } from './cli/errors';
import { runProgram, wantsJson } from './cli/program';

/**
 * The starter CLI: `npm run starter -- <command> [options]`. Each command is its own file under
 * `src/cli/commands/`; `src/cli/program.ts` puts them together. `--help` on any command prints its options.
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
