import {
  isGrpcServiceError,
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  ServiceError,
  type CalendarSpecDescription,
  type Client,
  type Range,
  type ScheduleDescription,
  type ScheduleHandle,
  type ScheduleOptionsStartWorkflowAction,
  type ScheduleSpec,
  type ScheduleSpecDescription,
  type ScheduleUpdateOptions,
  type Workflow,
} from '@temporalio/client';
import {
  parseScheduledExportInput,
  SCHEDULED_EXPORT_SUMMARY_QUERY,
  SCHEDULED_EXPORT_WORKFLOW,
  type ScheduledExportInput,
  type ScheduledExportSummary,
} from '../shared/scheduled-export-contract';
import { scheduledRunWorkflowId } from '../shared/workflow-ids';
import {
  CliError,
  durationFlag,
  ExitCode,
  listFlag,
  stringFlag,
  UsageError,
  type FlagValues,
  type Output,
} from './common';
import { pollingFromFlags } from './export-commands';
import { loadTargetsFile, TargetsFileError } from './targets-file';

/** `schedule create|update|describe|list|pause|unpause|trigger|backfill|delete`: Temporal Schedules of `scheduledExport`. */

export const SCHEDULE_USAGE = `  starter schedule create --schedule-id ID --targets FILE (--cron EXPR | --interval EVERY[/OFFSET])… [options]
                                   runs start scheduledExport on TEMPORAL_TASK_QUEUE (default atlas-exports)
      --targets FILE               JSON or YAML: a list of targets, or { targets, concurrency, polling, onDemand }
      --cron EXPR                  cron expression, e.g. "0 2 * * *" (repeatable)
      --interval EVERY[/OFFSET]    e.g. 24h or 24h/2h (repeatable)
      --time-zone TZ               IANA zone for --cron, e.g. Europe/Berlin (default UTC)
      --jitter DURATION            random delay added to each run, e.g. 10m
      --overlap POLICY             when a run is still going: SKIP (default), BUFFER_ONE, BUFFER_ALL,
                                   CANCEL_OTHER, TERMINATE_OTHER, ALLOW_ALL
      --catchup-window DURATION    run missed actions up to this late (default 1h, at least 10s)
      --concurrency N              targets exported at once (default 10; overrides the file)
      --poll-mode/--poll-min/--poll-interval/--poll-initial/--poll-max/--poll-backoff/--timeout
                                   polling of each export (overrides the file)
      --paused [--note TEXT]       create it paused
      --update-if-exists           if the schedule exists, replace its spec, policies and targets
  starter schedule update ID [any create option]   change only what is given
  starter schedule describe ID
  starter schedule list
  starter schedule pause ID [--note TEXT]
  starter schedule unpause ID [--note TEXT]
  starter schedule trigger ID [--overlap POLICY]    run now
  starter schedule backfill ID --start ISO --end ISO [--overlap POLICY]   run the actions of a past range
  starter schedule delete ID
  starter summary WORKFLOW_ID       per-target summary of a scheduled run; exit 1 when a target failed`;

export const SCHEDULE_SUBCOMMANDS = [
  'create',
  'update',
  'describe',
  'list',
  'pause',
  'unpause',
  'trigger',
  'backfill',
  'delete',
] as const;
export type ScheduleSubcommand = (typeof SCHEDULE_SUBCOMMANDS)[number];

/** Explicit defaults (Temporal's own catch-up default is a year: a worker outage would replay every missed night). */
export const DEFAULT_OVERLAP = ScheduleOverlapPolicy.SKIP;
export const DEFAULT_CATCHUP_WINDOW_MS = 3600_000;
const MIN_CATCHUP_WINDOW_MS = 10_000;
const GRPC_INVALID_ARGUMENT = 3;
const OVERLAP_POLICIES = ['SKIP', 'BUFFER_ONE', 'BUFFER_ALL', 'CANCEL_OTHER', 'TERMINATE_OTHER', 'ALLOW_ALL'] as const;
type OverlapPolicy = (typeof OVERLAP_POLICIES)[number];

