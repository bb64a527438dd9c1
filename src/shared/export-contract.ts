import { z } from 'zod';
import { durationSchema } from './durations';
import { atlasIdSchema, clusterNameSchema } from './atlas-vocabulary';

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
/** `customData` key this service adds to every job it creates, valued with the workflow id (idempotency tag). */
export const IDEMPOTENCY_TAG_KEY = 'atlas-export-orchestrator:workflow-id';
/** `customData` key valued with the workflow's first run id: tells this run's own job from earlier runs' jobs. */
export const RUN_TAG_KEY = 'atlas-export-orchestrator:run-id';

/** Defaults fit real exports: 12–35 min on small clusters (up to 21 min of it queued), hours on large ones. */
export const DEFAULT_POLLING = {
  initialIntervalMs: 30_000,
  maximumIntervalMs: 180_000,
  backoffCoefficient: 1.5,
  timeoutMs: 48 * 3600_000,
  reportIntervalMs: 300_000,
  attemptTimeoutMs: 60_000,
  maxHistoryEvents: 2_000,
} as const;

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

export const pollingInputSchema = z
  .strictObject({
    /** First wait after creating the job. */
    initialInterval: durationSchema.optional(),
    /** Cap of the backoff; also the most detection lag a poll cadence can add. */
    maximumInterval: durationSchema.optional(),
    backoffCoefficient: z.number().min(1, 'must be at least 1').max(10, 'must be at most 10').optional(),
    /** Give up waiting (the Atlas job itself keeps running) after this long from the workflow's start. */
    timeout: durationSchema.optional(),
    /** Progress that changed without a state change reaches the workflow at most this often. */
    reportInterval: durationSchema.optional(),
    /** Limit for one status read attempt, including its retries' network waits. */
    attemptTimeout: durationSchema.optional(),
    /** Continue as new once a run's history has this many events (the server may suggest it earlier). */
    maxHistoryEvents: z.number().int().min(20, 'must be at least 20').max(40_000, 'must be at most 40000').optional(),
  })
  .transform((p) => ({
    initialIntervalMs: p.initialInterval ?? DEFAULT_POLLING.initialIntervalMs,
    maximumIntervalMs: p.maximumInterval ?? Math.max(DEFAULT_POLLING.maximumIntervalMs, p.initialInterval ?? 0),
    backoffCoefficient: p.backoffCoefficient ?? DEFAULT_POLLING.backoffCoefficient,
    timeoutMs: p.timeout ?? DEFAULT_POLLING.timeoutMs,
    reportIntervalMs: p.reportInterval ?? DEFAULT_POLLING.reportIntervalMs,
    attemptTimeoutMs: p.attemptTimeout ?? DEFAULT_POLLING.attemptTimeoutMs,
    maxHistoryEvents: p.maxHistoryEvents ?? DEFAULT_POLLING.maxHistoryEvents,
  }))
  .refine(...maximumAtLeastInitial);
export type PollingSettings = z.output<typeof pollingInputSchema>;

export const exportSnapshotInputSchema = z.strictObject({
  groupId: atlasIdSchema,
  clusterName: clusterNameSchema,
  snapshotId: atlasIdSchema,
  exportBucketId: atlasIdSchema,
  customData: customDataSchema.optional(),
  notify: z.strictObject({ workflowId: z.string().min(1, 'must not be empty').max(1000) }).optional(),
  polling: pollingInputSchema.optional(),
});
/** What callers pass to `exportSnapshot`. */
export type ExportSnapshotInput = z.input<typeof exportSnapshotInputSchema>;
/** The input after validation and defaults. */
export type ExportSnapshotParams = Omit<z.output<typeof exportSnapshotInputSchema>, 'polling'> & {
  polling: PollingSettings;
};

export function parseExportSnapshotInput(
  raw: unknown
): { ok: true; value: ExportSnapshotParams } | { ok: false; message: string } {
  const parsed = exportSnapshotInputSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, message: describeIssues(parsed.error.issues) };
  const polling = parsed.data.polling ?? pollingInputSchema.parse({});
  return { ok: true, value: { ...parsed.data, polling } };
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

/** Export job progress as the workflow, its query, signal and result report it. */
export interface ExportJobStatus {
  exportJobId: string;
  /** Atlas state: `Queued`, `InProgress`, `Successful`, `Failed`, `Cancelled`, or any newer value Atlas sends. */
  state: string;
  exportedCollections: number | null;
  totalCollections: number | null;
  /** Sharded clusters: one entry per shard and config server replica set. */
  components: { exportId: string | null; replicaSetName: string | null }[];
  stateReason: { errorCode: string | null; message: string | null } | null;
  createdAt: string | null;
  finishedAt: string | null;
  prefix: string | null;
}

/** Payload of the `exportCompleted` signal and the workflow's result. */
export interface ExportCompletion {
  workflowId: string;
  groupId: string;
  clusterName: string;
  snapshotId: string;
  exportBucketId: string;
  /** Null only when the job could not be created (`state: 'CreateFailed'`). */
  exportJobId: string | null;
  /** The Atlas terminal state; the last seen state when the deadline passed; `CreateFailed` when no job was made. */
  state: string;
  exportedCollections: number | null;
  totalCollections: number | null;
  components: ExportJobStatus['components'];
  stateReason: ExportJobStatus['stateReason'];
  prefix: string | null;
  /** When the workflow started (ISO 8601). */
  startedAt: string;
  /** When the job reached its terminal state per Atlas, else when the workflow stopped waiting. */
  finishedAt: string;
  /** True when the terminal state came from Atlas; false when the workflow stopped waiting (deadline). */
  terminal: boolean;
}

/** What the `progress` query returns. */
export interface ExportProgress {
  phase: 'validating' | 'creating' | 'polling' | 'notifying' | 'done';
  exportJobId: string | null;
  state: string | null;
  exportedCollections: number | null;
  totalCollections: number | null;
  components: ExportJobStatus['components'];
  /** Status reads made so far (all runs of this workflow, across continue-as-new). */
  polls: number;
  startedAt: string;
  /** When the workflow last learned something new from Atlas. */
  lastUpdateAt: string | null;
  deadlineAt: string;
  finishedAt: string | null;
  /** How many times this workflow continued as new to keep its history bounded. */
  continuedAsNew: number;
  notify: { workflowId: string; delivered: boolean | null; error: string | null } | null;
}
