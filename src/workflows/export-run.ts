import {
  CancellationScope,
  TimeoutFailure,
  isCancellation,
  log,
  patched,
  proxyActivities,
  setCurrentDetails,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities, CreateExportJobResult } from '../activities';
import { atlasProjectPacing } from '../shared/atlas/rate-limit';
import { TERMINAL_EXPORT_JOB_STATES } from '../shared/atlas/vocabulary';
import type { ExportCompletion, ExportJobStatus, ExportSnapshotParams } from '../shared/contract/export-contract';
import {
  decideNextPoll,
  initialCadenceMemory,
  rememberObservation,
  toCadenceReport,
  type CadenceMemory,
} from '../shared/polling/poll-cadence';
import { RETRY_DELAY_CAP_MS } from '../shared/polling/retry-delay-bounds';
import { WORKFLOW_EXPORT_STATES } from '../shared/observability/search-attributes';
import { iso, workflowNow } from './clock';
import { EventHints } from './event-hints';
import type { ExportReport } from './export-report';
import type { ExportResumeState } from './export-resume-state';
import { isPastDeadline } from './run-limits';
import { StallAlarm } from './stall-alarm';

/**
 * Patch of behaviour that recorded histories did not have, taken only on the path it changes: a retry state
 * TIMEOUT ends the wait only when the deadline is really near; the wait then lasts until the deadline itself
 * before the final read (before, it ended at once, whatever time was left).
 */
const REAL_DEADLINE_PATCH = 'export-real-deadline-v1';

/** How a step of the run ended: one of `T`, or `failed` with what ended it. */
export type StepOutcome<T extends string> = { outcome: T } | { outcome: 'failed'; error: unknown };

/** The job this run follows: its last known status and what the poll cadence learned of it. */
interface FollowedJob {
  status: ExportJobStatus;
  cadence: CadenceMemory;
}

/**
 * One export as `exportSnapshot` follows it, from a valid input on: the deadline, the job's last known status,
 * the poll cadence's memory and the stall alarm, with the transitions between them. Every change is shown
 * through the {@link ExportReport}.
 */
export class ExportRun {
  readonly params: ExportSnapshotParams;
  private readonly report: ExportReport;
  private readonly resume: ExportResumeState | undefined;
  private readonly deadlineAtMs: number;
  /** Null until the job is created (a resumed run has one from the start). */
  private job: FollowedJob | null;
  private alarm: StallAlarm | null = null;
  /** Polling ended at the deadline: the job may still be running. */
  private deadlineHit = false;
  private readonly hints = new EventHints();

  /** Publishes the export's ids and sets its deadline (a continued run keeps the first run's). */
  constructor({
    params,
    report,
    resume,
  }: {
    params: ExportSnapshotParams;
    report: ExportReport;
    resume: ExportResumeState | undefined;
  }) {
    this.params = params;
    this.report = report;
    this.resume = resume;
    const { groupId, clusterName, snapshotId, exportBucketId } = params;
    const obs = report.obs;
    obs.publish({
      groupId,
      clusterName,
      snapshotId,
      exportBucketId,
      ...(obs.batchesStart && !resume ? { state: WORKFLOW_EXPORT_STATES.creating } : {}),
    });
    this.deadlineAtMs = resume?.deadlineAtMs ?? report.startedAtMs + params.polling.timeoutMs;
    report.progress.deadlineAt = iso(this.deadlineAtMs);
    if (params.notify) report.progress.notify = { workflowId: params.notify.workflowId, delivered: null, error: null };
    this.job = resume
      ? { status: resume.status, cadence: resume.cadence ?? initialCadenceMemory(workflowNow(), null) }
      : null;
  }

  get deadlineAt(): string {
    return iso(this.deadlineAtMs);
  }

  /** The job's status is terminal in Atlas (`Successful`, `Failed`, `Cancelled`). */
  get terminal(): boolean {
    return TERMINAL_EXPORT_JOB_STATES.has(this.followed().status.state);
  }

