import { z } from 'zod';
import { durationSchema } from './durations';
import { atlasIdSchema, clusterNameSchema } from '../atlas/vocabulary';
import { ADAPTIVE_DEFAULTS, type PollCadence, type PollMode } from '../polling/poll-cadence';
import type { ExportIds } from './workflow-ids';

export type { CadenceReport } from '../polling/poll-cadence';

/**
 * The public contract of the `exportSnapshot` workflow: its input, result and completion signal. Other
 * services start the workflow by name with this input, so names here are stable API. Inputs carry
 * identifiers only, never a credential.
 */

export const EXPORT_SNAPSHOT_WORKFLOW = 'exportSnapshot';
export const DEFAULT_TASK_QUEUE = 'atlas-exports';
/** Name of the `progress` query of `exportSnapshot` (for clients that do not load workflow code). */
export const EXPORT_PROGRESS_QUERY = 'progress';
/** Name of the signal `exportSnapshot` sends to `notify.workflowId` when it ends. */
export const EXPORT_COMPLETED_SIGNAL = 'exportCompleted';
/**
 * Name of the signal the webhook receiver sends to a project's running `exportSnapshot` runs when Atlas posts an
 * export-end alert (`CPS_EXPORT_SUCCESSFUL`/`CPS_EXPORT_FAILED`) for the project: a hint, never trusted as a
 * state. The run ends its current wait and confirms with one status read.
 */
export const ATLAS_EVENT_HINT_SIGNAL = 'atlasEventHint';

/** What an {@link ATLAS_EVENT_HINT_SIGNAL} carries: which alert woke the run (no secret, no job id: Atlas gives none). */
export interface AtlasEventHint {
  eventTypeName: string;
  alertId: string;
}
/** `customData` key this service adds to every job it creates, valued with the workflow id (idempotency tag). */
export const IDEMPOTENCY_TAG_KEY = 'atlas-export-orchestrator:workflow-id';
/** `customData` key valued with the workflow's first run id: tells this run's own job from earlier runs' jobs. */
export const RUN_TAG_KEY = 'atlas-export-orchestrator:run-id';

/** Defaults of every polling mode; each mode has its own interval defaults (see `pollingInputSchema`). */
export const DEFAULT_POLLING = {
  timeoutMs: 48 * 3600_000,
  reportIntervalMs: 300_000,
  attemptTimeoutMs: 60_000,
  maxHistoryEvents: 2_000,
} as const;

/** `mode: 'exponential'` defaults: 30 s, ×1.5, up to 3 min (the only cadence before modes existed). */
export const DEFAULT_EXPONENTIAL = {
  initialIntervalMs: 30_000,
  maximumIntervalMs: 180_000,
  backoffCoefficient: 1.5,
} as const;
/** `mode: 'fixed'` default: a read a minute (as Temporal's polling sample). */
export const DEFAULT_FIXED_INTERVAL_MS = 60_000;

/** `customData` labels of an export job, written by Atlas to the bucket's `.complete` file. */
export const customDataSchema = z
  .array(
    z.strictObject({
      key: z.string().min(1, 'must not be empty').max(255, 'must be at most 255 characters'),
      value: z.string().max(255, 'must be at most 255 characters'),
    })
  )
  .max(50, 'at most 50 labels')
  .refine((items) => items.every((i) => i.key !== IDEMPOTENCY_TAG_KEY && i.key !== RUN_TAG_KEY), {
    message: `the keys "${IDEMPOTENCY_TAG_KEY}" and "${RUN_TAG_KEY}" are reserved for the idempotency tags`,
  });

/** Backoff settings must not cap below their start; shared by every backoff a caller configures. */
export const maximumAtLeastInitial: [
  check: (b: { initialIntervalMs: number; maximumIntervalMs: number }) => boolean,
  issue: { message: string; path: PropertyKey[] },
] = [
  (b) => b.maximumIntervalMs >= b.initialIntervalMs,
  { message: 'maximumInterval must be at least initialInterval', path: ['maximumInterval'] },
];

const POLLING_MODES = ['adaptive', 'fixed', 'exponential'] as const;
/** Which interval fields each mode reads; any other interval field is an error that names it. */
const MODE_FIELDS = {
  adaptive: ['minimumInterval', 'maximumInterval', 'queuedInterval', 'inProgressFloor'],
  fixed: ['initialInterval', 'interval'],
  exponential: ['initialInterval', 'maximumInterval', 'backoffCoefficient'],
} as const satisfies Record<PollMode, readonly string[]>;
const INTERVAL_FIELDS = [...new Set(Object.values(MODE_FIELDS).flat())];

