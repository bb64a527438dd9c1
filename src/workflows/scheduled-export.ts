import {
  ActivityFailure,
  ApplicationFailure,
  ChildWorkflowCancellationType,
  ParentClosePolicy,
  TimeoutFailure,
  WorkflowIdReusePolicy,
  allHandlersFinished,
  condition,
  continueAsNew,
  isCancellation,
  log,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import { RetryState, WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { OBSERVE_OVERDUE_GRACE_MS } from '../shared/workflow-observation';
import { MAX_DURATION_MS } from '../shared/durations';
import type { Activities } from '../activities';
import { atlasProjectPacing } from '../shared/atlas-rate-limit';
import type { ExportCompletion, ExportSnapshotInput } from '../shared/export-contract';
import { completionFromFailure, summarizeFailure, type FailureSummary } from '../shared/failure-summary';
import { FailureType } from '../shared/failure-types';
import {
  countTargets,
  parseScheduledExportInput,
  policyKind,
  type ExportTargetParams,
  type ScheduledExportInput,
  type ScheduledExportParams,
  type ScheduledExportSummary,
  type TargetSummary,
} from '../shared/scheduled-export-contract';
import { exportWorkflowId } from '../shared/workflow-ids';
import { exportSnapshot } from './export-snapshot';
import { exportStaticDetails, exportStaticSummary } from '../shared/ui-text';
import { iso, workflowNow } from './clock';
import { exportCompletedSignal, summaryQuery } from './messages';

/** What a run hands to the next one when it continues as new: the finished targets, in input order. */
export interface ScheduledExportResumeState {
  finished: TargetSummary[];
  startedAt: string;
  continuedAsNew: number;
}

/** Snapshot lookups are quick; past this, retryable Atlas errors (5xx, 429) fail the target instead. */
const RESOLVE_TIMEOUT_MS = 30 * 60_000;
/** Longest wait between looks at an export workflow this run attaches to (a describe, not an Atlas call). */
const OBSERVE_MAXIMUM_INTERVAL_MS = 180_000;

/**
 * Exports a fleet of targets, as a Temporal Schedule starts it every night: resolves each target's snapshot
 * (`latest`, `on-demand` or an explicit id), then exports it with one child `exportSnapshot`, at most
 * `concurrency` targets at a time. Child workflow ids come from (group, cluster, snapshot, bucket), so a re-run
 * or an overlapping run never exports a snapshot twice: it observes the existing export instead. Children
 * signal `exportCompleted` back. One failed target neither hides nor cancels the others; when any failed, the
 * workflow fails after all finished with `ScheduledExportFailed`, whose details are the summary.
 *
 * @param resume internal: the state carried across continue-as-new; callers never pass it.
 */
export async function scheduledExport(
  input: ScheduledExportInput,
  resume?: ScheduledExportResumeState
): Promise<ScheduledExportSummary> {
  const info = workflowInfo();
  const targets: TargetSummary[] = [...(resume?.finished ?? [])];
  const startedAt = resume?.startedAt ?? iso(info.runStartTime.getTime());
  const continuedAsNew = resume?.continuedAsNew ?? 0;
  let concurrency = 0;
  let finishedAt: string | null = null;
  const summary = (): ScheduledExportSummary => ({
    workflowId: info.workflowId,
    startedAt,
    finishedAt,
    concurrency,
    continuedAsNew,
    counts: countTargets(targets),
    targets,
  });
  setHandler(summaryQuery, summary);

  // Children report through `exportCompleted`; the signal lands before the child's own completion event.
  const byChild = new Map<string, TargetSummary>();
  const signalled = new Map<string, ExportCompletion>();
  setHandler(exportCompletedSignal, (completion) => {
    signalled.set(completion.workflowId, completion);
    const target = byChild.get(completion.workflowId);
    if (target) recordCompletion(target, completion);
  });

  const parsed = parseScheduledExportInput(input);
  if (!parsed.ok) {
    throw ApplicationFailure.create({
      type: FailureType.InvalidScheduledExportInput,
      message: `Invalid scheduledExport input, nothing was started: ${parsed.message}`,
      nonRetryable: true,
    });
  }
  const params = parsed.value;
  concurrency = params.concurrency;
  const offset = targets.length;
  const work = params.targets.map((target, i) => ({ target, summary: newTarget(offset + i, target) }));
  targets.push(...work.map((w) => w.summary));
  details(summary());

  const exporter = new TargetExporter(params, input, info.workflowId, byChild, signalled);
  let next = 0;
  let inFlight = 0;
  const running: Promise<void>[] = [];
  try {
    while (next < work.length) {
      await condition(() => inFlight < params.concurrency);
      // Every run exports at least one target, so a tiny limit still makes progress.
      if (next > 0 && historyFull(params.maxHistoryEvents)) break;
      const item = work[next++]!;
      inFlight++;
      running.push(
        exporter.run(item.target, item.summary).finally(() => {
          inFlight--;
          details(summary());
        })
      );
    }
  } catch (err) {
    if (!isCancellation(err)) throw err;
    exporter.cancellation ??= err;
  }
  await Promise.all(running);

  if (exporter.cancellation !== null) {
    // Cancelled: the run ends cancelled. Exports already running keep going (Atlas cannot stop them) and were
    // reported Abandoned; targets that had not started are Cancelled.
    for (const w of work) if (w.summary.state === 'Pending') finish(w.summary, 'Cancelled', null);
    finishedAt = iso(workflowNow());
    details(summary());
    throw exporter.cancellation as Error;
  }

  if (next < work.length) {
    // Drained: every child of this run has finished, so nothing is left waiting on this run's history.
    await condition(allHandlersFinished);
    log.info('Continuing as new to keep the history bounded', { finished: targets.length - (work.length - next) });
    await continueAsNew<typeof scheduledExport>(
      { ...input, targets: input.targets.slice(next) },
      { finished: targets.slice(0, offset + next), startedAt, continuedAsNew: continuedAsNew + 1 }
    );
  }

  finishedAt = iso(workflowNow());
  const result = summary();
  details(result);
  const failed = targets.filter((t) => t.state === 'Failed');
  if (failed.length > 0) {
    const list = failed
      .map(
        (t) => `[${t.index}] ${t.clusterName} (snapshot ${t.snapshotId ?? '-'}): ${t.error?.type}: ${t.error?.message}`
      )
      .join('; ');
    throw ApplicationFailure.create({
      type: FailureType.ScheduledExportFailed,
      message: `${failed.length} of ${targets.length} export targets failed (the others finished): ${list}`.slice(
        0,
        4000
      ),
      nonRetryable: true,
      details: [result],
    });
  }
  return result;
}

function historyFull(maxHistoryEvents: number): boolean {
  const current = workflowInfo();
  return current.continueAsNewSuggested || current.historyLength >= maxHistoryEvents;
}

function newTarget(index: number, target: ExportTargetParams): TargetSummary {
  return {
    index,
    groupId: target.groupId,
    clusterName: target.clusterName,
    exportBucketId: target.exportBucketId,
    policy: policyKind(target.snapshot),
    state: 'Pending',
    snapshotId: typeof target.snapshot === 'object' ? target.snapshot.snapshotId : null,
    childWorkflowId: null,
    attached: false,
    exportJobId: null,
    jobState: null,
    exportedCollections: null,
    totalCollections: null,
    error: null,
    note: null,
    finishedAt: null,
  };
}

function recordCompletion(t: TargetSummary, c: ExportCompletion): void {
  t.exportJobId = c.exportJobId;
  t.jobState = c.state;
  t.exportedCollections = c.exportedCollections;
  t.totalCollections = c.totalCollections;
}

function finish(
  t: TargetSummary,
  state: 'Successful' | 'Failed' | 'Skipped' | 'Abandoned' | 'Cancelled',
  error: FailureSummary | null
): void {
  t.state = state;
  t.error = error;
  t.finishedAt = iso(workflowNow());
}

/** Runs targets: resolve the snapshot, then export it through a child (or observe the existing export). */
class TargetExporter {
  /** The first cancellation a target saw: the run was cancelled. */
  cancellation: unknown = null;

  constructor(
    private readonly params: ScheduledExportParams,
    private readonly rawInput: ScheduledExportInput,
    private readonly parentWorkflowId: string,
    private readonly byChild: Map<string, TargetSummary>,
    private readonly signalled: Map<string, ExportCompletion>
  ) {}

  /**
   * `atlasProject`: the Atlas project the activity calls, paced with the project's exports
   * ({@link atlasProjectPacing}); absent for activities that do not call Atlas.
   */
  private activities(
    summary: string,
    atlasProject: string | undefined,
    scheduleToCloseTimeout = RESOLVE_TIMEOUT_MS,
    maximumIntervalMs?: number
  ) {
    return proxyActivities<Activities>({
      summary,
      ...(atlasProject !== undefined ? atlasProjectPacing(atlasProject) : {}),
      startToCloseTimeout: this.params.polling.attemptTimeoutMs,
      scheduleToCloseTimeout,
      retry: {
        initialInterval: 1_000,
        backoffCoefficient: 2,
        maximumInterval: Math.max(maximumIntervalMs ?? this.params.polling.maximumIntervalMs, 1_000),
      },
    });
  }

  /** Never throws: whatever goes wrong ends up in the target's summary. */
  async run(target: ExportTargetParams, t: TargetSummary): Promise<void> {
    try {
      const snapshotId = await this.resolveSnapshot(target, t);
      if (snapshotId === null) return;
      await this.export(target, t, snapshotId);
    } catch (err) {
      if (isCancellation(err)) {
        this.cancelled(t, err);
        return;
      }
      if (t.state === 'WaitingForSnapshot' && isActivityDeadline(err)) {
        finish(t, 'Failed', {
          type: FailureType.SnapshotDeadlineExceeded,
          message: `Snapshot ${t.snapshotId} was not completed within ${this.params.onDemand.timeoutMs} ms`,
        });
      } else {
        finish(t, 'Failed', summarizeFailure(err));
      }
      log.warn('Export target failed', { index: t.index, clusterName: t.clusterName, error: t.error });
    }
  }

  /** The snapshot to export, or null when the target is finished already (skipped or failed). */
  private async resolveSnapshot(target: ExportTargetParams, t: TargetSummary): Promise<string | null> {
    const { groupId, clusterName, exportBucketId } = target;
    if (typeof target.snapshot === 'object') return target.snapshot.snapshotId;

    if (target.snapshot === 'latest') {
      t.state = 'ResolvingSnapshot';
      const found = await this.activities(
        `Find latest snapshot of ${clusterName}`,
        groupId
      ).findLatestExportableSnapshot({
        groupId,
        clusterName,
        exportBucketId,
      });
      if (!found.snapshot) {
        finish(t, 'Failed', {
          type: FailureType.NoExportableSnapshot,
          message: `Cluster ${clusterName} in project ${groupId} has no completed snapshot to export`,
        });
        return null;
      }
      const snapshotId = found.snapshot.snapshotId;
      t.snapshotId = snapshotId;
      // A job this service tagged with the same child id is ours: the child path adopts or observes it.
      const own = exportWorkflowId({ groupId, clusterName, snapshotId, exportBucketId });
      const other = found.existingExports.find((e) => e.taggedWorkflowId !== own);
      if (other) {
        t.exportJobId = other.exportJobId;
        t.jobState = other.state;
        t.note = `snapshot ${snapshotId} is already exported to this bucket by export job ${other.exportJobId} (${other.state}${other.taggedWorkflowId ? `, workflow ${other.taggedWorkflowId}` : ', not started by this service'})`;
        finish(t, 'Skipped', null);
        return null;
      }
      return snapshotId;
    }

    t.state = 'TakingSnapshot';
    const taken = await this.activities(`Take on-demand snapshot of ${clusterName}`, groupId).takeSnapshot({
      groupId,
      clusterName,
      description: `atlas-export-orchestrator ${this.parentWorkflowId}`.slice(0, 255),
      retentionInDays: this.params.onDemand.retentionInDays,
    });
    const snapshotId = taken.snapshot.snapshotId;
    t.snapshotId = snapshotId;
    if (taken.adopted) t.note = `adopted the cluster's unfinished on-demand snapshot ${snapshotId}`;
    if (taken.snapshot.status !== 'completed') {
      t.state = 'WaitingForSnapshot';
      const od = this.params.onDemand;
      await this.activities(
        `Wait for snapshot ${snapshotId} of ${clusterName}`,
        groupId,
        od.timeoutMs,
        od.maximumIntervalMs
      ).awaitSnapshotCompleted({
        groupId,
        clusterName,
        snapshotId,
        ...(taken.snapshot.clusterKind ? { clusterKind: taken.snapshot.clusterKind } : {}),
        backoff: od,
        firstReadDelayMs: od.initialIntervalMs,
        jitterSeed: `${this.parentWorkflowId}:${snapshotId}`,
      });
    }
    return snapshotId;
  }

  private async export(target: ExportTargetParams, t: TargetSummary, snapshotId: string): Promise<void> {
    const { groupId, clusterName, exportBucketId } = target;
    const childId = exportWorkflowId({ groupId, clusterName, snapshotId, exportBucketId });
    t.snapshotId = snapshotId;
    t.childWorkflowId = childId;
    t.state = 'Exporting';
    this.byChild.set(childId, t);
    const childInput: ExportSnapshotInput = {
      groupId,
      clusterName,
      snapshotId,
      exportBucketId,
      ...(target.customData ? { customData: target.customData } : {}),
      notify: { workflowId: this.parentWorkflowId },
      ...(this.rawInput.polling ? { polling: this.rawInput.polling } : {}),
    };
    let child;
    try {
      child = await startChild(exportSnapshot, {
        workflowId: childId,
        args: [childInput],
        // An Atlas export cannot be cancelled: it must stay tracked (and signal) whatever happens to this run.
        parentClosePolicy: ParentClosePolicy.ABANDON,
        cancellationType: ChildWorkflowCancellationType.ABANDON,
        // Like the CLI: a finished success is never redone; a failed, cancelled or terminated one may be.
        workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
        staticSummary: exportStaticSummary(childInput),
        staticDetails: exportStaticDetails(childInput, `scheduled export \`${this.parentWorkflowId}\``),
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      await this.observe(t, childId);
      return;
    }
    try {
      const completion = await child.result();
      recordCompletion(t, this.signalled.get(childId) ?? completion);
      finish(t, completion.state === 'Successful' ? 'Successful' : 'Failed', null);
    } catch (err) {
      const completion = this.signalled.get(childId) ?? completionFromFailure(err);
      if (completion) recordCompletion(t, completion);
      if (isCancellation(err)) this.cancelled(t, err);
      else finish(t, 'Failed', summarizeFailure(err));
    } finally {
      this.byChild.delete(childId);
      this.signalled.delete(childId);
    }
  }

  /** The run was cancelled while this target ran: an export that had started keeps running (Abandoned). */
  private cancelled(t: TargetSummary, err: unknown): void {
    this.cancellation ??= err;
    if (t.state === 'Exporting') {
      t.note =
        `this run was cancelled; export workflow ${t.childWorkflowId} keeps running (abandoned: Atlas cannot stop ` +
        'an export) and the next run attaches to it';
      finish(t, 'Abandoned', null);
    } else {
      t.note = 'this run was cancelled before the target exported';
      finish(t, 'Cancelled', null);
    }
  }

  /** The export workflow exists already (running, or finished successfully): wait for it instead of a second one. */
  private async observe(t: TargetSummary, childId: string): Promise<void> {
    t.attached = true;
    t.note = 'the export workflow already existed (an earlier or overlapping run, or another caller); observed it';
    this.byChild.delete(childId);
    const polling = this.params.polling;
    // Bounded by the observed run's own deadline (the activity reads it), not by this run's polling settings.
    const observed = await this.activities(
      `Observe existing export ${childId}`,
      undefined,
      MAX_DURATION_MS + OBSERVE_OVERDUE_GRACE_MS
    ).observeExportWorkflow({
      workflowId: childId,
      fallbackTimeoutMs: polling.timeoutMs,
      // Describing a workflow costs no Atlas call: keep its cap at the old 3 min even when the cadence's is longer.
      backoff: { ...polling, maximumIntervalMs: Math.min(polling.maximumIntervalMs, OBSERVE_MAXIMUM_INTERVAL_MS) },
      jitterSeed: `${this.parentWorkflowId}:${childId}`,
    });
    if (observed.completion) recordCompletion(t, observed.completion);
    if (observed.failure) finish(t, 'Failed', observed.failure);
    else if (observed.completion?.state === 'Successful') finish(t, 'Successful', null);
    else finish(t, 'Failed', { type: observed.status, message: `Export workflow ${childId} ended ${observed.status}` });
  }
}

function isActivityDeadline(err: unknown): boolean {
  return (
    err instanceof ActivityFailure && (err.retryState === RetryState.TIMEOUT || err.cause instanceof TimeoutFailure)
  );
}

function details(s: ScheduledExportSummary): void {
  const c = s.counts;
  const lines = s.targets
    .filter((t) => t.state !== 'Pending')
    .slice(-50)
    .map(
      (t) =>
        `- [${t.index}] \`${t.clusterName}\` ${t.state}${t.snapshotId ? ` snapshot \`${t.snapshotId}\`` : ''}${t.error ? `: ${t.error.type}` : ''}`
    );
  setCurrentDetails(
    [
      `**${c.successful} successful, ${c.failed} failed, ${c.skipped} skipped, ${c.running} running, ${c.pending} pending** of ${c.total} targets (concurrency ${s.concurrency})`,
      '',
      ...lines,
    ].join('\n')
  );
}
