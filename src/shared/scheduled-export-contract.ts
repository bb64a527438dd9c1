import { z } from 'zod';
import { atlasIdSchema, clusterNameSchema } from './atlas-vocabulary';
import { durationSchema } from './durations';
import { customDataSchema, describeIssues, maximumAtLeastInitial, pollingInputSchema } from './export-contract';

/**
 * The public contract of the `scheduledExport` workflow, which a Temporal Schedule starts: a list of export
 * targets, each with a snapshot policy, exported by one child `exportSnapshot` each. Names here are stable API
 * (schedules store this input). Inputs carry identifiers only, never a credential.
 */

export const SCHEDULED_EXPORT_WORKFLOW = 'scheduledExport';
/** Name of the query that returns the per-target summary while the workflow runs. */
export const SCHEDULED_EXPORT_SUMMARY_QUERY = 'summary';

/**
 * Default number of targets in flight at once. Each in-flight export costs a status read every 30 s to 3 min;
 * ten keep a project far below the Atlas budget of 100 requests per minute even with snapshot reads on top.
 */
export const DEFAULT_EXPORT_CONCURRENCY = 10;
export const MAX_EXPORT_CONCURRENCY = 50;
/** More targets than this belong in several schedules (the input is stored with the schedule and every run). */
export const MAX_SCHEDULED_TARGETS = 1000;
/** A run continues as new after this many history events (the server may suggest it earlier). */
export const DEFAULT_SCHEDULED_MAX_HISTORY_EVENTS = 2_000;

/** On-demand snapshots: 2–9 min measured on small clusters, hours on large ones. */
export const DEFAULT_ON_DEMAND = {
  retentionInDays: 1,
  initialIntervalMs: 30_000,
  maximumIntervalMs: 120_000,
  backoffCoefficient: 1.5,
  timeoutMs: 6 * 3600_000,
} as const;

const POLICY_MESSAGE = 'must be "latest", "on-demand" or { snapshotId: <24-hex Atlas id> }';

/**
 * Which snapshot a target exports:
 * - `latest`: the newest `completed` snapshot; skipped when it is already exported (or being exported) to the
 *   bucket by someone else's job;
 * - `on-demand`: a snapshot taken for this run (or the cluster's unfinished on-demand snapshot, which Atlas
 *   allows only one of), exported once it is `completed`;
 * - `{ snapshotId }`: that snapshot.
 */
export const snapshotPolicySchema = z.union(
  [z.literal('latest'), z.literal('on-demand'), z.strictObject({ snapshotId: atlasIdSchema })],
  { error: POLICY_MESSAGE }
);
export type SnapshotPolicy = z.output<typeof snapshotPolicySchema>;

export const exportTargetSchema = z.strictObject({
  groupId: atlasIdSchema,
  clusterName: clusterNameSchema,
  exportBucketId: atlasIdSchema,
  customData: customDataSchema.optional(),
  /** Default `latest`. */
  snapshot: snapshotPolicySchema.default('latest'),
});
/** One target as callers write it. */
export type ExportTarget = z.input<typeof exportTargetSchema>;
/** One target after validation (`snapshot` filled in). */
export type ExportTargetParams = z.output<typeof exportTargetSchema>;

const onDemandSchema = z
  .strictObject({
    /** Days Atlas keeps the snapshot (default 1: long enough to export it). */
    retentionInDays: z.number().int().min(1, 'must be at least 1').max(365, 'must be at most 365').optional(),
    /** First status read after taking the snapshot. */
    initialInterval: durationSchema.optional(),
    /** Cap of the status-read backoff. */
    maximumInterval: durationSchema.optional(),
    backoffCoefficient: z.number().min(1, 'must be at least 1').max(10, 'must be at most 10').optional(),
    /** Give up on a snapshot that is not `completed` this long after it was taken. */
    timeout: durationSchema.optional(),
  })
  .transform((o) => ({
    retentionInDays: o.retentionInDays ?? DEFAULT_ON_DEMAND.retentionInDays,
    initialIntervalMs: o.initialInterval ?? DEFAULT_ON_DEMAND.initialIntervalMs,
    maximumIntervalMs: o.maximumInterval ?? Math.max(DEFAULT_ON_DEMAND.maximumIntervalMs, o.initialInterval ?? 0),
    backoffCoefficient: o.backoffCoefficient ?? DEFAULT_ON_DEMAND.backoffCoefficient,
    timeoutMs: o.timeout ?? DEFAULT_ON_DEMAND.timeoutMs,
  }))
  .refine(...maximumAtLeastInitial);
export type OnDemandSettings = z.output<typeof onDemandSchema>;

/** The key that makes two targets the same export request. */
function targetKey(t: ExportTargetParams): string {
  const policy = typeof t.snapshot === 'string' ? t.snapshot : t.snapshot.snapshotId;
  return `${t.groupId}/${t.clusterName}/${t.exportBucketId}/${policy}`;
}

