import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  setCurrentDetails,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { ExportCompletion, ExportJobStatus, ExportProgress } from '../shared/contract/export-contract';
import { FailureType } from '../shared/contract/failure-types';
import { collectionCount } from '../shared/observability/progress-text';
import type { ExportIds } from '../shared/contract/workflow-ids';
import { iso, workflowNow } from './clock';
import { ExportObservability } from './export-observability';
import type { ExportResumeState } from './export-resume-state';
import { exportCompletedSignal, progressQuery } from './messages';
import { isPastDeadline } from './run-limits';

/** The export a report is about: its ids and its listener (the validated input, or an invalid input's ids as given). */
export type ReportedExport = ExportIds & { notify?: { workflowId: string } | undefined };

/**
 * What the outside sees of one `exportSnapshot` run: the `progress` query's answer, the UI's current details,
 * the search attributes and metrics ({@link ExportObservability}) and the `exportCompleted` signal to the
 * listener. Holds no Atlas logic; {@link ExportRun} tells it what happened.
 */
export class ExportReport {
  readonly progress: ExportProgress;
  readonly obs: ExportObservability;
  readonly startedAtMs: number;

  /** Answers the progress query from now on; a new export (not a continued run) counts as started. */
  constructor(resume: ExportResumeState | undefined) {
    this.startedAtMs = resume?.startedAtMs ?? workflowInfo().startTime.getTime();
    this.progress = {
      phase: 'validating',
      exportJobId: resume?.status.exportJobId ?? null,
      state: resume?.status.state ?? null,
      exportedCollections: resume?.status.exportedCollections ?? null,
      totalCollections: resume?.status.totalCollections ?? null,
      components: resume?.status.components ?? [],
      attached: resume?.attached ?? false,
      polls: resume?.polls ?? 0,
      startedAt: iso(this.startedAtMs),
      lastUpdateAt: null,
      deadlineAt: resume ? iso(resume.deadlineAtMs) : null,
      finishedAt: null,
      continuedAsNew: resume?.continuedAsNew ?? 0,
      notify: null,
      cadence: null,
      stalledSince: resume?.stalledSince ?? null,
    };
    setHandler(progressQuery, () => this.progress);
    this.obs = new ExportObservability();
    if (!resume) this.obs.started();
  }

  /** The job's latest status, as the query, the UI details and the search attributes show it. */
  record({ target, status }: { target: ExportIds; status: ExportJobStatus }): void {
    const p = this.progress;
    p.exportJobId = status.exportJobId;
    p.state = status.state;
    p.exportedCollections = status.exportedCollections;
    p.totalCollections = status.totalCollections;
    p.components = status.components;
    p.lastUpdateAt = iso(workflowNow());
    setCurrentDetails(this.details(target));
    this.obs.publishStatus(status);
  }

  /** The completion every ending carries; `status` null when no job exists. */
  completion({
    target,
    status,
    terminal,
    state,
  }: {
    target: ExportIds;
    status: ExportJobStatus | null;
    terminal: boolean;
    state: string;
  }): ExportCompletion {
    return {
      workflowId: workflowInfo().workflowId,
      groupId: target.groupId,
      clusterName: target.clusterName,
      snapshotId: target.snapshotId,
      exportBucketId: target.exportBucketId,
      exportJobId: status?.exportJobId ?? this.progress.exportJobId,
      state,
      exportedCollections: status?.exportedCollections ?? null,
      totalCollections: status?.totalCollections ?? null,
      components: status?.components ?? [],
      stateReason: status?.stateReason ?? null,
      prefix: status?.prefix ?? null,
      startedAt: iso(this.startedAtMs),
      finishedAt: terminal && status?.finishedAt ? status.finishedAt : iso(workflowNow()),
      terminal,
      attached: this.progress.attached,
      detachedFrom: null,
    };
  }

