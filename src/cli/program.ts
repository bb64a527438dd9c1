import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, Option, type CommanderError } from 'commander';
import { z } from 'zod';
import { exportCommand } from './commands/export';
import { listCommand } from './commands/list';
import { progressCommand } from './commands/progress';
import { resultCommand } from './commands/result';
import { scheduleCommand } from './commands/schedule';
import { summaryCommand } from './commands/summary';
import { watchCommand } from './commands/watch';
import type { CliRun } from './action';
import { ExitCode, PROGRAM_NAME, UsageError } from './common';

/**
 * The starter CLI: one commander command per file under `commands/`, each declaring its own options. Commander
 * parses; every parse error becomes a `UsageError`: one line naming the flag (or argument, or command), and one
 * saying where to get the command's help; never the whole usage.
 */

const EPILOG = `
Exit codes: 0 ok, 1 export not Successful, 2 bad arguments or targets file,
            3 schedule exists, 4 not found, 69 Temporal unavailable,
            78 bad configuration
Environment: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_TASK_QUEUE,
             TEMPORAL_API_KEY, TEMPORAL_TLS*, or a profile of a TOML file:
             TEMPORAL_PROFILE, TEMPORAL_CONFIG_FILE (docs/configuration.md)
Run '${PROGRAM_NAME} <command> --help' for a command's options.`;

function packageVersion(): string {
  const text = readFileSync(resolve(__dirname, '..', '..', 'package.json'), 'utf8');
  return z.object({ version: z.string() }).parse(JSON.parse(text)).version;
}

/** True when argv asks for JSON output (`--json`, `-o json`, `--output=json`): how errors are then printed. */
export function wantsJson(argv: readonly string[]): boolean {
  return argv.some(
    (a, i) =>
      a === '--json' ||
      a === '-ojson' ||
      a === '--output=json' ||
      ((a === '-o' || a === '--output') && argv[i + 1] === 'json')
  );
}

export function buildProgram(run: CliRun, writeOut: (text: string) => void): Command {
  const program = new Command(PROGRAM_NAME)
    .description('Start and follow Atlas snapshot exports and their schedules on Temporal.')
    .version(packageVersion(), '-V, --version', 'print the version')
    .option('--json', 'machine-readable output (one JSON document on stdout)')
    .addOption(new Option('-o, --output <format>', 'json is the same as --json').choices(['text', 'json']))
    .addHelpText('after', EPILOG);
  program.addCommand(exportCommand(run));
  program.addCommand(progressCommand(run));
  program.addCommand(resultCommand(run));
  program.addCommand(watchCommand(run));
  program.addCommand(listCommand(run));
  program.addCommand(summaryCommand(run));
  program.addCommand(scheduleCommand(run));
  configure(program, writeOut);
  return program;
}

/** Every command: help on stdout (80 columns), no commander error output, parse errors as one `UsageError`. */
function configure(command: Command, writeOut: (text: string) => void): void {
  command
    .helpOption('-h, --help', 'print this help')
    .configureHelp({ showGlobalOptions: true, helpWidth: 80 })
    .configureOutput({ writeOut, writeErr: () => undefined, outputError: () => undefined })
    .showSuggestionAfterError(true)
    .exitOverride((err) => {
      throw usageErrorOf(err, command);
    });
  for (const sub of command.commands) configure(sub, writeOut);
}

/** Help or version was printed: `main` returns 0. */
export class HelpShown extends Error {
  override readonly name = 'HelpShown';
}

function pathOf(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

function rootOf(command: Command): Command {
  let c = command;
  while (c.parent) c = c.parent;
  return c;
}

/** The commands (by path) that declare `flag`, e.g. `--cron` → `schedule create, schedule update`. */
function ownersOf(flag: string, root: Command): string[] {
  const owners: string[] = [];
  const visit = (c: Command) => {
    if (c.parent && c.options.some((o) => o.long === flag)) owners.push(pathOf(c));
    c.commands.forEach(visit);
  };
  visit(root);
  return owners;
}

function usageErrorOf(err: CommanderError, command: Command): Error {
  if (err.exitCode === 0) return new HelpShown(err.code);
  const path = pathOf(command);
  const help = `\nSee '${[PROGRAM_NAME, path, '--help'].filter(Boolean).join(' ')}'.`;
  const suggestion = /\(Did you mean (.+)\?\)/.exec(err.message)?.[1];
  const quoted = /'([^']*)'/.exec(err.message)?.[1] ?? '';
  switch (err.code) {
    case 'commander.unknownOption': {
      const flag = quoted.split('=')[0]!;
      // A flag of another command says where it belongs; a misspelt one gets commander's suggestion.
      const owners = ownersOf(flag, rootOf(command)).filter((p) => p !== path);
      const hint =
        owners.length > 0 ? ` (an option of ${owners.join(', ')})` : suggestion ? ` (did you mean ${suggestion}?)` : '';
      return new UsageError(`${path || PROGRAM_NAME}: unknown option ${flag}${hint}${help}`);
    }
    case 'commander.invalidArgument': {
      const choices = /Allowed choices are (.*)\.$/.exec(err.message)?.[1];
      const value = /argument '([^']*)' is invalid/.exec(err.message)?.[1];
      const flag = quoted.split(' ')[0]!.replace(/,$/, '');
      const allowed = choices ? `expected one of ${choices}` : 'invalid';
      return new UsageError(`${path || PROGRAM_NAME}: ${flag} "${value ?? ''}": ${allowed}${help}`);
    }
    case 'commander.unknownCommand': {
      const hint = suggestion ? ` (did you mean ${suggestion}?)` : '';
      return new UsageError(`unknown command "${quoted}"${hint}${help}`);
    }
    case 'commander.help': {
      // A command of subcommands (the program, `schedule`) was given none.
      const commands = command.commands.map((c) => c.name()).join(', ');
      return new UsageError(`${path || PROGRAM_NAME} needs a command:\n  ${commands}${help}`);
    }
    case 'commander.missingArgument':
      return new UsageError(`${path} takes one ${quoted.toUpperCase().replace(/-/g, '_')}${help}`);
    case 'commander.excessArguments': {
      const takes = command.registeredArguments.map((a) => a.name().toUpperCase().replace(/-/g, '_'));
      const what = takes.length > 0 ? `takes only ${takes.join(' ')}` : 'takes no arguments';
      return new UsageError(`${path} ${what}${help}`);
    }
    case 'commander.optionMissingArgument':
      return new UsageError(`${path}: option ${quoted.split(/[ ,]/)[0]} needs a value${help}`);
    default:
      return new UsageError(`${path || PROGRAM_NAME}: ${err.message.replace(/^error: /, '')}${help}`);
  }
}

/** Runs the CLI on `argv` (without `node script`): the exit code, or a thrown `UsageError`/`CliError`. */
export async function runProgram(argv: string[], writeOut: (text: string) => void): Promise<number> {
  const run: CliRun = { exitCode: ExitCode.Ok };
  try {
    await buildProgram(run, writeOut).parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof HelpShown) return ExitCode.Ok;
    throw err;
  }
  return run.exitCode;
}
