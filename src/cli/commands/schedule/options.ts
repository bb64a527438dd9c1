import type { Command } from 'commander';
import type { ScheduleSpec } from '@temporalio/client';
import { InvalidScheduledExportInputError } from '../../../client/errors';
import {
  MIN_CATCHUP_WINDOW_MS,
  OVERLAP_POLICIES,
  validated,
  type OverlapPolicy,
  type ScheduleChanges,
} from '../../../client/schedules';
import type { ScheduledExportInput } from '../../../shared/contract/scheduled-export-contract';
import { CliError, collect, durationFlag, ExitCode, UsageError } from '../../common';
import { addPollingOptions, pollingFromOptions, type PollingOptions } from '../../polling-options';
import { invalidArgumentDetail } from '../../errors';
import { loadTargetsFile, TargetsFileError } from '../../targets-file';

/** Options and their parsing shared by the `schedule` commands; all checked before connecting. */

export interface SpecOptions extends PollingOptions {
  scheduleId?: string;
  targets?: string;
  cron?: string[];
  interval?: string[];
  timeZone?: string;
  jitter?: string;
  overlap?: string;
  catchupWindow?: string;
  concurrency?: string;
}

/** `[schedule-id]` as an argument or `--schedule-id`. */
export function addScheduleId(command: Command): Command {
  return command
    .argument('[schedule-id]', 'the schedule (or give --schedule-id)')
    .option('--schedule-id <id>', 'the schedule, instead of the argument');
}

/** The schedule id from the argument or `--schedule-id` (not both, unless equal). */
export function scheduleIdOf(sub: string, positional: string | undefined, flag: string | undefined): string {
  if (flag !== undefined && positional !== undefined && flag !== positional) {
    throw new UsageError(
      `schedule ${sub}: the schedule id is given twice ("${positional}" and --schedule-id "${flag}")`
    );
  }
  const scheduleId = flag ?? positional;
  if (scheduleId === undefined || scheduleId.trim() === '') {
    throw new UsageError(`schedule ${sub}: --schedule-id (or a SCHEDULE_ID argument) is required`);
  }
  if (!/^[A-Za-z0-9._:\-/]{1,200}$/.test(scheduleId)) {
    throw new UsageError(`--schedule-id "${scheduleId}": use 1 to 200 letters, digits and . _ : - /`);
  }
  return scheduleId;
}

/** The options `schedule create` and `schedule update` share. */
export function addSpecOptions(command: Command): Command {
  command
    .option('--targets <file>', 'JSON or YAML: a list of targets, or { targets, concurrency, … }')
    .option('--cron <expr>', 'cron expression, e.g. "0 2 * * *" (repeatable)', collect)
    .option('--interval <every[/offset]>', 'e.g. 24h or 24h/2h (repeatable)', collect)
    .option('--time-zone <tz>', 'IANA zone for --cron, e.g. Europe/Berlin (default UTC)')
    .option('--jitter <duration>', 'random delay added to each run, e.g. 10m')
    .option('--overlap <policy>', `when a run is still going: ${OVERLAP_POLICIES.join(', ')} (SKIP)`)
    .option('--catchup-window <duration>', 'run missed actions up to this late (1h, at least 10s)')
    .option('--concurrency <n>', 'targets exported at once (default 10; overrides the file)');
  return addPollingOptions(command);
}

export function readTargets(file: string): ScheduledExportInput {
  try {
    return loadTargetsFile(file);
  } catch (err) {
    if (err instanceof TargetsFileError) throw new CliError(ExitCode.Usage, 'invalid-targets', err.message);
    throw err;
  }
}

/** Applies `--concurrency` and `--poll-*` to a targets file's input, and validates the result. */
export function withOverrides(input: ScheduledExportInput, o: SpecOptions): ScheduledExportInput {
  const concurrency = concurrencyOption(o.concurrency);
  const polling = pollingFromOptions(o);
  const merged: ScheduledExportInput = {
    ...input,
    ...(concurrency !== undefined ? { concurrency } : {}),
    ...(Object.keys(polling).length > 0 ? { polling: { ...input.polling, ...polling } } : {}),
  };
  try {
    return validated(merged);
  } catch (err) {
    if (!(err instanceof InvalidScheduledExportInputError)) throw err;
    throw new UsageError(
      err.message
        .replace(/input\.polling/g, '--poll-*/--timeout (polling)')
        .replace(/input\.concurrency/g, '--concurrency')
    );
  }
}