  /**
   * Creates the export job (idempotently: a retry or a re-run adopts it), or attaches to another caller's export
   * of the same snapshot and bucket. Retries that the server stopped long before the deadline create again.
   * `failed`: what ended the creation, for {@link failCreate}.
   */
  async create(): Promise<StepOutcome<'created'>> {
    const { report } = this;
    report.progress.phase = 'creating';
    // A separate upsert only for histories recorded before patch v2; a no-op since (the first upsert carried it).
    report.obs.publish({ state: WORKFLOW_EXPORT_STATES.creating });
    try {
      const created = await this.createOnce();
      report.progress.attached = created.attached ?? false;
      this.job = {
        status: created.status,
        cadence: initialCadenceMemory(created.observedAt ?? workflowNow(), created.learned ?? null),
      };
      log.info(
        created.attached
          ? 'Attached to an export of the same snapshot and bucket'
          : created.adopted
            ? 'Adopted export job'
            : 'Created export job',
        { exportJobId: created.status.exportJobId }
      );
      return { outcome: 'created' };
    } catch (err) {
      return { outcome: 'failed', error: err };
    }
  }

  /**
   * The job could not be created: nothing was exported. Tells the listener, then fails. Cancelled mid-create, a
   * job may exist that nobody follows (Detached); past the deadline, DeadlineExceeded.
   */
  failCreate(err: unknown): Promise<never> {
    const state = isCancellation(err) ? 'Cancelled' : 'CreateFailed';
    const completion = this.report.completion({ target: this.params, status: null, terminal: false, state });
    const outcome = isCancellation(err)
      ? WORKFLOW_EXPORT_STATES.detached
      : isPastDeadline(err)
        ? WORKFLOW_EXPORT_STATES.deadlineExceeded
        : WORKFLOW_EXPORT_STATES.createFailed;
    return this.report.endWithError({ target: this.params, completion, err, outcome });
  }

  /** Shows the job's status (created or resumed), then starts polling: the stall clock runs from here. */
  startPolling(): void {
    const { report, resume } = this;
    report.record({ target: this.params, status: this.followed().status });
    this.alarm = new StallAlarm({
      stallAfterMs: this.params.polling.stallAfterMs,
      failOnStall: this.params.polling.failOnStall,
      lastChangeAtMs: resume?.lastChangeAtMs ?? workflowNow(),
      stalledSince: report.progress.stalledSince,
      onChange: (stalledSince, stallAfterMs) => this.stallChanged(stalledSince, stallAfterMs),
    });
    report.progress.phase = 'polling';
  }

  /**
   * One `pollExportJob` activity: it completes when the job changed (or the cadence's report interval passed).
   * `deadline`: the deadline ended polling (the wait lasted until the deadline itself). `failed`: a fatal error or
   * a cancellation while the job runs, for {@link detach}.
   */
  async pollOnce(): Promise<StepOutcome<'polled' | 'deadline'>> {
    const { params, report } = this;
    const job = this.followed();
    const alarm = this.stallAlarm();
    const { status, cadence } = job;
    const polls = report.progress.polls;
    const jitterSeed = workflowInfo().workflowId;
    const known = {
      state: status.state,
      exportedCollections: status.exportedCollections,
      totalCollections: status.totalCollections,
    };
    report.progress.cadence = toCadenceReport(
      decideNextPoll(params.polling.cadence, cadence, { ...known, at: cadence.observedAt }, polls, jitterSeed)
    );
    try {
      const pollScope = new CancellationScope();
      const poll = pollScope.run(() =>
        this.activities(`Wait for export ${status.exportJobId} (${status.state})`).pollExportJob({
          groupId: params.groupId,
          clusterName: params.clusterName,
          exportJobId: status.exportJobId,
          known,
          pollsBefore: polls,
          cadence: params.polling.cadence,
          memory: cadence,
          reportIntervalMs: params.polling.reportIntervalMs,
          jitterSeed,
        })
      );
      const polled = await alarm.watch({ poll: this.hints.wakeable(poll, pollScope), pollScope, status });
      if (polled === 'hint') return await this.confirmHint();
      alarm.polled(
        polled.status.state !== known.state ||
          polled.status.exportedCollections !== known.exportedCollections ||
          polled.status.totalCollections !== known.totalCollections
      );
      this.job = { status: polled.status, cadence: polled.memory ?? { ...cadence, observedAt: workflowNow() } };
      report.progress.polls = polls + polled.polls;
      report.record({ target: params, status: polled.status });
      return { outcome: 'polled' };
    } catch (err) {
      return this.afterPollError(err);
    }
  }