const pollingFieldsSchema = z.strictObject({
  /**
   * `adaptive` (default): reads sparsely while the finish is far and finely near it, from the state, the
   * collection count and the cluster's past exports. `fixed`: one interval (after an optional first one).
   * `exponential`: `initialInterval` × `backoffCoefficient`ⁿ up to `maximumInterval`. Without `mode`, an
   * object that sets `initialInterval` or `backoffCoefficient` (the shape from before modes) is exponential.
   */
  mode: z.enum(POLLING_MODES, { error: `must be one of ${POLLING_MODES.join(', ')}` }).nullish(),
  /** fixed: the first wait (default `interval`); exponential: the first wait (default 30 s). */
  initialInterval: durationSchema.nullish(),
  /** fixed: the wait between reads (default 60 s). */
  interval: durationSchema.nullish(),
  /** adaptive (default 10 min) and exponential (default 3 min): no wait is longer; the most lag a cadence adds. */
  maximumInterval: durationSchema.nullish(),
  /** exponential: growth per read (default 1.5). */
  backoffCoefficient: z.number().min(1, 'must be at least 1').max(10, 'must be at most 10').nullish(),
  /** adaptive: the finest step, near the estimated finish (default 10 s). */
  minimumInterval: durationSchema.nullish(),
  /** adaptive: the step while `Queued` (default 60 s); it bounds how well the finish can be predicted. */
  queuedInterval: durationSchema.nullish(),
  /** adaptive: `InProgress` lasts at least this long (default 10 min, Atlas's fixed overhead). */
  inProgressFloor: durationSchema.nullish(),
  /**
   * Atlas ms per worker ms, for simulators that run faster than real time (default 1): the cadence's
   * intervals above are on Atlas's clock and divided by it. `timeout`, `reportInterval` and `attemptTimeout`
   * are on the worker's clock and are not scaled.
   */
  timeScale: z.number().positive('must be positive').max(1_000_000, 'must be at most 1000000').nullish(),
  /** Give up waiting (the Atlas job itself keeps running) after this long from the workflow's start. */
  timeout: durationSchema.nullish(),
  /** Progress that changed without a state change reaches the workflow at most this often. */
  reportInterval: durationSchema.nullish(),
  /** Limit for one status read attempt, including its retries' network waits. */
  attemptTimeout: durationSchema.nullish(),
  /** Continue as new once a run's history has this many events (the server may suggest it earlier). */
  maxHistoryEvents: z.number().int().min(20, 'must be at least 20').max(40_000, 'must be at most 40000').nullish(),
  /**
   * Stall alarm (off unless set): when neither the job's state nor its collection count moved for this long
   * (worker clock), the export is flagged stalled (search attribute `AtlasExportStalled`, metric, log). It counts
   * the progress the workflow saw, so set it well above the cadence's maximum interval (10 min adaptive).
   */
  stallAfter: durationSchema.nullish(),
  /** With `stallAfter`: fail the workflow with `ExportStalled` instead of only flagging it (default false). */
  failOnStall: z.boolean().nullish(),
});
type PollingFields = z.output<typeof pollingFieldsSchema>;