/** A schedule command, validated before anything connects to Temporal. */
export type ScheduleCommand =
  | {
      sub: 'create';
      scheduleId: string;
      spec: ScheduleSpec;
      input: ScheduledExportInput;
      policies: Policies;
      paused: boolean;
      note: string | undefined;
      updateIfExists: boolean;
    }
  | { sub: 'update'; scheduleId: string; changes: ScheduleChanges }
  | { sub: 'describe' | 'delete'; scheduleId: string }
  | { sub: 'list' }
  | { sub: 'pause' | 'unpause'; scheduleId: string; note: string | undefined }
  | { sub: 'trigger'; scheduleId: string; overlap: OverlapPolicy | undefined }
  | { sub: 'backfill'; scheduleId: string; start: Date; end: Date; overlap: OverlapPolicy | undefined };

interface Policies {
  overlap: OverlapPolicy;
  catchupWindowMs: number;
}

/** What `update` changes; absent fields keep their current value. */
interface ScheduleChanges {
  when?: Pick<ScheduleSpec, 'cronExpressions' | 'intervals'>;
  timezone?: string;
  jitterMs?: number;
  overlap?: OverlapPolicy;
  catchupWindowMs?: number;
  input?: ScheduledExportInput;
  concurrency?: number;
  polling?: Record<string, string | number>;
}

/** Parses and validates a schedule command (including its targets file) without contacting Temporal. */
export function parseScheduleCommand(rest: string[], values: FlagValues): ScheduleCommand {
  const [sub, positionalId, ...extra] = rest;
  if (sub === undefined) throw new UsageError(`schedule needs a subcommand: ${SCHEDULE_SUBCOMMANDS.join(', ')}`);
  if (!(SCHEDULE_SUBCOMMANDS as readonly string[]).includes(sub)) {
    throw new UsageError(`unknown schedule subcommand "${sub}"; expected one of ${SCHEDULE_SUBCOMMANDS.join(', ')}`);
  }
  if (extra.length > 0) throw new UsageError(`schedule ${sub}: unexpected argument "${extra[0]}"`);
  const subcommand = sub as ScheduleSubcommand;
  if (subcommand === 'list') {
    if (positionalId !== undefined) throw new UsageError('schedule list takes no schedule id');
    return { sub: 'list' };
  }
  const flagId = stringFlag(values, 'schedule-id');
  if (flagId !== undefined && positionalId !== undefined && flagId !== positionalId) {
    throw new UsageError(
      `schedule ${sub}: the schedule id is given twice ("${positionalId}" and --schedule-id "${flagId}")`
    );
  }
  const scheduleId = flagId ?? positionalId;
  if (scheduleId === undefined || scheduleId.trim() === '') {
    throw new UsageError(`schedule ${sub}: --schedule-id (or a SCHEDULE_ID argument) is required`);
  }
  if (!/^[A-Za-z0-9._:\-/]{1,200}$/.test(scheduleId)) {
    throw new UsageError(`--schedule-id "${scheduleId}": use 1 to 200 letters, digits and . _ : - /`);
  }
  const overlap = overlapFlag(values);

  switch (subcommand) {
    case 'create': {
      const when = whenFromFlags(values);
      if (!when) throw new UsageError('schedule create: give --cron EXPR or --interval EVERY[/OFFSET]');
      const targets = stringFlag(values, 'targets');
      if (targets === undefined) throw new UsageError('schedule create: --targets FILE is required');
      return {
        sub: 'create',
        scheduleId,
        spec: {
          ...when,
          ...(stringFlag(values, 'time-zone') !== undefined ? { timezone: timeZoneFlag(values) } : {}),
          ...(stringFlag(values, 'jitter') !== undefined
            ? { jitter: durationFlag('jitter', stringFlag(values, 'jitter')!) }
            : {}),
        },
        input: withOverrides(readTargets(targets), values),
        policies: {
          overlap: overlap ?? DEFAULT_OVERLAP,
          catchupWindowMs: catchupFlag(values) ?? DEFAULT_CATCHUP_WINDOW_MS,
        },
        paused: values.paused === true,
        note: stringFlag(values, 'note'),
        updateIfExists: values['update-if-exists'] === true,
      };
    }
    case 'update': {
      const changes: ScheduleChanges = {};
      const when = whenFromFlags(values);
      if (when) changes.when = when;
      if (stringFlag(values, 'time-zone') !== undefined) changes.timezone = timeZoneFlag(values);
      if (stringFlag(values, 'jitter') !== undefined)
        changes.jitterMs = durationFlag('jitter', stringFlag(values, 'jitter')!);
      if (overlap) changes.overlap = overlap;
      const catchup = catchupFlag(values);
      if (catchup !== undefined) changes.catchupWindowMs = catchup;
      const targets = stringFlag(values, 'targets');
      if (targets !== undefined) changes.input = withOverrides(readTargets(targets), values);
      else {
        const concurrency = concurrencyFlag(values);
        if (concurrency !== undefined) changes.concurrency = concurrency;
        const polling = pollingFromFlags(values);
        if (Object.keys(polling).length > 0) changes.polling = polling;
      }
      if (Object.keys(changes).length === 0)
        throw new UsageError('schedule update: nothing to change; give at least one option');
      return { sub: 'update', scheduleId, changes };
    }
    case 'pause':
    case 'unpause':
      return { sub: subcommand, scheduleId, note: stringFlag(values, 'note') };
    case 'trigger':
      return { sub: 'trigger', scheduleId, overlap };
    case 'backfill': {
      const start = dateFlag(values, 'start');
      const end = dateFlag(values, 'end');
      if (end.getTime() <= start.getTime()) throw new UsageError('--end must be after --start');
      return { sub: 'backfill', scheduleId, start, end, overlap };
    }
    case 'describe':
    case 'delete':
      return { sub: subcommand, scheduleId };
  }
}