  /**
   * An Atlas alert woke the run: one status read confirms what the job is (the alert names no job), taught to the
   * cadence as the poll's own reads are; the next wait then follows the cadence again, the safety net.
   */
  private async confirmHint(): Promise<StepOutcome<'polled' | 'deadline'>> {
    const { params, report } = this;
    const job = this.followed();
    const before = job.status;
    const jitterSeed = workflowInfo().workflowId;
    try {
      const status = await this.activities(`Confirm export ${before.exportJobId} after an Atlas alert`).getExportJob({
        groupId: params.groupId,
        clusterName: params.clusterName,
        exportJobId: before.exportJobId,
      });
      const current = { ...status, at: workflowNow() };
      const cadence = params.polling.cadence;
      const learned = rememberObservation(cadence, job.cadence, before, current, jitterSeed);
      const decision = decideNextPoll(cadence, learned, current, report.progress.polls + 1, jitterSeed);
      this.job = { status, cadence: { ...learned, observedAt: current.at, phase: decision.phase } };
      this.stallAlarm().polled(
        status.state !== before.state ||
          status.exportedCollections !== before.exportedCollections ||
          status.totalCollections !== before.totalCollections
      );
      report.progress.polls += 1;
      report.record({ target: params, status });
      return { outcome: 'polled' };
    } catch (err) {
      return this.afterPollError(err);
    }
  }

  /**
   * A fatal error or a cancellation while the job runs: the listener still hears the last state. Atlas cannot
   * cancel an export, so a cancelled workflow leaves the job running: it says so (Detached).
   */
  detach(err: unknown): Promise<never> {
    const { status } = this.followed();
    const cancelled = isCancellation(err);
    const completion = this.report.completion({
      target: this.params,
      status,
      terminal: false,
      state: cancelled ? WORKFLOW_EXPORT_STATES.detached : status.state,
    });
    if (cancelled) completion.detachedFrom = status.state;
    return this.report.endWithError({
      target: this.params,
      completion,
      err,
      outcome: WORKFLOW_EXPORT_STATES.detached,
    });
  }

  /**
   * After polling: the cadence's report as of the last status and, when the deadline ended polling, one last
   * read so the listener gets the freshest state Atlas has (a failed read keeps the last status).
   */
  async finalRead(): Promise<void> {
    const { params, report } = this;
    const job = this.followed();
    const polls = report.progress.polls;
    if (report.progress.cadence) {
      const observation = { ...job.status, at: job.cadence.observedAt };
      report.progress.cadence = toCadenceReport(
        decideNextPoll(params.polling.cadence, job.cadence, observation, polls, workflowInfo().workflowId)
      );
    }
    if (!this.deadlineHit) return;
    try {
      job.status = await proxyActivities<Activities>({
        summary: `Final read of export ${job.status.exportJobId}`,
        ...atlasProjectPacing(params.groupId),
        startToCloseTimeout: params.polling.attemptTimeoutMs,
        retry: { maximumAttempts: 3 },
      }).getExportJob({
        groupId: params.groupId,
        clusterName: params.clusterName,
        exportJobId: job.status.exportJobId,
      });
      report.progress.polls = polls + 1;
      report.record({ target: params, status: job.status });
    } catch (err) {
      log.warn('Final status read after the deadline failed', { error: String(err) });
    }
  }

  /**
   * The run's completion: the job's terminal state, or its last state at the deadline. Tells the listener and
   * shows the outcome; the caller ends the workflow as the completion says.
   */
  async complete(): Promise<ExportCompletion> {
    const { status } = this.followed();
    const terminal = TERMINAL_EXPORT_JOB_STATES.has(status.state);
    const completion = this.report.completion({ target: this.params, status, terminal, state: status.state });
    await this.report.notify({ target: this.params, completion });
    this.report.close({
      completion,
      outcome: terminal ? status.state : WORKFLOW_EXPORT_STATES.deadlineExceeded,
      details: this.report.details(this.params),
    });
    return completion;
  }

  /** What the next run needs when this one continues as new. */
  resumeState(): ExportResumeState {
    const { progress } = this.report;
    const { status, cadence } = this.followed();
    return {
      status,
      polls: progress.polls,
      startedAtMs: this.report.startedAtMs,
      deadlineAtMs: this.deadlineAtMs,
      continuedAsNew: progress.continuedAsNew + 1,
      cadence,
      lastChangeAtMs: this.stallAlarm().lastChangeAtMs,
      stalledSince: progress.stalledSince,
      ...(progress.attached ? { attached: true } : {}),
    };
  }