  /** Signals the listener, if any. A listener that is gone is recorded, not fatal: the result still stands. */
  async notify({ target, completion }: { target: ReportedExport; completion: ExportCompletion }): Promise<void> {
    const notify = this.progress.notify;
    if (!target.notify || !notify) return;
    this.progress.phase = 'notifying';
    try {
      await getExternalWorkflowHandle(target.notify.workflowId).signal(exportCompletedSignal, completion);
      notify.delivered = true;
    } catch (err) {
      notify.delivered = false;
      notify.error = err instanceof Error ? err.message : String(err);
      log.warn('exportCompleted signal could not be delivered', {
        notifyWorkflowId: target.notify.workflowId,
        error: notify.error,
      });
    }
  }

  /**
   * The run is over: `outcome` is what the search attribute and metrics say (the Atlas state, or the workflow's
   * own: `DeadlineExceeded`, `CreateFailed`, `InvalidInput`, `Detached`); `details` replaces the UI's, if given.
   */
  close({ completion, outcome, details }: { completion: ExportCompletion; outcome: string; details?: string }): void {
    this.progress.phase = 'done';
    this.progress.finishedAt = completion.finishedAt;
    if (details !== undefined) setCurrentDetails(details);
    this.obs.publish({ state: outcome });
    this.obs.finished({ outcome, polls: this.progress.polls, startedAtMs: this.startedAtMs, nowMs: workflowNow() });
  }

  /**
   * Ends the workflow on an error: signals the listener (even when the workflow is being cancelled), then fails
   * with a typed failure whose `type` is the one that says what went wrong (e.g. the Atlas `errorCode`) rather
   * than a generic activity failure, with the completion in its details. Cancellation is rethrown as is.
   * `outcome` as in {@link close}: `CreateFailed` when no job exists, `Detached` when the job may still run in
   * Atlas but this workflow stops following it.
   */
  async endWithError({
    target,
    completion,
    err,
    outcome,
  }: {
    target: ReportedExport;
    completion: ExportCompletion;
    err: unknown;
    outcome: string;
  }): Promise<never> {
    await CancellationScope.nonCancellable(() => this.notify({ target, completion }));
    this.close({
      completion,
      outcome,
      ...(completion.detachedFrom !== null ? { details: this.detachedDetails(target, completion) } : {}),
    });
    if (isCancellation(err)) throw err;
    if (isPastDeadline(err)) {
      throw ApplicationFailure.create({
        type: FailureType.ExportDeadlineExceeded,
        message: `The export job could not be created before the polling deadline ${this.progress.deadlineAt}: ${err.cause?.message ?? err.message}`,
        nonRetryable: true,
        details: [completion],
        cause: err,
      });
    }
    const cause = err instanceof ActivityFailure ? err.cause : err;
    if (cause instanceof ApplicationFailure) {
      throw ApplicationFailure.create({
        type: cause.type ?? 'Error',
        message: cause.message,
        nonRetryable: true,
        details: [completion],
        cause: err as Error,
      });
    }
    throw err;
  }

  /** The UI's current details: where the export stands. */
  details(target: ExportIds): string {
    const p = this.progress;
    const count = collectionCount(p) ?? 'no collection count yet';
    return [
      `**${p.state ?? 'not created'}**: ${count}`,
      '',
      `- cluster \`${target.clusterName}\` in project \`${target.groupId}\``,
      `- snapshot \`${target.snapshotId}\` → bucket \`${target.exportBucketId}\``,
      `- export job \`${p.exportJobId ?? '—'}\`, ${p.polls} status reads`,
      `- last update ${p.lastUpdateAt ?? '—'}, deadline ${p.deadlineAt}`,
      ...(p.stalledSince ? ['', `**Stalled**: no progress since ${p.stalledSince} (polling.stallAfter)`] : []),
    ].join('\n');
  }

  private detachedDetails(target: ExportIds, completion: ExportCompletion): string {
    return (
      `${this.details(target)}\n\n**Detached**: this workflow was cancelled and stopped following export job ` +
      `\`${completion.exportJobId ?? '-'}\` (last seen ${completion.detachedFrom}). Atlas has no API to cancel an ` +
      'export job: it may still be running and writing to the bucket.'
    );
  }
}