export const scheduledExportInputSchema = z
  .strictObject({
    targets: z
      .array(exportTargetSchema)
      .min(1, 'must list at least one target')
      .max(MAX_SCHEDULED_TARGETS, `must list at most ${MAX_SCHEDULED_TARGETS} targets; split them over schedules`),
    /** Targets in flight at once (snapshot wait and export); default 10. */
    concurrency: z
      .number()
      .int('must be an integer')
      .min(1, 'must be at least 1')
      .max(MAX_EXPORT_CONCURRENCY, `must be at most ${MAX_EXPORT_CONCURRENCY}`)
      .optional(),
    /** Polling settings of every child `exportSnapshot` (see its contract); also the cadence of observing one. */
    polling: pollingInputSchema.optional(),
    /** How on-demand snapshots are taken and waited for. */
    onDemand: onDemandSchema.optional(),
    /** Continue as new once a run's history has this many events. */
    maxHistoryEvents: z.number().int().min(20, 'must be at least 20').max(40_000, 'must be at most 40000').optional(),
  })
  .superRefine((input, ctx) => {
    const seen = new Map<string, number>();
    input.targets.forEach((t, i) => {
      const key = targetKey(t);
      const first = seen.get(key);
      if (first === undefined) seen.set(key, i);
      else ctx.addIssue({ code: 'custom', path: ['targets', i], message: `repeats targets[${first}]` });
    });
  });
/** What a schedule (or any caller) passes to `scheduledExport`. */
export type ScheduledExportInput = z.input<typeof scheduledExportInputSchema>;
type ParsedInput = z.output<typeof scheduledExportInputSchema>;
/** The input after validation and defaults. */
export type ScheduledExportParams = Omit<ParsedInput, 'polling' | 'onDemand' | 'concurrency' | 'maxHistoryEvents'> & {
  concurrency: number;
  maxHistoryEvents: number;
  polling: z.output<typeof pollingInputSchema>;
  onDemand: OnDemandSettings;
};

export function parseScheduledExportInput(
  raw: unknown
): { ok: true; value: ScheduledExportParams } | { ok: false; message: string; issues: z.core.$ZodIssue[] } {
  const parsed = scheduledExportInputSchema.safeParse(raw);
  if (!parsed.success) {
    return { ok: false, message: describeIssues(parsed.error.issues), issues: parsed.error.issues };
  }
  return {
    ok: true,
    value: {
      ...parsed.data,
      concurrency: parsed.data.concurrency ?? DEFAULT_EXPORT_CONCURRENCY,
      maxHistoryEvents: parsed.data.maxHistoryEvents ?? DEFAULT_SCHEDULED_MAX_HISTORY_EVENTS,
      polling: parsed.data.polling ?? pollingInputSchema.parse({}),
      onDemand: parsed.data.onDemand ?? onDemandSchema.parse({}),
    },
  };
}

/** `latest`, `on-demand` or `snapshotId`. */
export type SnapshotPolicyKind = 'latest' | 'on-demand' | 'snapshotId';
export function policyKind(policy: SnapshotPolicy): SnapshotPolicyKind {
  return typeof policy === 'string' ? policy : 'snapshotId';
}

/**
 * Where a target is:
 * `Pending` → (`ResolvingSnapshot` | `TakingSnapshot` → `WaitingForSnapshot`) → `Exporting` →
 * `Successful` | `Failed`; or `Skipped` (its snapshot is already exported to the bucket by another job).
 */
export type TargetState =
  | 'Pending'
  | 'ResolvingSnapshot'
  | 'TakingSnapshot'
  | 'WaitingForSnapshot'
  | 'Exporting'
  | 'Successful'
  | 'Failed'
  | 'Skipped';

export const FINISHED_TARGET_STATES: ReadonlySet<TargetState> = new Set(['Successful', 'Failed', 'Skipped']);

/** One target in the `summary` query and the result. */
export interface TargetSummary {
  /** Position in the input's `targets` (stable across continue-as-new). */
  index: number;
  groupId: string;
  clusterName: string;
  exportBucketId: string;
  policy: SnapshotPolicyKind;
  state: TargetState;
  /** The snapshot exported (or chosen), once known. */
  snapshotId: string | null;
  /** The `exportSnapshot` workflow that exports it (started by this run, or observed when `attached`). */
  childWorkflowId: string | null;
  /** True when that workflow already existed (an earlier or overlapping run, or another caller) and was observed. */
  attached: boolean;
  exportJobId: string | null;
  /** Atlas export job state, once known. */
  jobState: string | null;
  exportedCollections: number | null;
  totalCollections: number | null;
  /** Why the target failed: the failure type (e.g. `ExportFailed`, `CLUSTER_NOT_FOUND`) and message. */
  error: { type: string; message: string } | null;
  /** What else is worth knowing, e.g. why it was skipped. */
  note: string | null;
  finishedAt: string | null;
}

/** What the `summary` query and the workflow's result (or its failure's details) hold. */
export interface ScheduledExportSummary {
  workflowId: string;
  startedAt: string;
  finishedAt: string | null;
  concurrency: number;
  /** Runs this workflow continued as new to keep its history bounded. */
  continuedAsNew: number;
  counts: {
    total: number;
    pending: number;
    running: number;
    successful: number;
    failed: number;
    skipped: number;
  };
  targets: TargetSummary[];
}

export function countTargets(targets: readonly TargetSummary[]): ScheduledExportSummary['counts'] {
  const counts = { total: targets.length, pending: 0, running: 0, successful: 0, failed: 0, skipped: 0 };
  for (const t of targets) {
    if (t.state === 'Pending') counts.pending++;
    else if (t.state === 'Successful') counts.successful++;
    else if (t.state === 'Failed') counts.failed++;
    else if (t.state === 'Skipped') counts.skipped++;
    else counts.running++;
  }
  return counts;
}
