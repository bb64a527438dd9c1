import type { Command } from 'commander';
import { output, type Output } from './common';

/** What a command's action reports back to `main`. */
export interface CliRun {
  exitCode: number;
}

/** The output a command's action writes to, from the global `--json` / `-o json`. */
export function outputOf(command: Command): Output {
  const globals = command.optsWithGlobals<{ json?: boolean; output?: string }>();
  return output(globals.json === true || globals.output === 'json');
}

/** A command's action: runs `fn` with the command and its operands, and keeps its exit code in `run`. */
export function action<A extends unknown[]>(
  run: CliRun,
  fn: (command: Command, ...operands: A) => Promise<number>
): (...args: unknown[]) => Promise<void> {
  return async (...args: unknown[]) => {
    const command = args.at(-1) as Command;
    // Commander passes the operands, then the options object, then the command.
    run.exitCode = await fn(command, ...(args.slice(0, -2) as A));
  };
}