  /**
   * A poll failed. The deadline is the activity's schedule-to-close timeout: it ends in a TimeoutFailure
   * mid-attempt, or with the last attempt's failure and retry state TIMEOUT when the next retry would pass it.
   * A refused retry near the deadline (the cadence's next read was past it) waits for the deadline itself, so
   * nothing is reported before it. Retries stopped long before it poll again.
   */
  private async afterPollError(err: unknown): Promise<StepOutcome<'polled' | 'deadline'>> {
    const deadline = this.deadlineOf(err);
    if (deadline === 'early') {
      log.warn('Poll retries stopped long before the deadline; polling again', { error: String(err) });
      return { outcome: 'polled' };
    }
    if (deadline === null) return { outcome: 'failed', error: err };
    const leftMs = this.deadlineAtMs - workflowNow();
    if (leftMs > 0 && patched(REAL_DEADLINE_PATCH)) {
      await sleep(leftMs, { summary: `Polling deadline ${this.report.progress.deadlineAt}` });
    }
    this.deadlineHit = true;
    return { outcome: 'deadline' };
  }

  /** `createExportJob`, again while the server stops its retries long before the deadline. */
  private async createOnce(): Promise<CreateExportJobResult> {
    const { params } = this;
    const info = workflowInfo();
    for (;;) {
      try {
        return await this.activities(`Create export of ${this.target()}`).createExportJob({
          groupId: params.groupId,
          clusterName: params.clusterName,
          snapshotId: params.snapshotId,
          exportBucketId: params.exportBucketId,
          customData: params.customData,
          idempotencyKey: info.workflowId,
          runKey: info.firstExecutionRunId,
          ifAlreadyExported: params.ifAlreadyExported,
          cadences: [params.polling.cadence],
        });
      } catch (err) {
        if (this.deadlineOf(err) !== 'early') throw err;
        log.warn('Create retries stopped long before the deadline; creating again', { error: String(err) });
      }
    }
  }

  /**
   * Whether an activity failure means the deadline: its schedule-to-close (set to what is left) ran out, or the
   * server refused a retry (retry state TIMEOUT) that the next wait would have pushed past it. The latter is
   * checked against the clock: only a wait no longer than any legitimate one (a poll interval, a capped
   * Retry-After) can do that, so with more time left than that it was not the deadline ('early').
   */
  private deadlineOf(err: unknown): 'deadline' | 'early' | null {
    if (!isPastDeadline(err)) return null;
    if (err.cause instanceof TimeoutFailure) return 'deadline';
    const { maximumIntervalMs, attemptTimeoutMs } = this.params.polling;
    const longestWaitMs = Math.max(maximumIntervalMs, RETRY_DELAY_CAP_MS) + attemptTimeoutMs;
    return this.deadlineAtMs - workflowNow() > longestWaitMs && patched(REAL_DEADLINE_PATCH) ? 'early' : 'deadline';
  }

  /** Activities that call Atlas for this project, bounded by what is left of the deadline. */
  private activities(summary: string) {
    const polling = this.params.polling;
    return proxyActivities<Activities>({
      summary,
      ...atlasProjectPacing(this.params.groupId),
      startToCloseTimeout: polling.attemptTimeoutMs,
      scheduleToCloseTimeout: Math.max(1_000, this.deadlineAtMs - workflowNow()),
      retry: {
        initialInterval: 1_000,
        backoffCoefficient: 2,
        maximumInterval: Math.max(polling.maximumIntervalMs, 1_000),
      },
    });
  }

  private stallChanged(stalledSince: string | null, stallAfterMs: number): void {
    const { report } = this;
    report.progress.stalledSince = stalledSince;
    report.obs.stalled(stalledSince !== null);
    if (stalledSince === null) return;
    const { status } = this.followed();
    log.warn('Export stalled: no progress for polling.stallAfter', {
      exportJobId: status.exportJobId,
      state: status.state,
      stallAfterMs,
    });
    setCurrentDetails(report.details(this.params));
  }

  private target(): string {
    return `${this.params.clusterName} snapshot ${this.params.snapshotId}`;
  }

  private followed(): FollowedJob {
    if (this.job === null) throw new Error('ExportRun: no export job yet (create() first)');
    return this.job;
  }

  private stallAlarm(): StallAlarm {
    if (this.alarm === null) throw new Error('ExportRun: not polling yet (startPolling() first)');
    return this.alarm;
  }
}
