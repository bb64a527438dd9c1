import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  TimeoutFailure,
  continueAsNew,
  getExternalWorkflowHandle,
  isCancellation,
  log,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import { RetryState } from '@temporalio/common';
import type { Activities } from '../activities';
import { atlasProjectPacing } from '../shared/atlas-rate-limit';
import { TERMINAL_EXPORT_JOB_STATES } from '../shared/atlas-vocabulary';
import {
  describeIssues,
  pollingFloorIssues,
  toExportSnapshotParams,
  type ExportCompletion,
  type ExportJobStatus,
  type ExportProgress,
  type ExportSnapshotInput,
  type ExportSnapshotParams,
} from '../shared/export-contract';
import { FailureType } from '../shared/failure-types';
import { RETRY_DELAY_CAP_MS } from '../shared/retry-delay-bounds';
import { decideNextPoll, initialCadenceMemory, toCadenceReport, type CadenceMemory } from '../shared/poll-cadence';
import { collectionCount } from '../shared/progress-text';
import { WORKFLOW_EXPORT_STATES } from '../shared/search-attributes';
import { iso, workflowNow } from './clock';
import { ExportObservability } from './export-observability';
import { exportCompletedSignal, progressQuery } from './messages';

/**
 * Patches of behaviour that recorded histories did not have, each taken only on the path it changes:
 * - polling floors: an input below {@link pollingFloorIssues}'s floors is refused (it ran before);
 * - deadline: a retry state TIMEOUT ends the wait only when the deadline is really near; the wait then lasts
 *   until the deadline itself before the final read (before, it ended at once, whatever time was left).
 */
const POLLING_FLOORS_PATCH = 'export-polling-floors-v1';
const REAL_DEADLINE_PATCH = 'export-real-deadline-v1';

/** What a run hands to the next one when it continues as new to keep history bounded. */
export interface ExportResumeState {
  status: ExportJobStatus;
  polls: number;
  startedAtMs: number;
  deadlineAtMs: number;
  continuedAsNew: number;
  /** What the poll cadence learned (absent in runs from before it existed). */
  cadence?: CadenceMemory;
  /** When the job's state or collection count last moved, for the stall alarm. */
  lastChangeAtMs?: number;
  stalledSince?: string | null;
  /** The job was created by another caller (absent in runs from before attaching existed). */
  attached?: boolean;
}

/**
 * Exports one Atlas snapshot to a bucket: creates the export job (idempotently), waits durably for a
 * terminal state, signals `exportCompleted` to `notify.workflowId`, and returns the completion. `Failed`,
 * `Cancelled` and the polling deadline end the workflow as a typed failure after the signal went out.
 *
 * @param resume internal: the state carried across continue-as-new; callers never pass it.
 */
