import type { Client } from '@temporalio/client';
import { Command } from 'commander';
import { output, type Output } from './common';
import { withClient } from './connect';

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

/** What a command that reads one workflow is: its name, texts and what it does with a connected client. */
export interface WorkflowIdCommandSpec {
  name: string;
  summary: string;
  description: string;
  /** Whose id the operand is: "the export's", "the scheduled run's". */
  whose: string;
  run: (client: Client, workflowId: string, out: Output) => Promise<number>;
}

/** A command of one `<workflow-id>` operand that connects to Temporal once the arguments are valid. */
export function workflowIdCommand(run: CliRun, spec: WorkflowIdCommandSpec): Command {
  return new Command(spec.name)
    .summary(spec.summary)
    .description(spec.description)
    .argument('<workflow-id>', `${spec.whose} workflow id`)
    .action(
      action(run, (cmd: Command, workflowId: string) => {
        const out = outputOf(cmd);
        return withClient((client) => spec.run(client, workflowId, out));
      })
    );
}