function readTargets(file: string): ScheduledExportInput {
  try {
    return loadTargetsFile(file);
  } catch (err) {
    if (err instanceof TargetsFileError) throw new CliError(ExitCode.Usage, 'invalid-targets', err.message);
    throw err;
  }
}

/** Applies `--concurrency` and `--poll-*` to a targets file's input, and validates the result. */
function withOverrides(input: ScheduledExportInput, values: FlagValues): ScheduledExportInput {
  const concurrency = concurrencyFlag(values);
  const polling = pollingFromFlags(values);
  const merged: ScheduledExportInput = {
    ...input,
    ...(concurrency !== undefined ? { concurrency } : {}),
    ...(Object.keys(polling).length > 0 ? { polling: { ...input.polling, ...polling } } : {}),
  };
  return validated(merged);
}

function validated(input: ScheduledExportInput): ScheduledExportInput {
  const parsed = parseScheduledExportInput(input);
  if (!parsed.ok) {
    throw new UsageError(
      parsed.message
        .replace(/input\.polling/g, '--poll-*/--timeout (polling)')
        .replace(/input\.concurrency/g, '--concurrency')
    );
  }
  return input;
}

function concurrencyFlag(values: FlagValues): number | undefined {
  const v = stringFlag(values, 'concurrency');
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new UsageError(`--concurrency "${v}": expected a whole number`);
  return Number(v);
}