export async function exportSnapshot(
  input: ExportSnapshotInput,
  resume?: ExportResumeState
): Promise<ExportCompletion> {
  const info = workflowInfo();
  const startedAtMs = resume?.startedAtMs ?? info.startTime.getTime();
  const progress: ExportProgress = {
    phase: 'validating',
    exportJobId: resume?.status.exportJobId ?? null,
    state: resume?.status.state ?? null,
    exportedCollections: resume?.status.exportedCollections ?? null,
    totalCollections: resume?.status.totalCollections ?? null,
    components: resume?.status.components ?? [],
    attached: resume?.attached ?? false,
    polls: resume?.polls ?? 0,
    startedAt: iso(startedAtMs),
    lastUpdateAt: null,
    deadlineAt: resume ? iso(resume.deadlineAtMs) : null,
    finishedAt: null,
    continuedAsNew: resume?.continuedAsNew ?? 0,
    notify: null,
    cadence: null,
    stalledSince: resume?.stalledSince ?? null,
  };
  setHandler(progressQuery, () => progress);
  const obs = new ExportObservability();
  if (!resume) obs.started();

  const params = await validateOrNotify(input, progress, startedAtMs, obs);
  obs.publish({
    groupId: params.groupId,
    clusterName: params.clusterName,
    snapshotId: params.snapshotId,
    exportBucketId: params.exportBucketId,
    ...(obs.batchesStart && !resume ? { state: WORKFLOW_EXPORT_STATES.creating } : {}),
  });
  const deadlineAtMs = resume?.deadlineAtMs ?? startedAtMs + params.polling.timeoutMs;
  progress.deadlineAt = iso(deadlineAtMs);
  if (params.notify) progress.notify = { workflowId: params.notify.workflowId, delivered: null, error: null };

  const remainingMs = () => Math.max(1_000, deadlineAtMs - workflowNow());
  // Every activity here calls Atlas for this project.
  const atlasPacing = atlasProjectPacing(params.groupId);
  const activities = (summary: string) =>
    proxyActivities<Activities>({
      summary,
      ...atlasPacing,
      startToCloseTimeout: params.polling.attemptTimeoutMs,
      scheduleToCloseTimeout: remainingMs(),
      retry: {
        initialInterval: 1_000,
        backoffCoefficient: 2,
        maximumInterval: Math.max(params.polling.maximumIntervalMs, 1_000),
      },
    });
  const target = `${params.clusterName} snapshot ${params.snapshotId}`;
  /**
   * Whether an activity failure means the deadline: its schedule-to-close (set to what is left) ran out, or the
   * server refused a retry (retry state TIMEOUT) that the next wait would have pushed past it. The latter is
   * checked against the clock: only a wait no longer than any legitimate one (a poll interval, a capped
   * Retry-After) can do that, so with more time left than that it was not the deadline ('early').
   */
  const deadlineOf = (err: unknown): 'deadline' | 'early' | null => {
    if (!isPastDeadline(err)) return null;
    if (err.cause instanceof TimeoutFailure) return 'deadline';
    const longestWaitMs =
      Math.max(params.polling.maximumIntervalMs, RETRY_DELAY_CAP_MS) + params.polling.attemptTimeoutMs;
    return deadlineAtMs - workflowNow() > longestWaitMs && patched(REAL_DEADLINE_PATCH) ? 'early' : 'deadline';
  };

  let status: ExportJobStatus;
  let cadence: CadenceMemory;
  if (resume) {
    status = resume.status;
    cadence = resume.cadence ?? initialCadenceMemory(workflowNow(), null);
  } else {
    progress.phase = 'creating';
    // A separate upsert only for histories recorded before patch v2; a no-op since (the first upsert carried it).
    obs.publish({ state: WORKFLOW_EXPORT_STATES.creating });
    try {
      let created;
      for (;;) {
        try {
          created = await activities(`Create export of ${target}`).createExportJob({
            groupId: params.groupId,
            clusterName: params.clusterName,
            snapshotId: params.snapshotId,
            exportBucketId: params.exportBucketId,
            customData: params.customData,
            idempotencyKey: info.workflowId,
            runKey: info.firstExecutionRunId,
            ifAlreadyExported: params.ifAlreadyExported,
          });
          break;
        } catch (err) {
          if (deadlineOf(err) !== 'early') throw err;
          log.warn('Create retries stopped long before the deadline; creating again', { error: String(err) });
        }
      }
      status = created.status;
      progress.attached = created.attached ?? false;
      cadence = initialCadenceMemory(created.observedAt ?? workflowNow(), created.learned ?? null);
      log.info(
        created.attached
          ? 'Attached to an export of the same snapshot and bucket'
          : created.adopted
            ? 'Adopted export job'
            : 'Created export job',
        { exportJobId: status.exportJobId }
      );
    } catch (err) {
      // Nothing was exported; tell the listener before failing, so no caller waits forever.
      const state = isCancellation(err) ? 'Cancelled' : 'CreateFailed';
      const completion = completionOf(params, progress, null, startedAtMs, false, state);
      // Cancelled mid-create, a job may exist that nobody follows: Detached. Past the deadline: DeadlineExceeded.
      const outcome = isCancellation(err)
        ? WORKFLOW_EXPORT_STATES.detached
        : isPastDeadline(err)
          ? WORKFLOW_EXPORT_STATES.deadlineExceeded
          : WORKFLOW_EXPORT_STATES.createFailed;
      return endWithError(params, progress, completion, err, obs, outcome);
    }
  }
  record(params, progress, status, obs);

  let polls = resume?.polls ?? 0;
  let deadlineHit = false;
  let lastChangeAtMs = resume?.lastChangeAtMs ?? workflowNow();

  /**
   * Waits for the poll activity and, with `polling.stallAfter`, raises the stall alarm when the job's state and
   * collection count stayed put for that long: one timer per wait, cancelled when the activity returns first.
   * With `failOnStall` the poll is cancelled and the wait fails with `ExportStalled` (the job keeps running).
   */
  async function watchForStall<T>(poll: Promise<T>, pollScope: CancellationScope): Promise<T> {
    const stallAfterMs = params.polling.stallAfterMs;
    if (stallAfterMs === null) return poll;
    for (;;) {
      if (progress.stalledSince !== null) return poll;
      const dueInMs = lastChangeAtMs + stallAfterMs - workflowNow();
      if (dueInMs <= 0) {
        progress.stalledSince = iso(lastChangeAtMs + stallAfterMs);
        obs.stalled(true);
        log.warn('Export stalled: no progress for polling.stallAfter', {
          exportJobId: status.exportJobId,
          state: status.state,
          stallAfterMs,
        });
        setCurrentDetails(details(params, progress));
        if (!params.polling.failOnStall) return poll;
        pollScope.cancel();
        await poll.catch(() => undefined);
        throw ApplicationFailure.create({
          type: FailureType.ExportStalled,
          message: `Export job ${status.exportJobId} made no progress for ${stallAfterMs} ms (still ${status.state}, ${collectionCount(status) ?? 'no collection count'}); the workflow stopped following it, the Atlas job may still be running`,
          nonRetryable: true,
        });
      }
      const timerScope = new CancellationScope();
      const timer = timerScope.run(() => sleep(dueInMs, { summary: `Stall alarm at ${iso(workflowNow() + dueInMs)}` }));
      const first = await Promise.race([
        poll.then(
          () => 'poll',
          () => 'poll'
        ),
        timer.then(() => 'timer'),
      ]);
      if (first === 'poll') {
        timerScope.cancel();
        await timer.catch(() => undefined);
        return poll;
      }
    }
  }

  progress.phase = 'polling';
  while (!TERMINAL_EXPORT_JOB_STATES.has(status.state)) {
    const current = workflowInfo();
    if (current.continueAsNewSuggested || current.historyLength >= params.polling.maxHistoryEvents) {
      await continueAsNew<typeof exportSnapshot>(input, {
        status,
        polls,
        startedAtMs,
        deadlineAtMs,
        continuedAsNew: progress.continuedAsNew + 1,
        cadence,
        lastChangeAtMs,
        stalledSince: progress.stalledSince,
        ...(progress.attached ? { attached: true } : {}),
      });
    }
    const known = {
      state: status.state,
      exportedCollections: status.exportedCollections,
      totalCollections: status.totalCollections,
    };
    progress.cadence = toCadenceReport(
      decideNextPoll(params.polling.cadence, cadence, { ...known, at: cadence.observedAt }, polls, info.workflowId)
    );
    try {
      const pollScope = new CancellationScope();
      const poll = pollScope.run(() =>
        activities(`Wait for export ${status.exportJobId} (${status.state})`).pollExportJob({
          groupId: params.groupId,
          clusterName: params.clusterName,
          exportJobId: status.exportJobId,
          known,
          pollsBefore: polls,
          cadence: params.polling.cadence,
          memory: cadence,
          reportIntervalMs: params.polling.reportIntervalMs,
          jitterSeed: info.workflowId,
        })
      );
      const polled = await watchForStall(poll, pollScope);
      polls += polled.polls;
      const moved =
        polled.status.state !== known.state ||
        polled.status.exportedCollections !== known.exportedCollections ||
        polled.status.totalCollections !== known.totalCollections;
      if (moved) {
        lastChangeAtMs = workflowNow();
        if (progress.stalledSince !== null) {
          progress.stalledSince = null;
          obs.stalled(false);
        }
      }
      status = polled.status;
      cadence = polled.memory ?? { ...cadence, observedAt: workflowNow() };
      progress.polls = polls;
      record(params, progress, status, obs);
    } catch (err) {
      // The deadline is the activity's schedule-to-close timeout: it ends in a TimeoutFailure mid-attempt, or
      // with the last attempt's failure and retry state TIMEOUT when the next retry would pass it.
      const deadline = deadlineOf(err);
      if (deadline === 'early') {
        log.warn('Poll retries stopped long before the deadline; polling again', { error: String(err) });
        continue;
      }
      if (deadline === null) {
        // A fatal error or a cancellation while the job runs: the listener still hears the last state. Atlas
        // cannot cancel an export, so a cancelled workflow leaves the job running: it says so (Detached).
        const cancelled = isCancellation(err);
        const completion = completionOf(
          params,
          progress,
          status,
          startedAtMs,
          false,
          cancelled ? WORKFLOW_EXPORT_STATES.detached : status.state
        );
        if (cancelled) completion.detachedFrom = status.state;
        return endWithError(params, progress, completion, err, obs, WORKFLOW_EXPORT_STATES.detached);
      }
      // Refused retry near the deadline: the cadence's next read was past it. Wait for the deadline itself, so
      // nothing is reported before it, then read once more.
      const leftMs = deadlineAtMs - workflowNow();
      if (leftMs > 0 && patched(REAL_DEADLINE_PATCH)) {
        await sleep(leftMs, { summary: `Polling deadline ${progress.deadlineAt}` });
      }
      deadlineHit = true;
      break;
    }
  }

  if (progress.cadence)
    progress.cadence = toCadenceReport(
      decideNextPoll(params.polling.cadence, cadence, { ...status, at: cadence.observedAt }, polls, info.workflowId)
    );

  if (deadlineHit) {
    // One last look, so the listener gets the freshest state Atlas has.
    try {
      status = await proxyActivities<Activities>({
        summary: `Final read of export ${status.exportJobId}`,
        ...atlasPacing,
        startToCloseTimeout: params.polling.attemptTimeoutMs,
        retry: { maximumAttempts: 3 },
      }).getExportJob({ groupId: params.groupId, clusterName: params.clusterName, exportJobId: status.exportJobId });
      polls += 1;
      progress.polls = polls;
      record(params, progress, status, obs);
    } catch (err) {
      log.warn('Final status read after the deadline failed', { error: String(err) });
    }
  }

  const terminal = TERMINAL_EXPORT_JOB_STATES.has(status.state);
  const completion = completionOf(params, progress, status, startedAtMs, terminal, status.state);
  await notify(params, progress, completion);
  progress.phase = 'done';
  progress.finishedAt = completion.finishedAt;
  setCurrentDetails(details(params, progress));
  const outcome = terminal ? status.state : WORKFLOW_EXPORT_STATES.deadlineExceeded;
  obs.publish({ state: outcome });
  obs.finished(outcome, polls, startedAtMs, workflowNow());

  if (!terminal) {
    throw ApplicationFailure.create({
      type: FailureType.ExportDeadlineExceeded,
      message: `Export job ${status.exportJobId} was still ${status.state} at the polling deadline ${progress.deadlineAt}; the Atlas job may still be running (Atlas has no cancel API)`,
      nonRetryable: true,
      details: [completion],
    });
  }
  if (status.state === 'Failed' || status.state === 'Cancelled') {
    const reason = status.stateReason
      ? `${status.stateReason.errorCode ?? 'no errorCode'}: ${status.stateReason.message ?? 'no message'}`
      : 'Atlas gave no stateReason';
    throw ApplicationFailure.create({
      type: status.state === 'Failed' ? FailureType.ExportFailed : FailureType.ExportCancelled,
      message: `Export job ${status.exportJobId} ended ${status.state}: ${reason}`,
      nonRetryable: true,
      details: [completion],
    });
  }
  return completion;
}