export const pollingInputSchema = pollingFieldsSchema
  .superRefine((p, ctx) => {
    if (p.failOnStall && (p.stallAfter === null || p.stallAfter === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['failOnStall'], message: 'needs stallAfter (how long without progress)' });
    }
    const mode = pollingModeOf(p);
    const allowed: readonly string[] = MODE_FIELDS[mode];
    for (const field of INTERVAL_FIELDS) {
      if (p[field] === null || p[field] === undefined || allowed.includes(field)) continue;
      const modes = POLLING_MODES.filter((m) => (MODE_FIELDS[m] as readonly string[]).includes(field));
      ctx.addIssue({
        code: 'custom',
        path: [field],
        message: `is not a setting of mode "${mode}"${p.mode ? '' : ' (the default)'}; it belongs to mode ${modes.map((m) => `"${m}"`).join(' or ')}`,
      });
    }
    const maximumIntervalMs = p.maximumInterval;
    if (mode === 'adaptive' && (maximumIntervalMs ?? Infinity) < (p.minimumInterval ?? 0)) {
      ctx.addIssue({ code: 'custom', path: ['maximumInterval'], message: 'must be at least minimumInterval' });
    }
    if (mode === 'exponential' && typeof maximumIntervalMs === 'number') {
      const [check, issue] = maximumAtLeastInitial;
      const initialIntervalMs = p.initialInterval ?? DEFAULT_EXPONENTIAL.initialIntervalMs;
      if (!check({ initialIntervalMs, maximumIntervalMs })) ctx.addIssue({ code: 'custom', ...issue });
    }
  })
  .transform((p) => {
    const timeScale = p.timeScale ?? 1;
    const cadence = cadenceOf(p, timeScale);
    // Flat worker-clock settings, for the activity retry cap and for code that only knows a backoff.
    const worker = (atlasMs: number) => Math.max(1, Math.round(atlasMs / timeScale));
    const backoff =
      cadence.mode === 'exponential'
        ? cadence
        : cadence.mode === 'fixed'
          ? {
              initialIntervalMs: cadence.initialIntervalMs,
              maximumIntervalMs: Math.max(cadence.initialIntervalMs, cadence.intervalMs),
              backoffCoefficient: 1,
            }
          : {
              initialIntervalMs: Math.min(DEFAULT_EXPONENTIAL.initialIntervalMs, cadence.maximumIntervalMs),
              maximumIntervalMs: cadence.maximumIntervalMs,
              backoffCoefficient: DEFAULT_EXPONENTIAL.backoffCoefficient,
            };
    return {
      mode: cadence.mode,
      cadence,
      initialIntervalMs: worker(backoff.initialIntervalMs),
      maximumIntervalMs: worker(backoff.maximumIntervalMs),
      backoffCoefficient: backoff.backoffCoefficient,
      timeoutMs: p.timeout ?? DEFAULT_POLLING.timeoutMs,
      reportIntervalMs: p.reportInterval ?? DEFAULT_POLLING.reportIntervalMs,
      attemptTimeoutMs: p.attemptTimeout ?? DEFAULT_POLLING.attemptTimeoutMs,
      maxHistoryEvents: p.maxHistoryEvents ?? DEFAULT_POLLING.maxHistoryEvents,
      stallAfterMs: p.stallAfter ?? null,
      failOnStall: p.failOnStall ?? false,
    };
  });
/**
 * Polling after validation. `cadence` is what the polling activity follows (Atlas-clock durations); the flat
 * interval fields are its worker-clock equivalent as a plain backoff (`maximumIntervalMs` is the longest wait).
 */
export type PollingSettings = z.output<typeof pollingInputSchema>;

function pollingModeOf(p: PollingFields): PollMode {
  if (p.mode) return p.mode;
  return typeof p.initialInterval === 'number' || typeof p.backoffCoefficient === 'number' ? 'exponential' : 'adaptive';
}

function cadenceOf(p: PollingFields, timeScale: number): PollCadence {
  const mode = pollingModeOf(p);
  if (mode === 'fixed') {
    const intervalMs = p.interval ?? DEFAULT_FIXED_INTERVAL_MS;
    return { mode, initialIntervalMs: p.initialInterval ?? intervalMs, intervalMs, timeScale };
  }
  if (mode === 'exponential') {
    return {
      mode,
      initialIntervalMs: p.initialInterval ?? DEFAULT_EXPONENTIAL.initialIntervalMs,
      maximumIntervalMs: p.maximumInterval ?? Math.max(DEFAULT_EXPONENTIAL.maximumIntervalMs, p.initialInterval ?? 0),
      backoffCoefficient: p.backoffCoefficient ?? DEFAULT_EXPONENTIAL.backoffCoefficient,
      timeScale,
    };
  }
  return {
    mode,
    minimumIntervalMs: p.minimumInterval ?? ADAPTIVE_DEFAULTS.minimumIntervalMs,
    maximumIntervalMs: p.maximumInterval ?? ADAPTIVE_DEFAULTS.maximumIntervalMs,
    queuedIntervalMs: p.queuedInterval ?? ADAPTIVE_DEFAULTS.queuedIntervalMs,
    inProgressFloorMs: p.inProgressFloor ?? ADAPTIVE_DEFAULTS.inProgressFloorMs,
    timeScale,
  };
}

/** What an export does when the snapshot was already exported to the bucket by a `Successful` job of anyone. */
export const IF_ALREADY_EXPORTED = ['reuse', 'export-again'] as const;
export type IfAlreadyExported = (typeof IF_ALREADY_EXPORTED)[number];

