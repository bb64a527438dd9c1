import {
  ScheduleAlreadyRunning,
  ScheduleOverlapPolicy,
  type CalendarSpecDescription,
  type Client,
  type Range,
  type ScheduleDescription,
  type ScheduleOptionsStartWorkflowAction,
  type ScheduleSpec,
  type ScheduleSpecDescription,
  type ScheduleUpdateOptions,
  type Workflow,
} from '@temporalio/client';
import {
  parseScheduledExportInput,
  SCHEDULED_EXPORT_WORKFLOW,
  type ScheduledExportInput,
} from '../shared/contract/scheduled-export-contract';
import { scheduledRunWorkflowId } from '../shared/contract/workflow-ids';
import { InvalidScheduledExportInputError, NotAScheduledExportError, ScheduleExistsError } from './errors';

/**
 * Temporal Schedules of `scheduledExport`: create (idempotently), change, describe, trigger and list them. The
 * starter CLI's `schedule …` commands are thin over these; services use them the same way.
 */

/** Explicit defaults (Temporal's own catch-up default is a year: a worker outage would replay every missed night). */
export const DEFAULT_OVERLAP = ScheduleOverlapPolicy.SKIP;
export const DEFAULT_CATCHUP_WINDOW_MS = 3600_000;
export const MIN_CATCHUP_WINDOW_MS = 10_000;
export const OVERLAP_POLICIES = [
  'SKIP',
  'BUFFER_ONE',
  'BUFFER_ALL',
  'CANCEL_OTHER',
  'TERMINATE_OTHER',
  'ALLOW_ALL',
] as const;
export type OverlapPolicy = (typeof OVERLAP_POLICIES)[number];

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

export interface CreateScheduledExportOptions {
  scheduleId: string;
  taskQueue: string;
  spec: ScheduleSpec;
  input: ScheduledExportInput;
  overlap?: OverlapPolicy;
  catchupWindowMs?: number;
  paused?: boolean;
  note?: string | undefined;
  /** When the schedule exists: replace its spec, policies and targets instead of throwing `ScheduleExistsError`. */
  updateIfExists?: boolean;
}

/**
 * Creates the schedule; when it exists, replaces it (`updateIfExists`) or throws `ScheduleExistsError`.
 * Returns whether it was created and its description afterwards.
 */
export async function createScheduledExport(
  client: Client,
  o: CreateScheduledExportOptions
): Promise<{ created: boolean; description: ScheduleDescription }> {
  const action = scheduledExportAction(o.scheduleId, o.taskQueue, validated(o.input));
  const policies = {
    overlap: o.overlap ?? DEFAULT_OVERLAP,
    catchupWindow: o.catchupWindowMs ?? DEFAULT_CATCHUP_WINDOW_MS,
    pauseOnFailure: false,
  };
  const paused = o.paused === true;
  try {
    const handle = await client.schedule.create({
      scheduleId: o.scheduleId,
      spec: o.spec,
      action,
      policies,
      state: { paused, ...(o.note !== undefined ? { note: o.note } : {}) },
    });
    return { created: true, description: await handle.describe() };
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
  if (o.updateIfExists !== true) throw new ScheduleExistsError(o.scheduleId);
  const handle = client.schedule.getHandle(o.scheduleId);
  await handle.update((prev) => {
    requireOurs(prev);
    const note = o.note ?? prev.state.note;
    const state = { paused: paused || prev.state.paused, ...(note !== undefined ? { note } : {}) };
    return { spec: o.spec, action, policies, state };
  });
  return { created: false, description: await handle.describe() };
}

/** What `updateScheduledExport` changes; absent fields keep their current value. */
export interface ScheduleChanges {
  when?: Pick<ScheduleSpec, 'cronExpressions' | 'intervals'>;
  timezone?: string;
  jitterMs?: number;
  overlap?: OverlapPolicy;
  catchupWindowMs?: number;
  /** Replaces the whole input (targets and settings). */
  input?: ScheduledExportInput;
  concurrency?: number;
  /** Merged into the current input's `polling`. */
  polling?: Record<string, string | number>;
}

/** Changes only what `changes` names; throws `NotAScheduledExportError` for a schedule of another workflow. */
export async function updateScheduledExport(
  client: Client,
  scheduleId: string,
  changes: ScheduleChanges
): Promise<ScheduleDescription> {
  const handle = client.schedule.getHandle(scheduleId);
  await handle.update((prev) => applyChanges(prev, changes));
  return handle.describe();
}

/** Validates a scheduled export's input, throwing `InvalidScheduledExportInputError` naming each bad field. */
export function validated(input: ScheduledExportInput): ScheduledExportInput {
  const parsed = parseScheduledExportInput(input);
  if (!parsed.ok) throw new InvalidScheduledExportInputError(parsed.message);
  return input;
}

/** Refuses to rewrite a schedule that runs some other workflow. */
function requireOurs(prev: ScheduleDescription): void {
  if (prev.action.workflowType !== SCHEDULED_EXPORT_WORKFLOW) {
    throw new NotAScheduledExportError(
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
    throw new NotAScheduledExportError(`Schedule ${prev.scheduleId} has no scheduledExport input to change`);
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

/**
 * Triggers a run now and reports the run it started, or that the overlap policy skipped it (the schedule acts
 * asynchronously: this watches its recent actions for up to ten seconds).
 */
export async function triggerScheduledExport(
  client: Client,
  scheduleId: string,
  overlap?: OverlapPolicy
): Promise<{ workflowId: string | null; skipped: boolean }> {
  const handle = client.schedule.getHandle(scheduleId);
  const before = await handle.describe();
  const seen = new Set(before.info.recentActions.map((a) => a.action.workflow.workflowId));
  await handle.trigger(overlap);
  let workflowId: string | null = null;
  let skipped = false;
  for (let i = 0; i < 50 && workflowId === null && !skipped; i++) {
    await new Promise((r) => setTimeout(r, 200));
    const d = await handle.describe();
    workflowId = d.info.recentActions.map((a) => a.action.workflow.workflowId).find((id) => !seen.has(id)) ?? null;
    skipped = d.info.numActionsSkippedOverlap > before.info.numActionsSkippedOverlap;
  }
  return { workflowId, skipped };
}

/** One schedule of the namespace, as `listScheduledExports` reports it. */
export interface ListedSchedule {
  scheduleId: string;
  workflowType: string | null;
  paused: boolean;
  note: string | null;
  nextActionTimes: string[];
  recentActions: { workflowId: string; takenAt: string }[];
}

/** Every schedule of the namespace (those of other workflows too: `workflowType` tells them apart). */
export async function listScheduledExports(client: Client): Promise<ListedSchedule[]> {
  const rows: ListedSchedule[] = [];
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
  return rows;
}

/** A schedule described as plain JSON (what `schedule describe --json` prints). */
export function scheduleView(d: ScheduleDescription) {
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
export type ScheduleView = ReturnType<typeof scheduleView>;

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
