import {
  ChildWorkflowCancellationType,
  ParentClosePolicy,
  WorkflowIdReusePolicy,
  isCancellation,
  log,
  proxyActivities,
  startChild,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { Activities } from '../activities';
import { atlasProjectPacing } from '../shared/atlas/rate-limit';
import { MAX_DURATION_MS } from '../shared/contract/durations';
import type { ExportCompletion, ExportSnapshotInput } from '../shared/contract/export-contract';
import { completionFromFailure, summarizeFailure, type FailureSummary } from '../shared/observability/failure-summary';
import { FailureType } from '../shared/contract/failure-types';
import {
  policyKind,
  type ExportTargetParams,
  type ScheduledExportInput,
  type ScheduledExportParams,
  type TargetSummary,
} from '../shared/contract/scheduled-export-contract';
import { exportStaticDetails, exportStaticSummary } from '../shared/observability/ui-text';
import { exportWorkflowId } from '../shared/contract/workflow-ids';
import { OBSERVE_OVERDUE_GRACE_MS } from '../shared/polling/workflow-observation';
import { iso, workflowNow } from './clock';
import { exportSnapshot } from './export-snapshot';
import { isPastDeadline } from './run-limits';

/** Snapshot lookups are quick; past this, retryable Atlas errors (5xx, 429) fail the target instead. */
const RESOLVE_TIMEOUT_MS = 30 * 60_000;
/** Longest wait between looks at an export workflow this run attaches to (a describe, not an Atlas call). */
const OBSERVE_MAXIMUM_INTERVAL_MS = 180_000;

type FinishedState = 'Successful' | 'Failed' | 'Skipped' | 'Abandoned' | 'Cancelled';

/** A target's summary before it started. */
export function newTarget(index: number, target: ExportTargetParams): TargetSummary {
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

export function finishTarget(t: TargetSummary, state: FinishedState, error: FailureSummary | null): void {
  t.state = state;
  t.error = error;
  t.finishedAt = iso(workflowNow());
}

function recordCompletion(t: TargetSummary, c: ExportCompletion): void {
  t.exportJobId = c.exportJobId;
  t.jobState = c.state;
  t.exportedCollections = c.exportedCollections;
  t.totalCollections = c.totalCollections;
}

/**
 * The children's `exportCompleted` signals, which land before the child's own completion event: each fills in
 * the summary of the target the child exports, and is kept until the child's result is read.
 */
export class ChildReports {
  private readonly byChild = new Map<string, TargetSummary>();
  private readonly signalled = new Map<string, ExportCompletion>();

  /** The signal handler. */
  received(completion: ExportCompletion): void {
    this.signalled.set(completion.workflowId, completion);
    const target = this.byChild.get(completion.workflowId);
    if (target) recordCompletion(target, completion);
  }

  /** `childId` exports `t`: its signal fills in `t`. */
  expect(childId: string, t: TargetSummary): void {
    this.byChild.set(childId, t);
  }

  /** What `childId` signalled, if it did. */
  signalOf(childId: string): ExportCompletion | undefined {
    return this.signalled.get(childId);
  }

  /** `childId` is no longer this run's child: a later signal of it changes nothing. */
  forget(childId: string, { keepSignal = false } = {}): void {
    this.byChild.delete(childId);
    if (!keepSignal) this.signalled.delete(childId);
  }
}

/** Runs targets: resolve the snapshot, then export it through a child (or observe the existing export). */
export class TargetExporter {
  /** The first cancellation a target saw: the run was cancelled. */
  cancellation: unknown = null;
  private readonly params: ScheduledExportParams;
  private readonly rawInput: ScheduledExportInput;
  private readonly parentWorkflowId: string;
  private readonly children: ChildReports;

  constructor(deps: {
    params: ScheduledExportParams;
    rawInput: ScheduledExportInput;
    parentWorkflowId: string;
    children: ChildReports;
  }) {
    this.params = deps.params;
    this.rawInput = deps.rawInput;
    this.parentWorkflowId = deps.parentWorkflowId;
    this.children = deps.children;
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
      if (t.state === 'WaitingForSnapshot' && isPastDeadline(err)) {
        finishTarget(t, 'Failed', {
          type: FailureType.SnapshotDeadlineExceeded,
          message: `Snapshot ${t.snapshotId} was not completed within ${this.params.onDemand.timeoutMs} ms`,
        });
      } else {
        finishTarget(t, 'Failed', summarizeFailure(err));
      }
      log.warn('Export target failed', { index: t.index, clusterName: t.clusterName, error: t.error });
    }
  }

  /**
   * Activity options. `atlasProject`: the Atlas project the activity calls, paced with the project's exports
   * ({@link atlasProjectPacing}); absent for activities that do not call Atlas.
   */
  private activities({
    summary,
    atlasProject,
    scheduleToCloseTimeoutMs = RESOLVE_TIMEOUT_MS,
    maximumIntervalMs = this.params.polling.maximumIntervalMs,
  }: {
    summary: string;
    atlasProject?: string;
    scheduleToCloseTimeoutMs?: number;
    maximumIntervalMs?: number;
  }) {
    return proxyActivities<Activities>({
      summary,
      ...(atlasProject !== undefined ? atlasProjectPacing(atlasProject) : {}),
      startToCloseTimeout: this.params.polling.attemptTimeoutMs,
      scheduleToCloseTimeout: scheduleToCloseTimeoutMs,
      retry: { initialInterval: 1_000, backoffCoefficient: 2, maximumInterval: Math.max(maximumIntervalMs, 1_000) },
    });
  }

  /** The snapshot to export, or null when the target is finished already (skipped or failed). */
  private async resolveSnapshot(target: ExportTargetParams, t: TargetSummary): Promise<string | null> {
    if (typeof target.snapshot === 'object') return target.snapshot.snapshotId;
    if (target.snapshot === 'latest') return this.findLatest(target, t);
    return this.takeOnDemand(target, t);
  }

  /** `latest`: the newest completed snapshot, unless someone else's job exports it to the bucket already. */
  private async findLatest(target: ExportTargetParams, t: TargetSummary): Promise<string | null> {
    const { groupId, clusterName, exportBucketId } = target;
    t.state = 'ResolvingSnapshot';
    const found = await this.activities({
      summary: `Find latest snapshot of ${clusterName}`,
      atlasProject: groupId,
    }).findLatestExportableSnapshot({ groupId, clusterName, exportBucketId });
    if (!found.snapshot) {
      finishTarget(t, 'Failed', {
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
      finishTarget(t, 'Skipped', null);
      return null;
    }
    return snapshotId;
  }

  /** `on-demand`: takes a snapshot (or adopts the cluster's unfinished one) and waits until it is completed. */
  private async takeOnDemand(target: ExportTargetParams, t: TargetSummary): Promise<string> {
    const { groupId, clusterName } = target;
    t.state = 'TakingSnapshot';
    const taken = await this.activities({
      summary: `Take on-demand snapshot of ${clusterName}`,
      atlasProject: groupId,
    }).takeSnapshot({
      groupId,
      clusterName,
      description: `atlas-export-orchestrator ${this.parentWorkflowId}`.slice(0, 255),
      retentionInDays: this.params.onDemand.retentionInDays,
      cadences: [this.params.onDemand, this.params.polling.cadence],
    });
    const snapshotId = taken.snapshot.snapshotId;
    t.snapshotId = snapshotId;
    if (taken.adopted) t.note = `adopted the cluster's unfinished on-demand snapshot ${snapshotId}`;
    if (taken.snapshot.status !== 'completed') {
      t.state = 'WaitingForSnapshot';
      const od = this.params.onDemand;
      await this.activities({
        summary: `Wait for snapshot ${snapshotId} of ${clusterName}`,
        atlasProject: groupId,
        scheduleToCloseTimeoutMs: od.timeoutMs,
        maximumIntervalMs: od.maximumIntervalMs,
      }).awaitSnapshotCompleted({
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
    this.children.expect(childId, t);
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
      recordCompletion(t, this.children.signalOf(childId) ?? completion);
      finishTarget(t, completion.state === 'Successful' ? 'Successful' : 'Failed', null);
    } catch (err) {
      const completion = this.children.signalOf(childId) ?? completionFromFailure(err);
      if (completion) recordCompletion(t, completion);
      if (isCancellation(err)) this.cancelled(t, err);
      else finishTarget(t, 'Failed', summarizeFailure(err));
    } finally {
      this.children.forget(childId);
    }
  }

  /** The run was cancelled while this target ran: an export that had started keeps running (Abandoned). */
  private cancelled(t: TargetSummary, err: unknown): void {
    this.cancellation ??= err;
    if (t.state === 'Exporting') {
      t.note =
        `this run was cancelled; export workflow ${t.childWorkflowId} keeps running (abandoned: Atlas cannot stop ` +
        'an export) and the next run attaches to it';
      finishTarget(t, 'Abandoned', null);
    } else {
      t.note = 'this run was cancelled before the target exported';
      finishTarget(t, 'Cancelled', null);
    }
  }

  /** The export workflow exists already (running, or finished successfully): wait for it instead of a second one. */
  private async observe(t: TargetSummary, childId: string): Promise<void> {
    t.attached = true;
    t.note = 'the export workflow already existed (an earlier or overlapping run, or another caller); observed it';
    this.children.forget(childId, { keepSignal: true });
    const polling = this.params.polling;
    // Bounded by the observed run's own deadline (the activity reads it), not by this run's polling settings.
    const observed = await this.activities({
      summary: `Observe existing export ${childId}`,
      scheduleToCloseTimeoutMs: MAX_DURATION_MS + OBSERVE_OVERDUE_GRACE_MS,
    }).observeExportWorkflow({
      workflowId: childId,
      fallbackTimeoutMs: polling.timeoutMs,
      // Describing a workflow costs no Atlas call: keep its cap at the old 3 min even when the cadence's is longer.
      backoff: { ...polling, maximumIntervalMs: Math.min(polling.maximumIntervalMs, OBSERVE_MAXIMUM_INTERVAL_MS) },
      jitterSeed: `${this.parentWorkflowId}:${childId}`,
    });
    if (observed.completion) recordCompletion(t, observed.completion);
    if (observed.failure) finishTarget(t, 'Failed', observed.failure);
    else if (observed.completion?.state === 'Successful') finishTarget(t, 'Successful', null);
    else {
      finishTarget(t, 'Failed', {
        type: observed.status,
        message: `Export workflow ${childId} ended ${observed.status}`,
      });
    }
  }
}
