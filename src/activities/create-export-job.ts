import { activityInfo, log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import {
  AtlasApiError,
  AtlasNetworkError,
  AtlasResponseValidationError,
  type AtlasClient,
  type ExportJob,
} from '../atlas';
import { IDEMPOTENCY_TAG_KEY, RUN_TAG_KEY } from '../shared/contract/export-contract';
import type { ExportJobStatus } from '../shared/contract/export-contract';
import { FailureType } from '../shared/contract/failure-types';
import type { ExportIds } from '../shared/contract/workflow-ids';
import { learnDurations, type LearnedDurations } from '../shared/polling/poll-cadence';
import { AttemptCarry } from './attempt-carry';
import { toExportJobStatus } from './export-job-status';
import { checkCadences, checkTarget, type PlannedCadences, type TargetPolicy } from './target-policy';
import { atlasCall, boundRetryDelayMs } from './failure-mapping';

/** Slack kept between the end of a POST (at most the request timeout) and the end of its attempt. */
const POST_MARGIN_MS = 1_000;
/**
 * How long before this function began the server is assumed, at most, to have started the attempt (the poll
 * response's transit, a busy event loop).
 */
const DISPATCH_SLACK_MS = 5_000;
/**
 * A POST that got no answer (timeout, dropped connection, a gateway's 502/504) may still be acted on by Atlas after
 * the client gave up. No new POST is sent until this many request timeouts after it was sent, so a late job is
 * listed, and adopted, before a second one could be created. Beyond that, nothing tells a request Atlas dropped
 * from one it is still holding: a bounded wait is the whole defence.
 */
export const UNCERTAIN_POST_GRACE_TIMEOUTS = 2;

/** Input of `createExportJob`: the export's ids, and how to tag and choose its job. */
export interface CreateExportJobInput extends ExportIds {
  customData?: { key: string; value: string }[] | undefined;
  /** Tags the job in `customData`; a retry or a re-run with the same key adopts the job instead of creating one. */
  idempotencyKey: string;
  /**
   * The workflow's first run id, tagged too: a job of this very run is adopted whatever its state (it may have
   * failed before the retry looked), while a failed job of an earlier run with the same key is not.
   */
  runKey?: string;
  /**
   * When no job of this key exists but someone else's export of the same snapshot to the same bucket does:
   * `reuse` (the default) attaches to its newest `Successful` job; `export-again` creates a new job then. Either
   * way a `Queued` or `InProgress` export of the same snapshot and bucket is attached to (Atlas allows one active
   * export per snapshot), and `Failed` or `Cancelled` jobs never count.
   */
  ifAlreadyExported?: 'reuse' | 'export-again' | undefined;
  /** The cadence the job will be polled at: refused here, before the POST, when the worker's policy refuses it. */
  cadences?: PlannedCadences;
}

/** Result of `createExportJob`. */
export interface CreateExportJobResult {
  status: ExportJobStatus;
  /** True when an existing job was found and adopted (this key's own, or another caller's), false when created. */
  adopted: boolean;
  /**
   * True when the job is another caller's export of the same snapshot and bucket (active, or `Successful` with
   * `ifAlreadyExported: 'reuse'`): this workflow follows a job it did not create. Absent from workers before it.
   */
  attached?: boolean;
  /** When the status was read (worker clock, epoch ms): where the poll cadence starts counting. */
  observedAt: number;
  /** The cluster's past export durations, from the list read for adoption (no extra request). */
  learned: LearnedDurations | null;
}

const tagOf = (job: ExportJob, key: string) => job.customData?.find((c) => c.key === key)?.value;
const ACTIVE: ReadonlySet<string> = new Set(['Queued', 'InProgress']);

/** The newest job by `createdAt` (a job without a readable one counts as oldest; ties: the later listed). */
function newest(jobs: ExportJob[]): ExportJob | undefined {
  const at = (j: ExportJob) => {
    const ms = j.createdAt ? Date.parse(j.createdAt) : NaN;
    return Number.isNaN(ms) ? -Infinity : ms;
  };
  return jobs.reduce<ExportJob | undefined>(
    (best, j) => (best === undefined || at(j) >= at(best) ? j : best),
    undefined
  );
}

/**
 * The job `createExportJob` follows instead of POSTing, from the cluster's list, by these rules in order:
 * (a) this key's own job: this run's whatever its state, else one of an earlier run that is not `Failed` or
 * `Cancelled` (`attached: false`); (b) the newest `Queued`/`InProgress` job of the same snapshot and bucket,
 * whoever created it (`attached: true`); (c) unless `ifAlreadyExported` is `export-again`, the newest `Successful`
 * one (`attached: true`). `Failed` and `Cancelled` jobs of others never count. Undefined: POST.
 */
export function chooseExistingJob(
  all: ExportJob[],
  input: CreateExportJobInput
): { job: ExportJob; attached: boolean } | undefined {
  const sameTarget = all.filter((j) => j.snapshotId === input.snapshotId && j.exportBucketId === input.exportBucketId);
  const own = sameTarget.filter((j) => tagOf(j, IDEMPOTENCY_TAG_KEY) === input.idempotencyKey);
  const mine =
    own.find((j) => input.runKey !== undefined && tagOf(j, RUN_TAG_KEY) === input.runKey) ??
    own.find((j) => j.state !== 'Failed' && j.state !== 'Cancelled');
  if (mine) return { job: mine, attached: false };
  const active = newest(sameTarget.filter((j) => ACTIVE.has(j.state)));
  if (active) return { job: active, attached: true };
  if (input.ifAlreadyExported !== 'export-again') {
    const done = newest(sameTarget.filter((j) => j.state === 'Successful'));
    if (done) return { job: done, attached: true };
  }
  return undefined;
}

/** This key's own job only (rule (a)): what a POST of this activity that Atlas accepted became. */
function ownJob(all: ExportJob[], input: CreateExportJobInput): ExportJob | undefined {
  const found = chooseExistingJob(all, { ...input, ifAlreadyExported: 'export-again' });
  return found && !found.attached ? found.job : undefined;
}

/**
 * Whether Atlas may still act on a POST that failed this way: no answer came back after the request left (timeout,
 * dropped connection), or a gateway answered for a backend that may still be working (502, 504). A refused
 * connection never reached Atlas; an answer from Atlas itself (4xx, 500, 503) is final.
 */
function outcomeUnknown(err: unknown): boolean {
  if (err instanceof AtlasApiError) return err.status === 502 || err.status === 504;
  if (!(err instanceof AtlasNetworkError)) return false;
  return !['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT'].includes(err.code ?? '');
}

/** What every step of one `createExportJob` attempt works with. */
interface Attempt {
  atlas: AtlasClient;
  input: CreateExportJobInput;
  carry: AttemptCarry;
  signal: AbortSignal;
}

/** The activity's result for `job`: `adopted` when it existed, `attached` when someone else created it. */
function result({
  job,
  adopted,
  attached,
  all,
}: {
  job: ExportJob;
  adopted: boolean;
  attached: boolean;
  /** The cluster's jobs as listed (for the durations the cadence learns), or none. */
  all: ExportJob[];
}): CreateExportJobResult {
  return {
    status: toExportJobStatus(job),
    adopted,
    attached,
    observedAt: Date.now(),
    learned: learnDurations(all, job.id),
  };
}

function listJobs({ atlas, input, signal }: Attempt): Promise<ExportJob[]> {
  return atlas.listExportJobs(input.groupId, input.clusterName, { signal });
}

/**
 * Atlas accepted a POST of this activity (now or in an earlier attempt): the job exists and is never POSTed again.
 * Follows it by its id (one GET) when the answer named one, else finds it by the tag in the list; when neither
 * shows it yet, fails retryably, and `carry` tells the next attempt not to POST.
 */
async function followAccepted(attempt: Attempt): Promise<CreateExportJobResult> {
  const { atlas, input, carry, signal } = attempt;
  const exportJobId = carry.state.postAccepted?.exportJobId;
  if (exportJobId !== undefined) {
    try {
      const job = await atlas.getExportJob(input.groupId, input.clusterName, exportJobId, { signal });
      log.info('Created export job (its create answer was unreadable; read it back)', {
        exportJobId,
        state: job.state,
      });
      return result({ job, adopted: false, attached: false, all: [] });
    } catch (err) {
      // Not readable or not visible yet: the tag in the list may still show it.
      if (!(err instanceof AtlasResponseValidationError || (err instanceof AtlasApiError && err.status === 404))) {
        throw err;
      }
    }
  }
  const jobs = await listJobs(attempt);
  const job = ownJob(jobs, input);
  if (job) {
    log.info('Created export job (its create answer was unreadable; found it by its tag)', {
      exportJobId: job.id,
      state: job.state,
    });
    return result({ job, adopted: false, attached: false, all: jobs });
  }
  throw ApplicationFailure.create({
    type: FailureType.CreateAcceptedNotListed,
    message: `Atlas accepted the export job${exportJobId ? ` ${exportJobId}` : ''} but it cannot be read or found by its tag yet; looking again (it is never created twice)`,
    nonRetryable: false,
    details: [{ exportJobId: exportJobId ?? null }],
  });
}

/**
 * When this attempt must be over, checked against the worker's request timeout. Two attempts must never POST at
 * once: Temporal retries an attempt that outlived its start-to-close timeout while the old one may still be
 * running here. So a POST is only sent when it is sure to be over (answered or aborted by the request timeout)
 * before this attempt's time is up.
 */
function attemptEndsAt(atlas: AtlasClient): number {
  const info = activityInfo();
  // Near the polling deadline the server shortens start-to-close to what is left (schedule-to-close); that
  // is not a configuration error, and the check below defers until the deadline ends the activity.
  const cappedByDeadline =
    info.scheduleToCloseTimeoutMs > 0 && info.startToCloseTimeoutMs >= info.scheduleToCloseTimeoutMs;
  if (!cappedByDeadline && info.startToCloseTimeoutMs < atlas.requestTimeoutMs + POST_MARGIN_MS) {
    throw ApplicationFailure.create({
      type: FailureType.AttemptTimeoutTooShort,
      message: `polling.attemptTimeout (${info.startToCloseTimeoutMs} ms) is shorter than one Atlas request of this worker (ATLAS_REQUEST_TIMEOUT ${atlas.requestTimeoutMs} ms) plus ${POST_MARGIN_MS} ms; raise it or lower ATLAS_REQUEST_TIMEOUT`,
      nonRetryable: true,
    });
  }
  // Start-to-close runs from the attempt's dispatch, not its scheduling: behind the per-project rate limit an
  // attempt can wait in the task queue for minutes, and counting from its scheduling would defer every POST.
  const assumedStart = Math.max(info.currentAttemptScheduledTimestampMs, Date.now() - DISPATCH_SLACK_MS);
  return assumedStart + info.startToCloseTimeoutMs;
}

/**
 * Fails retryably when no POST may be sent now: an earlier one got no answer and Atlas may still act on it, or
 * too little of this attempt is left for one request.
 */
function refuseUnsafePost({ atlas, carry, endsAt }: Attempt & { endsAt: number }): void {
  const unknownAt = carry.state.postUncertainAt;
  const graceLeftMs =
    unknownAt === undefined ? 0 : unknownAt + UNCERTAIN_POST_GRACE_TIMEOUTS * atlas.requestTimeoutMs - Date.now();
  if (graceLeftMs > 0) {
    throw ApplicationFailure.create({
      type: FailureType.CreateOutcomeUnknown,
      message: `An earlier create request got no answer and Atlas may still act on it; not listed yet, so no new request for ${Math.ceil(graceLeftMs)} ms`,
      nonRetryable: false,
      nextRetryDelay: boundRetryDelayMs(graceLeftMs),
    });
  }
  if (endsAt - Date.now() < atlas.requestTimeoutMs + POST_MARGIN_MS) {
    throw ApplicationFailure.create({
      type: FailureType.CreateDeferred,
      message:
        'Too little time left in this attempt to create the export job safely; the next attempt lists again and creates',
      nonRetryable: false,
    });
  }
}

/**
 * POSTs the job, tagged with the idempotency key (and the run key). A 2xx whose answer is unreadable is followed
 * ({@link followAccepted}); a 409 follows the job that the list now shows; a POST that got no answer is remembered
 * ({@link UNCERTAIN_POST_GRACE_TIMEOUTS}).
 */
async function post(attempt: Attempt & { all: ExportJob[] }): Promise<CreateExportJobResult> {
  const { atlas, input, carry, signal, all } = attempt;
  const sentAt = Date.now();
  try {
    const job = await atlas.createExportJob(
      input.groupId,
      input.clusterName,
      {
        snapshotId: input.snapshotId,
        exportBucketId: input.exportBucketId,
        customData: [
          ...(input.customData ?? []),
          { key: IDEMPOTENCY_TAG_KEY, value: input.idempotencyKey },
          ...(input.runKey !== undefined ? [{ key: RUN_TAG_KEY, value: input.runKey }] : []),
        ],
      },
      { signal }
    );
    log.info('Created export job', { exportJobId: job.id, state: job.state });
    return result({ job, adopted: false, attached: false, all });
  } catch (err) {
    if (err instanceof AtlasResponseValidationError) {
      // A 2xx: Atlas created the job, whatever its answer looks like.
      carry.update({ postAccepted: err.resourceId ? { exportJobId: err.resourceId } : {} });
      return followAccepted(attempt);
    }
    if (err instanceof AtlasApiError && err.status === 409) {
      // Another export of the snapshot is active: ours from a racing request, or someone else's to attach to.
      const again = await listJobs(attempt);
      const found = chooseExistingJob(again, input);
      if (found) {
        log.info('Followed an existing export job after a 409', {
          exportJobId: found.job.id,
          state: found.job.state,
          attached: found.attached,
        });
        return result({ job: found.job, adopted: true, attached: found.attached, all: again });
      }
    }
    if (outcomeUnknown(err)) carry.update({ postUncertainAt: sentAt });
    throw err;
  }
}

/** The `createExportJob` activity, bound to one Atlas client and the worker's policy. */
export function createExportJobActivity(atlas: AtlasClient, policy: TargetPolicy) {
  /**
   * Creates the export job, idempotently, or follows one that already exports the snapshot to the bucket
   * ({@link chooseExistingJob}): lists the cluster's jobs first, and again after a 409. A POST Atlas accepted is
   * never repeated, even when its answer is unreadable; a POST that got no answer is not repeated until Atlas
   * could no longer act on it ({@link UNCERTAIN_POST_GRACE_TIMEOUTS}). Both are remembered across attempts in
   * heartbeat details.
   */
  return async function createExportJob(input: CreateExportJobInput): Promise<CreateExportJobResult> {
    const endsAt = attemptEndsAt(atlas);
    const carry = AttemptCarry.load();
    return atlasCall(async (signal) => {
      checkTarget(policy, input);
      checkCadences(policy, input.cadences);
      const attempt: Attempt = { atlas, input, carry, signal };
      if (carry.state.postAccepted) return followAccepted(attempt);
      const all = await listJobs(attempt);
      const existing = chooseExistingJob(all, input);
      if (existing) {
        log.info(existing.attached ? 'Attached to an existing export of the snapshot' : 'Adopted existing export job', {
          exportJobId: existing.job.id,
          state: existing.job.state,
        });
        return result({ job: existing.job, adopted: true, attached: existing.attached, all });
      }
      refuseUnsafePost({ ...attempt, endsAt });
      return post({ ...attempt, all });
    }, carry);
  };
}