/**
 * Validates the input. When it is invalid but names a listener, the listener is told (best effort, with the ids
 * as given) before the workflow fails, so a caller waiting for `exportCompleted` does not wait forever.
 */
async function validateOrNotify(
  input: unknown,
  progress: ExportProgress,
  startedAtMs: number,
  obs: ExportObservability
): Promise<ExportSnapshotParams> {
  const parsed = toExportSnapshotParams(input);
  const raw = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
  let problems: string | null = parsed.ok ? null : describeIssues(parsed.issues);
  if (parsed.ok) {
    const floors = pollingFloorIssues(raw.polling, 'input.polling');
    if (floors.length > 0 && patched(POLLING_FLOORS_PATCH)) problems = floors.join('; ');
    else return parsed.value;
  }
  // The ids as given (strings only), for the completion every ending carries.
  const text = (v: unknown) => (typeof v === 'string' ? v : '');
  const asGiven = {
    groupId: text(raw.groupId),
    clusterName: text(raw.clusterName),
    snapshotId: text(raw.snapshotId),
    exportBucketId: text(raw.exportBucketId),
  } as ExportSnapshotParams;
  const failure = ApplicationFailure.create({
    type: FailureType.InvalidExportInput,
    message: `Invalid exportSnapshot input, nothing was sent to Atlas: ${problems}`,
    nonRetryable: true,
    details: [completionOf(asGiven, progress, null, startedAtMs, false, 'InvalidInput')],
  });
  const notifyTo = (raw.notify as { workflowId?: unknown } | null | undefined)?.workflowId;
  if (typeof notifyTo === 'string' && notifyTo.length > 0) {
    asGiven.notify = { workflowId: notifyTo };
    progress.notify = { workflowId: notifyTo, delivered: null, error: null };
    const completion = completionOf(asGiven, progress, null, startedAtMs, false, 'InvalidInput');
    await endWithError(asGiven, progress, completion, failure, obs, WORKFLOW_EXPORT_STATES.invalidInput);
  }
  obs.publish({ state: WORKFLOW_EXPORT_STATES.invalidInput });
  obs.finished(WORKFLOW_EXPORT_STATES.invalidInput, 0, startedAtMs, workflowNow());
  throw failure;
}

