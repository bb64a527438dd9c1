import { durationSchema } from '../shared/contract/durations';

/** The CLI's name in help and messages: the `bin` of package.json (`npm run starter -- <command>` in development). */
export const PROGRAM_NAME = 'atlas-export';

/** Exit codes scripts can rely on. */
export const ExitCode = {
  Ok: 0,
  /** An export (or a scheduled run) did not end `Successful`. */
  ExportNotSuccessful: 1,
  /** Bad arguments or a bad targets file; nothing was changed. */
  Usage: 2,
  /** `schedule create` for a schedule id that exists (without `--update-if-exists`). */
  ScheduleExists: 3,
  /** The schedule (or workflow) named does not exist. */
  NotFound: 4,
  Unavailable: 69,
  Config: 78,
} as const;

/** Longest refresh or progress interval a CLI flag may ask for: Node timers overflow past 24.8 days. */
export const MAX_CLI_INTERVAL_MS = 3_600_000;

/** Bad command-line arguments: the message names the flag. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A failure with its own exit code and a message meant for a person (no usage text). */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    readonly exitCode: number,
    readonly kind: string,
    message: string
  ) {
    super(message);
  }
}

/** Commander's collector for a repeatable option: each use appends its value. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Columns of the terminal stdout writes to (80 when it is no terminal or does not say). */
export function terminalWidth(): number {
  const columns = process.stdout.columns;
  return typeof columns === 'number' && columns > 0 ? columns : 80;
}

/** A duration flag (`30s`, `5m`, `2h` or milliseconds), in milliseconds. */
export function durationFlag(flag: string, value: string): number {
  const parsed = durationSchema.safeParse(/^\d+$/.test(value.trim()) ? Number(value) : value);
  if (!parsed.success) throw new UsageError(`--${flag} "${value}": expected a duration such as 30s, 5m or 2h`);
  return parsed.data;
}

/** Human lines on stdout, or (with `--json`) exactly one JSON document. */
export interface Output {
  json: boolean;
  line(text: string): void;
  result(doc: unknown): void;
}

export function output(json: boolean): Output {
  return {
    json,
    line: (text) => {
      if (!json) console.log(text);
    },
    result: (doc) => {
      if (json) console.log(JSON.stringify(doc));
    },
  };
}
