/**
 * Comparison workflows for bench/polling-patterns.ts. Workflow code: deterministic, no clocks or randomness
 * beyond the SDK's; the cadence comes from the product's pure `pollDelayMs`, seeded with the workflow id as the
 * product's `exportSnapshot` does.
 */
import { continueAsNew, defineQuery, proxyActivities, setHandler, sleep, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../../src/activities';
import { TERMINAL_EXPORT_JOB_STATES } from '../../src/shared/atlas/vocabulary';
import type { ExportJobStatus } from '../../src/shared/contract/export-contract';
import { pollDelayMs, type BackoffSettings } from '../../src/shared/polling/backoff';
import type { BenchActivities } from '../activities';

export interface LoopExportInput {
  groupId: string;
  clusterName: string;
  snapshotId: string;
  exportBucketId: string;
  backoff: BackoffSettings;
  /** `startToCloseTimeout` of one status read (timer loop) and of `createExportJob`. */
  attemptTimeoutMs: number;
  /** Continue as new once a run's history has this many events (or when the server suggests it). */
  maxHistoryEvents: number;
  /** Heartbeating loop: the activity's `heartbeatTimeout` and its overall `startToCloseTimeout`. */
  heartbeatTimeoutMs?: number;
  watchTimeoutMs?: number;
}

/** Carried across continue-as-new. */
export interface LoopResume {
  status: ExportJobStatus;
  polls: number;
  continuedAsNew: number;
}

export interface LoopExportResult {
  status: ExportJobStatus;
  polls: number;
  continuedAsNew: number;
}

/** What the workflow knows right now (the bench samples it to see whether progress reaches the workflow). */
export interface BenchProgress {
  state: string | null;
  exportedCollections: number | null;
  totalCollections: number | null;
  polls: number;
  continuedAsNew: number;
}

export const benchProgressQuery = defineQuery<BenchProgress>('benchProgress');

function retryPolicy(backoff: BackoffSettings) {
  return { initialInterval: 1_000, backoffCoefficient: 2, maximumInterval: Math.max(backoff.maximumIntervalMs, 1_000) };
}

function tracker(resume: LoopResume | undefined): {
  progress: BenchProgress;
  see: (status: ExportJobStatus) => void;
} {
  const progress: BenchProgress = {
    state: resume?.status.state ?? null,
    exportedCollections: resume?.status.exportedCollections ?? null,
    totalCollections: resume?.status.totalCollections ?? null,
    polls: resume?.polls ?? 0,
    continuedAsNew: resume?.continuedAsNew ?? 0,
  };
  setHandler(benchProgressQuery, () => progress);
  return {
    progress,
    see: (status) => {
      progress.state = status.state;
      progress.exportedCollections = status.exportedCollections;
      progress.totalCollections = status.totalCollections;
    },
  };
}

async function createJob(input: LoopExportInput): Promise<ExportJobStatus> {
  const { createExportJob } = proxyActivities<Activities>({
    startToCloseTimeout: input.attemptTimeoutMs,
    retry: retryPolicy(input.backoff),
  });
  const created = await createExportJob({
    groupId: input.groupId,
    clusterName: input.clusterName,
    snapshotId: input.snapshotId,
    exportBucketId: input.exportBucketId,
    idempotencyKey: workflowInfo().workflowId,
  });
  return created.status;
}

/**
 * Pattern 2, the workflow timer loop ("periodic sequence"): durable `sleep` for the backoff step, then one
 * `getExportJob` activity per poll; continue-as-new keeps each run's history bounded.
 */
export async function exportTimerLoop(input: LoopExportInput, resume?: LoopResume): Promise<LoopExportResult> {
  const { progress, see } = tracker(resume);
  let status = resume?.status ?? (await createJob(input));
  see(status);
  const { getExportJob } = proxyActivities<Activities>({
    startToCloseTimeout: input.attemptTimeoutMs,
    retry: retryPolicy(input.backoff),
  });
  const seed = workflowInfo().workflowId;
  while (!TERMINAL_EXPORT_JOB_STATES.has(status.state)) {
    const info = workflowInfo();
    if (info.continueAsNewSuggested || info.historyLength >= input.maxHistoryEvents) {
      await continueAsNew<typeof exportTimerLoop>(input, {
        status,
        polls: progress.polls,
        continuedAsNew: progress.continuedAsNew + 1,
      });
    }
    await sleep(pollDelayMs(progress.polls, input.backoff, seed));
    status = await getExportJob({
      groupId: input.groupId,
      clusterName: input.clusterName,
      exportJobId: status.exportJobId,
    });
    progress.polls += 1;
    see(status);
  }
  return { status, polls: progress.polls, continuedAsNew: progress.continuedAsNew };
}

/**
 * Pattern 3, the heartbeating loop: one long activity polls with the same backoff, heartbeating its progress;
 * the workflow learns the result only when the activity completes.
 */
export async function exportHeartbeatLoop(input: LoopExportInput): Promise<LoopExportResult> {
  const { progress, see } = tracker(undefined);
  let status = await createJob(input);
  see(status);
  const heartbeatTimeoutMs = input.heartbeatTimeoutMs ?? 120_000;
  const { watchExportJob } = proxyActivities<BenchActivities>({
    startToCloseTimeout: input.watchTimeoutMs ?? 48 * 3_600_000,
    heartbeatTimeout: heartbeatTimeoutMs,
    retry: retryPolicy(input.backoff),
  });
  const watched = await watchExportJob({
    groupId: input.groupId,
    clusterName: input.clusterName,
    exportJobId: status.exportJobId,
    known: status,
    backoff: input.backoff,
    jitterSeed: workflowInfo().workflowId,
    heartbeatEveryMs: Math.max(1, Math.floor(heartbeatTimeoutMs / 2)),
  });
  status = watched.status;
  progress.polls = watched.polls;
  see(status);
  return { status, polls: watched.polls, continuedAsNew: 0 };
}