/**
 * Ends the workflow on an error: signals the listener (even when the workflow is being cancelled), then fails
 * with a typed failure whose `type` is the one that says what went wrong (e.g. the Atlas `errorCode`) rather
 * than a generic activity failure, with the completion in its details. Cancellation is rethrown as is.
 * `outcome` is what the search attribute and metrics say: `CreateFailed` when no job exists, `Detached` when
 * the job may still run in Atlas but this workflow stops following it.
 */
async function endWithError(
  params: ExportSnapshotParams,
  progress: ExportProgress,
  completion: ExportCompletion,
  err: unknown,
  obs: ExportObservability,
  outcome: string
): Promise<never> {
  await CancellationScope.nonCancellable(() => notify(params, progress, completion));
  progress.phase = 'done';
  progress.finishedAt = completion.finishedAt;
  if (completion.detachedFrom !== null) {
    setCurrentDetails(
      `${details(params, progress)}\n\n**Detached**: this workflow was cancelled and stopped following export job ` +
        `\`${completion.exportJobId ?? '-'}\` (last seen ${completion.detachedFrom}). Atlas has no API to cancel an ` +
        'export job: it may still be running and writing to the bucket.'
    );
  }
  obs.publish({ state: outcome });
  obs.finished(outcome, progress.polls, Date.parse(progress.startedAt), workflowNow());
  if (isCancellation(err)) throw err;
  if (isPastDeadline(err)) {
    throw ApplicationFailure.create({
      type: FailureType.ExportDeadlineExceeded,
      message: `The export job could not be created before the polling deadline ${progress.deadlineAt}: ${err.cause?.message ?? err.message}`,
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

/** The activity ran out of the workflow's deadline (its schedule-to-close timeout), mid-attempt or between two. */
function isPastDeadline(err: unknown): err is ActivityFailure {
  return (
    err instanceof ActivityFailure && (err.retryState === RetryState.TIMEOUT || err.cause instanceof TimeoutFailure)
  );
}

function record(
  params: ExportSnapshotParams,
  progress: ExportProgress,
  status: ExportJobStatus,
  obs: ExportObservability
): void {
  progress.exportJobId = status.exportJobId;
  progress.state = status.state;
  progress.exportedCollections = status.exportedCollections;
  progress.totalCollections = status.totalCollections;
  progress.components = status.components;
  progress.lastUpdateAt = iso(workflowNow());
  setCurrentDetails(details(params, progress));
  obs.publishStatus(status.state, status.exportJobId, status.exportedCollections, status.totalCollections);
}

function completionOf(
  params: ExportSnapshotParams,
  progress: ExportProgress,
  status: ExportJobStatus | null,
  startedAtMs: number,
  terminal: boolean,
  state: string
): ExportCompletion {
  return {
    workflowId: workflowInfo().workflowId,
    groupId: params.groupId,
    clusterName: params.clusterName,
    snapshotId: params.snapshotId,
    exportBucketId: params.exportBucketId,
    exportJobId: status?.exportJobId ?? progress.exportJobId,
    state,
    exportedCollections: status?.exportedCollections ?? null,
    totalCollections: status?.totalCollections ?? null,
    components: status?.components ?? [],
    stateReason: status?.stateReason ?? null,
    prefix: status?.prefix ?? null,
    startedAt: iso(startedAtMs),
    finishedAt: terminal && status?.finishedAt ? status.finishedAt : iso(workflowNow()),
    terminal,
    attached: progress.attached,
    detachedFrom: null,
  };
}

/** Signals the listener, if any. A listener that is gone is recorded, not fatal: the result still stands. */
async function notify(
  params: ExportSnapshotParams,
  progress: ExportProgress,
  completion: ExportCompletion
): Promise<void> {
  if (!params.notify || !progress.notify) return;
  progress.phase = 'notifying';
  try {
    await getExternalWorkflowHandle(params.notify.workflowId).signal(exportCompletedSignal, completion);
    progress.notify.delivered = true;
  } catch (err) {
    progress.notify.delivered = false;
    progress.notify.error = err instanceof Error ? err.message : String(err);
    log.warn('exportCompleted signal could not be delivered', {
      notifyWorkflowId: params.notify.workflowId,
      error: progress.notify.error,
    });
  }
}

function details(params: ExportSnapshotParams, progress: ExportProgress): string {
  const count = collectionCount(progress) ?? 'no collection count yet';
  return [
    `**${progress.state ?? 'not created'}**: ${count}`,
    '',
    `- cluster \`${params.clusterName}\` in project \`${params.groupId}\``,
    `- snapshot \`${params.snapshotId}\` → bucket \`${params.exportBucketId}\``,
    `- export job \`${progress.exportJobId ?? '—'}\`, ${progress.polls} status reads`,
    `- last update ${progress.lastUpdateAt ?? '—'}, deadline ${progress.deadlineAt}`,
    ...(progress.stalledSince
      ? ['', `**Stalled**: no progress since ${progress.stalledSince} (polling.stallAfter)`]
      : []),
  ].join('\n');
}