function whenFromFlags(values: FlagValues): Pick<ScheduleSpec, 'cronExpressions' | 'intervals'> | undefined {
  const cron = listFlag(values, 'cron').map((expr) => {
    const fields = expr.trim().split(/\s+/);
    if (!expr.trim().startsWith('@') && (fields.length < 5 || fields.length > 7)) {
      throw new UsageError(
        `--cron "${expr}": expected 5 fields (minute hour day-of-month month day-of-week), e.g. "0 2 * * *"`
      );
    }
    return expr.trim();
  });
  const intervals = listFlag(values, 'interval').map((spec) => {
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

function timeZoneFlag(values: FlagValues): string {
  const tz = stringFlag(values, 'time-zone')!;
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
  } catch {
    throw new UsageError(`--time-zone "${tz}": not an IANA time zone (e.g. UTC, Europe/Berlin, America/New_York)`);
  }
  return tz;
}

function overlapFlag(values: FlagValues): OverlapPolicy | undefined {
  const v = stringFlag(values, 'overlap');
  if (v === undefined) return undefined;
  const normalized = v.trim().toUpperCase().replace(/-/g, '_');
  if (!(OVERLAP_POLICIES as readonly string[]).includes(normalized)) {
    throw new UsageError(`--overlap "${v}": expected one of ${OVERLAP_POLICIES.join(', ')}`);
  }
  return normalized as OverlapPolicy;
}

function catchupFlag(values: FlagValues): number | undefined {
  const v = stringFlag(values, 'catchup-window');
  if (v === undefined) return undefined;
  const ms = durationFlag('catchup-window', v);
  if (ms < MIN_CATCHUP_WINDOW_MS) throw new UsageError(`--catchup-window "${v}": Temporal needs at least 10s`);
  return ms;
}

function dateFlag(values: FlagValues, name: string): Date {
  const v = stringFlag(values, name);
  if (v === undefined) throw new UsageError(`schedule backfill: --${name} ISO-8601 time is required`);
  const ms = Date.parse(v);
  if (Number.isNaN(ms)) throw new UsageError(`--${name} "${v}": expected an ISO-8601 time, e.g. 2025-01-31T02:00:00Z`);
  return new Date(ms);
}

// ---- running ----

export async function runScheduleCommand(
  client: Client,
  taskQueue: string,
  command: ScheduleCommand,
  out: Output
): Promise<number> {
  try {
    return await run(client, taskQueue, command, out);
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) {
      throw new CliError(ExitCode.NotFound, 'not-found', `Schedule ${err.scheduleId} does not exist`);
    }
    // The server validates what the client cannot (e.g. cron field ranges); the SDK raises its INVALID_ARGUMENT
    // answers on schedules as TypeError. A usage error, not an outage.
    const grpc = err instanceof ServiceError ? err.cause : err;
    if (err instanceof TypeError || (isGrpcServiceError(grpc) && Number(grpc.code) === GRPC_INVALID_ARGUMENT)) {
      const detail = isGrpcServiceError(grpc) ? grpc.details || grpc.message : (err as Error).message;
      throw new CliError(ExitCode.Usage, 'invalid', `Temporal refused the schedule ${command.sub}: ${detail}`);
    }
    throw err;
  }
}

async function run(client: Client, taskQueue: string, command: ScheduleCommand, out: Output): Promise<number> {
  if (command.sub === 'list') return list(client, out);
  const handle = client.schedule.getHandle(command.scheduleId);
  switch (command.sub) {
    case 'create':
      return create(client, taskQueue, command, out);
    case 'update': {
      await handle.update((prev) => applyChanges(prev, command.changes));
      out.line(`Updated schedule ${command.scheduleId}`);
      out.result({ scheduleId: command.scheduleId, updated: true, schedule: view(await handle.describe()) });
      return ExitCode.Ok;
    }
    case 'describe': {
      const d = await handle.describe();
      out.line(describeText(d));
      out.result(view(d));
      return ExitCode.Ok;
    }
    case 'pause':
    case 'unpause': {
      await handle.describe(); // a clear "does not exist" instead of a server error
      if (command.sub === 'pause') await handle.pause(command.note);
      else await handle.unpause(command.note);
      out.line(`${command.sub === 'pause' ? 'Paused' : 'Unpaused'} schedule ${command.scheduleId}`);
      out.result({ scheduleId: command.scheduleId, paused: command.sub === 'pause' });
      return ExitCode.Ok;
    }
    case 'trigger':
      return trigger(handle, command.overlap, out);
    case 'backfill': {
      await handle.describe();
      await handle.backfill({
        start: command.start,
        end: command.end,
        ...(command.overlap ? { overlap: command.overlap } : {}),
      });
      out.line(
        `Backfill of schedule ${command.scheduleId} requested for ${command.start.toISOString()} – ${command.end.toISOString()}`
      );
      out.result({
        scheduleId: command.scheduleId,
        backfill: { start: command.start, end: command.end, overlap: command.overlap ?? null },
      });
      return ExitCode.Ok;
    }
    case 'delete': {
      await handle.delete();
      out.line(`Deleted schedule ${command.scheduleId}`);
      out.result({ scheduleId: command.scheduleId, deleted: true });
      return ExitCode.Ok;
    }
  }
}

/** The schedule action that starts `scheduledExport` with `input` (also the demo schedule of `npm start`). */
export function scheduledExportAction(
  scheduleId: string,
  taskQueue: string,
  input: ScheduledExportInput
): ScheduleOptionsStartWorkflowAction<Workflow> {
  return {
    type: 'startWorkflow',
    workflowType: SCHEDULED_EXPORT_WORKFLOW,
    args: [input],
    taskQueue,
    workflowId: scheduledRunWorkflowId(scheduleId),
    staticSummary: `Scheduled export of ${input.targets.length} targets (schedule ${scheduleId})`,
  };
}

async function create(
  client: Client,
  taskQueue: string,
  c: Extract<ScheduleCommand, { sub: 'create' }>,
  out: Output
): Promise<number> {
  const action = scheduledExportAction(c.scheduleId, taskQueue, c.input);
  const policies = { overlap: c.policies.overlap, catchupWindow: c.policies.catchupWindowMs, pauseOnFailure: false };
  try {
    const handle = await client.schedule.create({
      scheduleId: c.scheduleId,
      spec: c.spec,
      action,
      policies,
      state: { paused: c.paused, ...(c.note !== undefined ? { note: c.note } : {}) },
    });
    const d = await handle.describe();
    out.line(`Created schedule ${c.scheduleId}\n${describeText(d)}`);
    out.result({ scheduleId: c.scheduleId, created: true, updated: false, schedule: view(d) });
    return ExitCode.Ok;
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
  if (!c.updateIfExists) {
    throw new CliError(
      ExitCode.ScheduleExists,
      'exists',
      `Schedule ${c.scheduleId} already exists; nothing was changed. Use \`schedule update ${c.scheduleId} …\`, or repeat the create with --update-if-exists to replace its spec, policies and targets.`
    );
  }
  const handle = client.schedule.getHandle(c.scheduleId);
  await handle.update((prev) => {
    requireOurs(prev);
    return {
      spec: c.spec,
      action,
      policies,
      state: {
        paused: c.paused || prev.state.paused,
        ...(c.note !== undefined ? { note: c.note } : prev.state.note !== undefined ? { note: prev.state.note } : {}),
      },
    };
  });
  const d = await handle.describe();
  out.line(`Schedule ${c.scheduleId} already existed; updated it\n${describeText(d)}`);
  out.result({ scheduleId: c.scheduleId, created: false, updated: true, schedule: view(d) });
  return ExitCode.Ok;
}

/** Refuses to rewrite a schedule that runs some other workflow. */
function requireOurs(prev: ScheduleDescription): void {
  if (prev.action.workflowType !== SCHEDULED_EXPORT_WORKFLOW) {
    throw new CliError(
      ExitCode.Usage,
      'not-ours',
      `Schedule ${prev.scheduleId} runs ${prev.action.workflowType}, not ${SCHEDULED_EXPORT_WORKFLOW}; nothing was changed`
    );
  }
}

function applyChanges(prev: ScheduleDescription, changes: ScheduleChanges): ScheduleUpdateOptions {
  requireOurs(prev);
  const spec: ScheduleSpec = { ...specOf(prev.spec) };
  if (changes.when) {
    spec.calendars = [];
    spec.cronExpressions = changes.when.cronExpressions ?? [];
    spec.intervals = changes.when.intervals ?? [];
  }
  if (changes.timezone !== undefined) spec.timezone = changes.timezone;
  if (changes.jitterMs !== undefined) spec.jitter = changes.jitterMs;

  let input = changes.input ?? (prev.action.args?.[0] as ScheduledExportInput | undefined);
  if (input === undefined)
    throw new CliError(
      ExitCode.Usage,
      'not-ours',
      `Schedule ${prev.scheduleId} has no scheduledExport input to change`
    );
  if (changes.concurrency !== undefined || changes.polling !== undefined) {
    input = validated({
      ...input,
      ...(changes.concurrency !== undefined ? { concurrency: changes.concurrency } : {}),
      ...(changes.polling !== undefined ? { polling: { ...input.polling, ...changes.polling } } : {}),
    });
  }
  // Keep everything else about the action; search attributes are left as they are (not part of an update).
  const { searchAttributes: _legacy, typedSearchAttributes: _typed, priority: _priority, ...action } = prev.action;
  return {
    spec,
    action: { ...action, args: [input] },
    policies: {
      overlap: changes.overlap ?? prev.policies.overlap,
      catchupWindow: changes.catchupWindowMs ?? prev.policies.catchupWindow,
      pauseOnFailure: prev.policies.pauseOnFailure,
    },
    state: { paused: prev.state.paused, ...(prev.state.note !== undefined ? { note: prev.state.note } : {}) },
  };
}

/** A described spec as a spec to send back (the description's shapes are valid spec shapes). */
function specOf(d: ScheduleSpecDescription): ScheduleSpec {
  return {
    ...(d.calendars ? { calendars: d.calendars } : {}),
    ...(d.intervals ? { intervals: d.intervals } : {}),
    ...(d.skip ? { skip: d.skip } : {}),
    ...(d.startAt ? { startAt: d.startAt } : {}),
    ...(d.endAt ? { endAt: d.endAt } : {}),
    ...(d.jitter !== undefined ? { jitter: d.jitter } : {}),
    ...(d.timezone !== undefined ? { timezone: d.timezone } : {}),
  };
}

async function trigger(handle: ScheduleHandle, overlap: OverlapPolicy | undefined, out: Output): Promise<number> {
  const before = await handle.describe();
  const seen = new Set(before.info.recentActions.map((a) => a.action.workflow.workflowId));
  await handle.trigger(overlap);
  // The schedule acts asynchronously; report the run it started (or that it skipped one) when it shows up.
  let workflowId: string | null = null;
  let skipped = false;
  for (let i = 0; i < 50 && workflowId === null && !skipped; i++) {
    await new Promise((r) => setTimeout(r, 200));
    const d = await handle.describe();
    workflowId = d.info.recentActions.map((a) => a.action.workflow.workflowId).find((id) => !seen.has(id)) ?? null;
    skipped = d.info.numActionsSkippedOverlap > before.info.numActionsSkippedOverlap;
  }
  if (workflowId) out.line(`Triggered schedule ${handle.scheduleId}: started workflow ${workflowId}`);
  else if (skipped)
    out.line(`Triggered schedule ${handle.scheduleId}: skipped by the overlap policy (a run is still going)`);
  else out.line(`Triggered schedule ${handle.scheduleId}; no run recorded yet`);
  out.result({ scheduleId: handle.scheduleId, triggered: true, workflowId, skipped });
  return ExitCode.Ok;
}

async function list(client: Client, out: Output): Promise<number> {
  const rows = [];
  for await (const s of client.schedule.list()) {
    rows.push({
      scheduleId: s.scheduleId,
      workflowType: s.action?.workflowType ?? null,
      paused: s.state.paused,
      note: s.state.note ?? null,
      nextActionTimes: s.info.nextActionTimes.map((t) => t.toISOString()),
      recentActions: s.info.recentActions.map((a) => ({
        workflowId: a.action.workflow.workflowId,
        takenAt: a.takenAt.toISOString(),
      })),
    });
  }
  for (const r of rows) {
    out.line(
      `${r.scheduleId}\t${r.workflowType ?? '-'}\t${r.paused ? 'paused' : 'active'}\tnext ${r.nextActionTimes[0] ?? '-'}`
    );
  }
  if (rows.length === 0) out.line('No schedules');
  out.result({ schedules: rows });
  return ExitCode.Ok;
}

/** The JSON view of a schedule: what `describe --json` prints. */
function view(d: ScheduleDescription) {
  const input = d.action.args?.[0] as ScheduledExportInput | undefined;
  return {
    scheduleId: d.scheduleId,
    workflowType: d.action.workflowType,
    taskQueue: d.action.taskQueue,
    workflowIdPrefix: d.action.workflowId ?? null,
    spec: {
      calendars: (d.spec.calendars ?? []).map(calendarText),
      intervals: (d.spec.intervals ?? []).map((i) => ({ everyMs: i.every, offsetMs: i.offset })),
      timezone: d.spec.timezone || 'UTC',
      jitterMs: d.spec.jitter ?? 0,
    },
    policies: {
      overlap: d.policies.overlap,
      catchupWindowMs: d.policies.catchupWindow,
      pauseOnFailure: d.policies.pauseOnFailure,
    },
    state: { paused: d.state.paused, note: d.state.note ?? null },
    input: input ?? null,
    info: {
      nextActionTimes: d.info.nextActionTimes.map((t) => t.toISOString()),
      numActionsTaken: d.info.numActionsTaken,
      numActionsSkippedOverlap: d.info.numActionsSkippedOverlap,
      numActionsMissedCatchupWindow: d.info.numActionsMissedCatchupWindow,
      recentActions: d.info.recentActions.map((a) => ({
        workflowId: a.action.workflow.workflowId,
        runId: a.action.workflow.firstExecutionRunId,
        scheduledAt: a.scheduledAt.toISOString(),
        takenAt: a.takenAt.toISOString(),
      })),
      runningWorkflowIds: d.info.runningActions.map((a) => a.workflow.workflowId),
    },
  };
}

function describeText(d: ScheduleDescription): string {
  const v = view(d);
  const when = [
    ...v.spec.calendars.map((c) => `calendar "${c}"`),
    ...v.spec.intervals.map((i) => `every ${i.everyMs / 1000}s${i.offsetMs ? ` (offset ${i.offsetMs / 1000}s)` : ''}`),
  ].join(', ');
  const targets = v.input?.targets.length ?? 0;
  return [
    `Schedule ${v.scheduleId}: ${v.workflowType} on task queue ${v.taskQueue}`,
    `  When:     ${when || '-'} in ${v.spec.timezone}${v.spec.jitterMs ? `, jitter ${v.spec.jitterMs / 1000}s` : ''}`,
    `  Policies: overlap ${v.policies.overlap}, catch-up window ${v.policies.catchupWindowMs / 1000}s`,
    `  State:    ${v.state.paused ? 'paused' : 'active'}${v.state.note ? ` (${v.state.note})` : ''}`,
    `  Targets:  ${targets} (concurrency ${v.input?.concurrency ?? 'default'})`,
    `  Next:     ${v.info.nextActionTimes.slice(0, 3).join(', ') || '-'}`,
    `  Recent:   ${v.info.recentActions.map((a) => `${a.workflowId}`).join(', ') || '-'}`,
    `  Running:  ${v.info.runningWorkflowIds.join(', ') || '-'}`,
  ].join('\n');
}

const FULL_RANGES: Record<string, [number | string, number | string]> = {
  second: [0, 59],
  minute: [0, 59],
  hour: [0, 23],
  dayOfMonth: [1, 31],
  month: ['JANUARY', 'DECEMBER'],
  dayOfWeek: ['SUNDAY', 'SATURDAY'],
};

/** A calendar in cron notation (`0 2 * * *`, with seconds first when they are not 0). */
export function calendarText(c: CalendarSpecDescription): string {
  const field = (name: keyof typeof FULL_RANGES, ranges: Range<number | string>[]): string => {
    const [lo, hi] = FULL_RANGES[name]!;
    if (ranges.length === 0) return '*';
    if (ranges.length === 1 && ranges[0]!.start === lo && ranges[0]!.end === hi && ranges[0]!.step <= 1) return '*';
    return ranges
      .map((r) => (r.start === r.end ? String(r.start) : `${r.start}-${r.end}${r.step > 1 ? `/${r.step}` : ''}`))
      .join(',');
  };
  const seconds = field('second', c.second);
  const rest = [
    field('minute', c.minute),
    field('hour', c.hour),
    field('dayOfMonth', c.dayOfMonth),
    field('month', c.month),
    field('dayOfWeek', c.dayOfWeek),
  ].join(' ');
  return seconds === '0' ? rest : `${seconds} ${rest}`;
}

/** `summary WORKFLOW_ID`: the per-target summary of a scheduled run (running or finished). */
export async function commandSummary(client: Client, workflowId: string, out: Output): Promise<number> {
  const handle = client.workflow.getHandle(workflowId);
  const s = await handle.query<ScheduledExportSummary>(SCHEDULED_EXPORT_SUMMARY_QUERY);
  // Failed targets are not the only way a run goes wrong: it may have failed validation, been terminated or
  // timed out. Only a run that completed with no failed target (or is still running without one) is a success.
  const { status } = await handle.describe();
  const c = s.counts;
  out.line(
    `${s.workflowId}: ${c.successful} successful, ${c.failed} failed, ${c.skipped} skipped, ${c.running} running, ${c.pending} pending of ${c.total}${s.finishedAt ? ` (finished ${s.finishedAt})` : ''}`
  );
  for (const t of s.targets) {
    const progress =
      t.exportedCollections !== null && t.totalCollections !== null
        ? ` ${t.exportedCollections}/${t.totalCollections}`
        : '';
    out.line(
      `  [${t.index}] ${t.clusterName} ${t.policy} ${t.state}${progress} snapshot ${t.snapshotId ?? '-'} job ${t.exportJobId ?? '-'}${t.attached ? ' (attached)' : ''}${t.error ? ` ${t.error.type}: ${t.error.message}` : ''}${t.note ? ` — ${t.note}` : ''}`
    );
  }
  out.result(s);
  const healthy = status.name === 'COMPLETED' || status.name === 'RUNNING' || status.name === 'CONTINUED_AS_NEW';
  return c.failed > 0 || !healthy ? ExitCode.ExportNotSuccessful : ExitCode.Ok;
}