export const exportSnapshotInputSchema = z.strictObject({
  groupId: atlasIdSchema,
  clusterName: clusterNameSchema,
  snapshotId: atlasIdSchema,
  exportBucketId: atlasIdSchema,
  /** Labels Atlas writes to the bucket's `.complete` file. `null` is the same as absent (as for every optional field). */
  customData: customDataSchema.nullish(),
  /** The workflow that receives the `exportCompleted` signal, whatever the outcome. */
  notify: z.strictObject({ workflowId: z.string().min(1, 'must not be empty').max(1000) }).nullish(),
  polling: pollingInputSchema.nullish(),
  /**
   * `reuse` (default): when a `Successful` job already exported this snapshot to this bucket (for any caller),
   * report it (`attached: true`) instead of exporting again. `export-again`: export anyway. An active job of the
   * snapshot and bucket (`Queued`, `InProgress`) is always followed, never doubled: Atlas runs one at a time.
   */
  ifAlreadyExported: z
    .enum(IF_ALREADY_EXPORTED, { error: `must be one of ${IF_ALREADY_EXPORTED.join(', ')}` })
    .nullish(),
});
/** What callers pass to `exportSnapshot`. */
export type ExportSnapshotInput = z.input<typeof exportSnapshotInputSchema>;
/** The input after validation and defaults: the export's ids ({@link ExportIds}) and its settings. */
export type ExportSnapshotParams = ExportIds &
  Omit<
    z.output<typeof exportSnapshotInputSchema>,
    keyof ExportIds | 'polling' | 'customData' | 'notify' | 'ifAlreadyExported'
  > & {
    customData: z.output<typeof customDataSchema> | undefined;
    notify: { workflowId: string } | undefined;
    polling: PollingSettings;
    ifAlreadyExported: IfAlreadyExported;
  };

/** Validates with defaults filled in; `null` optional fields become absent. */
export function toExportSnapshotParams(
  raw: unknown
): { ok: true; value: ExportSnapshotParams } | { ok: false; issues: z.core.$ZodIssue[] } {
  const parsed = exportSnapshotInputSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, issues: parsed.error.issues };
  const { customData, notify, polling, ifAlreadyExported, ...ids } = parsed.data;
  return {
    ok: true,
    value: {
      ...ids,
      customData: customData ?? undefined,
      notify: notify ?? undefined,
      polling: polling ?? pollingInputSchema.parse({}),
      ifAlreadyExported: ifAlreadyExported ?? 'reuse',
    },
  };
}

/**
 * Lowest values the polling settings accept. Intervals are on Atlas's clock, so a simulator still polls faster
 * through `timeScale`; `attemptTimeout` and `reportInterval` are on the worker's clock.
 */
export const POLLING_FLOORS_MS = {
  initialInterval: 1_000,
  interval: 1_000,
  maximumInterval: 1_000,
  minimumInterval: 1_000,
  queuedInterval: 1_000,
  inProgressFloor: 1_000,
  timeout: 1_000,
  reportInterval: 1_000,
  attemptTimeout: 1_000,
  stallAfter: 1_000,
} as const;

/**
 * The polling settings below {@link POLLING_FLOORS_MS}, as `path: message` issues (`root` names the input). Kept
 * apart from the schema because workflows recorded before the floors existed must replay as they ran.
 */
export function pollingFloorIssues(polling: unknown, root: string): string[] {
  const parsed = pollingFieldsSchema.safeParse(polling);
  if (!parsed.success) return [];
  const issues: string[] = [];
  for (const [field, floorMs] of Object.entries(POLLING_FLOORS_MS) as [keyof typeof POLLING_FLOORS_MS, number][]) {
    const ms = parsed.data[field];
    if (typeof ms === 'number' && ms < floorMs) {
      issues.push(`${root}.${field}: must be at least ${floorMs / 1000}s (got ${ms} ms)`);
    }
  }
  return issues;
}

export function parseExportSnapshotInput(
  raw: unknown
): { ok: true; value: ExportSnapshotParams } | { ok: false; message: string } {
  const parsed = toExportSnapshotParams(raw);
  if (!parsed.ok) return { ok: false, message: describeIssues(parsed.issues) };
  const floors = pollingFloorIssues((raw as { polling?: unknown }).polling, 'input.polling');
  if (floors.length > 0) return { ok: false, message: floors.join('; ') };
  return parsed;
}

/** Formats zod issues as `field.path: message; …` so every message names the field it is about. */
export function describeIssues(issues: readonly z.core.$ZodIssue[], root = 'input'): string {
  return issues
    .map((i) => {
      const path = i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
      return `${root}${path}: ${i.message}`;
    })
    .join('; ');
}

export {
  EXPORT_REPORTS_VERSION,
  exportCompletionSchema,
  exportJobStatusSchema,
  exportProgressSchema,
  type ExportCompletion,
  type ExportJobStatus,
  type ExportProgress,
} from './export-reports';