export function concurrencyOption(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new UsageError(`--concurrency "${v}": expected a whole number`);
  return Number(v);
}

export function whenFromOptions(o: SpecOptions): Pick<ScheduleSpec, 'cronExpressions' | 'intervals'> | undefined {
  const cron = (o.cron ?? []).map((expr) => {
    const fields = expr.trim().split(/\s+/);
    if (!expr.trim().startsWith('@') && (fields.length < 5 || fields.length > 7)) {
      throw new UsageError(
        `--cron "${expr}": expected 5 fields (minute hour day-of-month month day-of-week), e.g. "0 2 * * *"`
      );
    }
    return expr.trim();
  });
  const intervals = (o.interval ?? []).map((spec) => {
    const [every, offset, more] = spec.split('/');
    if (every === undefined || more !== undefined)
      throw new UsageError(`--interval "${spec}": expected EVERY or EVERY/OFFSET, e.g. 24h/2h`);
    const everyMs = durationFlag('interval', every);
    const offsetMs = offset === undefined ? undefined : durationFlag('interval', offset);
    if (offsetMs !== undefined && offsetMs >= everyMs)
      throw new UsageError(`--interval "${spec}": the offset must be shorter than the interval`);
    return { every: everyMs, ...(offsetMs !== undefined ? { offset: offsetMs } : {}) };
  });
  if (cron.length === 0 && intervals.length === 0) return undefined;
  return { cronExpressions: cron, intervals };
}

export function timeZoneOption(tz: string): string {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
  } catch {
    throw new UsageError(`--time-zone "${tz}": not an IANA time zone (e.g. UTC, Europe/Berlin, America/New_York)`);
  }
  return tz;
}

/** `--overlap`, any case, `-` or `_`. */
export function overlapOption(v: string | undefined): OverlapPolicy | undefined {
  if (v === undefined) return undefined;
  const normalized = v.trim().toUpperCase().replace(/-/g, '_');
  if (!(OVERLAP_POLICIES as readonly string[]).includes(normalized)) {
    throw new UsageError(`--overlap "${v}": expected one of ${OVERLAP_POLICIES.join(', ')}`);
  }
  return normalized as OverlapPolicy;
}

export function catchupOption(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const ms = durationFlag('catchup-window', v);
  if (ms < MIN_CATCHUP_WINDOW_MS) throw new UsageError(`--catchup-window "${v}": Temporal needs at least 10s`);
  return ms;
}

/**
 * What `create` and `update` read alike, validated, with only the options given: when (`--cron`/`--interval`),
 * `--time-zone`, `--jitter`, `--overlap` and `--catchup-window`. The targets file is read by each command.
 */
export function specChanges(
  o: SpecOptions
): Pick<ScheduleChanges, 'when' | 'timezone' | 'jitterMs' | 'overlap' | 'catchupWindowMs'> {
  const when = whenFromOptions(o);
  const overlap = overlapOption(o.overlap);
  const catchupWindowMs = catchupOption(o.catchupWindow);
  return {
    ...(when ? { when } : {}),
    ...(o.timeZone !== undefined ? { timezone: timeZoneOption(o.timeZone) } : {}),
    ...(o.jitter !== undefined ? { jitterMs: durationFlag('jitter', o.jitter) } : {}),
    ...(overlap !== undefined ? { overlap } : {}),
    ...(catchupWindowMs !== undefined ? { catchupWindowMs } : {}),
  };
}

/**
 * Runs a schedule call; what the server validates and the client cannot (e.g. cron field ranges) comes back as
 * INVALID_ARGUMENT, which the SDK raises on schedules as a TypeError: a usage error (exit 2), not an outage.
 */
export async function refusedAsUsage<T>(sub: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    const detail = err instanceof TypeError ? err.message : invalidArgumentDetail(err);
    if (detail !== undefined)
      throw new CliError(ExitCode.Usage, 'invalid', `Temporal refused the schedule ${sub}: ${detail}`);
    throw err;
  }
}
