import { z } from 'zod';
import { atlasIdSchema, clusterNameSchema } from '../atlas/vocabulary';
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
  customData: customDataSchema.nullish(),
  /** Default `latest`. */
  snapshot: snapshotPolicySchema.nullish().transform((p): SnapshotPolicy => p ?? 'latest'),
});
/** One target as callers write it. */
export type ExportTarget = z.input<typeof exportTargetSchema>;
/** One target after validation (`snapshot` filled in). */
export type ExportTargetParams = z.output<typeof exportTargetSchema>;

const onDemandSchema = z
  .strictObject({
    /** Days Atlas keeps the snapshot (default 1: long enough to export it). */
    retentionInDays: z.number().int().min(1, 'must be at least 1').max(365, 'must be at most 365').nullish(),
    /** First status read after taking the snapshot. */
    initialInterval: durationSchema.nullish(),
    /** Cap of the status-read backoff. */
    maximumInterval: durationSchema.nullish(),
    backoffCoefficient: z.number().min(1, 'must be at least 1').max(10, 'must be at most 10').nullish(),
    /** Give up on a snapshot that is not `completed` this long after it was taken. */
    timeout: durationSchema.nullish(),
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
      .nullish(),
    /** Polling settings of every child `exportSnapshot` (see its contract); also the cadence of observing one. */
    polling: pollingInputSchema.nullish(),
    /** How on-demand snapshots are taken and waited for. */
    onDemand: onDemandSchema.nullish(),
    /** Continue as new once a run's history has this many events. */
    maxHistoryEvents: z.number().int().min(20, 'must be at least 20').max(40_000, 'must be at most 40000').nullish(),
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
 * `Successful` | `Failed`; or `Skipped` (its snapshot is already exported to the bucket by another job). When the
 * run is cancelled: `Abandoned` (its export workflow keeps running and exporting) or `Cancelled` (not exporting).
 */
export const TARGET_STATES = [
  'Pending',
  'ResolvingSnapshot',
  'TakingSnapshot',
  'WaitingForSnapshot',
  'Exporting',
  'Successful',
  'Failed',
  'Skipped',
  'Abandoned',
  'Cancelled',
] as const;
export type TargetState = (typeof TARGET_STATES)[number];

export const FINISHED_TARGET_STATES: ReadonlySet<TargetState> = new Set([
  'Successful',
  'Failed',
  'Skipped',
  'Abandoned',
  'Cancelled',
]);

/** One target in the `summary` query and the result. */
export const targetSummarySchema = z.object({
  index: z.number().int().describe("Position in the input's targets (stable across continue-as-new)"),
  groupId: z.string(),
  clusterName: z.string(),
  exportBucketId: z.string(),
  policy: z.enum(['latest', 'on-demand', 'snapshotId']),
  state: z.enum(TARGET_STATES),
  snapshotId: z.string().nullable().describe('The snapshot exported (or chosen), once known'),
  childWorkflowId: z
    .string()
    .nullable()
    .describe('The exportSnapshot workflow that exports it (started by this run, or observed when attached)'),
  attached: z
    .boolean()
    .describe('True when that workflow already existed (an earlier or overlapping run, or another caller)'),
  exportJobId: z.string().nullable(),
  jobState: z.string().nullable().describe('Atlas export job state, once known'),
  exportedCollections: z.number().int().nullable(),
  totalCollections: z.number().int().nullable(),
  error: z
    .object({ type: z.string(), message: z.string() })
    .nullable()
    .describe('Why the target failed: the failure type (e.g. ExportFailed, CLUSTER_NOT_FOUND) and message'),
  note: z.string().nullable().describe('What else is worth knowing, e.g. why it was skipped'),
  finishedAt: z.string().nullable(),
});
export type TargetSummary = z.infer<typeof targetSummarySchema>;

/** What the `summary` query and the workflow's result (or its failure's details) hold. */
export const scheduledExportSummarySchema = z
  .object({
    workflowId: z.string(),
    startedAt: z.string(),
    finishedAt: z.string().nullable(),
    concurrency: z.number().int(),
    continuedAsNew: z.number().int().describe('Runs this workflow continued as new to keep its history bounded'),
    counts: z.object({
      total: z.number().int(),
      pending: z.number().int(),
      running: z.number().int(),
      successful: z.number().int(),
      failed: z.number().int(),
      skipped: z.number().int(),
      abandoned: z.number().int().describe('Run cancelled while the target exported: its export keeps running'),
      cancelled: z.number().int().describe('Run cancelled before the target exported'),
    }),
    targets: z.array(targetSummarySchema),
  })
  .meta({ title: 'ScheduledExportSummary', description: 'The summary query and the scheduledExport result' });
export type ScheduledExportSummary = z.infer<typeof scheduledExportSummarySchema>;

export function countTargets(targets: readonly TargetSummary[]): ScheduledExportSummary['counts'] {
  const counts = {
    total: targets.length,
    pending: 0,
    running: 0,
    successful: 0,
    failed: 0,
    skipped: 0,
    abandoned: 0,
    cancelled: 0,
  };
  for (const t of targets) {
    if (t.state === 'Pending') counts.pending++;
    else if (t.state === 'Successful') counts.successful++;
    else if (t.state === 'Failed') counts.failed++;
    else if (t.state === 'Skipped') counts.skipped++;
    else if (t.state === 'Abandoned') counts.abandoned++;
    else if (t.state === 'Cancelled') counts.cancelled++;
    else counts.running++;
  }
  return counts;
}
