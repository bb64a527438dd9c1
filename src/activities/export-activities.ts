import { activityInfo, log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import {
  AtlasApiError,
  AtlasResponseValidationError,
  TERMINAL_EXPORT_JOB_STATES,
  type AtlasClient,
  type ExportJob,
} from '../atlas';
import { IDEMPOTENCY_TAG_KEY, RUN_TAG_KEY, type ExportJobStatus } from '../shared/export-contract';
import { FailureType } from '../shared/failure-types';
import { pollDelayMs, type BackoffSettings } from '../shared/poll-schedule';
import { describeStatus, toExportJobStatus } from './export-job-status';
import { atlasCall, notReadyFailure } from './failure-mapping';

/** Slack kept between the end of a POST (at most the request timeout) and the end of its attempt. */
const POST_MARGIN_MS = 1_000;

/** Input of `createExportJob`. */
export interface CreateExportJobInput {
  groupId: string;
  clusterName: string;
  snapshotId: string;
  exportBucketId: string;
  customData?: { key: string; value: string }[] | undefined;
  /** Tags the job in `customData`; a retry or a re-run with the same key adopts the job instead of creating one. */
  idempotencyKey: string;
  /**
   * The workflow's first run id, tagged too: a job of this very run is adopted whatever its state (it may have
   * failed before the retry looked), while a failed job of an earlier run with the same key is not.
   */
  runKey?: string;
}

/** Result of `createExportJob`. */
export interface CreateExportJobResult {
  status: ExportJobStatus;
  /** True when an existing job with this idempotency key was found and adopted, false when this call created it. */
  adopted: boolean;
}

export interface ExportJobRef {
  groupId: string;
  clusterName: string;
  exportJobId: string;
}

/** Input of `pollExportJob`. */
export interface PollExportJobInput extends ExportJobRef {
  /** What the workflow last saw; an attempt completes only when this changed (or the job is terminal). */
  known: Pick<ExportJobStatus, 'state' | 'exportedCollections' | 'totalCollections'>;
  /** Status reads made before this activity, so the backoff continues where the last one stopped. */
  pollsBefore: number;
  backoff: BackoffSettings;
  /** Progress-only changes complete the activity no more often than this. */
  reportIntervalMs: number;
  /**
   * Wait this long before the first read. The first attempt then only schedules the second one through
   * `nextRetryDelay`, which costs no history event, where a workflow timer would cost two.
   */
  firstReadDelayMs: number;
  jitterSeed: string;
}

/** Result of `pollExportJob`. */
export interface PollExportJobResult {
  status: ExportJobStatus;
  /** Status reads this activity made. */
  polls: number;
}

/** Export activities, bound to one Atlas client whose credentials never leave this closure. */
export function createExportActivities(atlas: AtlasClient) {
  async function findTagged(input: CreateExportJobInput, signal: AbortSignal): Promise<ExportJob | undefined> {
    const tag = (job: ExportJob, key: string) => job.customData?.find((c) => c.key === key)?.value;
    const jobs = (await atlas.listExportJobs(input.groupId, input.clusterName, { signal })).filter(
      (job) =>
        tag(job, IDEMPOTENCY_TAG_KEY) === input.idempotencyKey &&
        job.snapshotId === input.snapshotId &&
        job.exportBucketId === input.exportBucketId
    );
    return (
      jobs.find((job) => input.runKey !== undefined && tag(job, RUN_TAG_KEY) === input.runKey) ??
      jobs.find((job) => job.state !== 'Failed' && job.state !== 'Cancelled')
    );
  }

  return {
    /**
     * Creates the export job, idempotently: lists the cluster's jobs first and adopts one tagged with the
     * same key; after a 409, or a 2xx answer it cannot read, it lists again and adopts. A crash between the
     * POST and this activity's completion therefore never leaves two jobs: the retry finds the first.
     */
    async createExportJob(input: CreateExportJobInput): Promise<CreateExportJobResult> {
      const info = activityInfo();
      // Two attempts must never POST at once: Temporal retries an attempt that outlived its start-to-close
      // timeout while the old one may still be running here. So a POST is only sent when it is sure to be over
      // (answered or aborted by the request timeout) before this attempt's time is up.
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
      const attemptEndsAt = info.currentAttemptScheduledTimestampMs + info.startToCloseTimeoutMs;
      return atlasCall(async (signal) => {
        const existing = await findTagged(input, signal);
        if (existing) {
          log.info('Adopted existing export job', { exportJobId: existing.id, state: existing.state });
          return { status: toExportJobStatus(existing), adopted: true };
        }
        if (attemptEndsAt - Date.now() < atlas.requestTimeoutMs + POST_MARGIN_MS) {
          throw ApplicationFailure.create({
            type: FailureType.CreateDeferred,
            message:
              'Too little time left in this attempt to create the export job safely; the next attempt lists again and creates',
            nonRetryable: false,
          });
        }
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
          return { status: toExportJobStatus(job), adopted: false };
        } catch (err) {
          // A 409 may be our own racing request; a 2xx whose body we cannot read means Atlas took the POST.
          // Either way our tagged job may exist: adopt it rather than fail with the job running untracked.
          if ((err instanceof AtlasApiError && err.status === 409) || err instanceof AtlasResponseValidationError) {
            const adopted = await findTagged(input, signal);
            if (adopted) {
              log.info('Adopted export job after an unusable create answer', {
                exportJobId: adopted.id,
                state: adopted.state,
                answer: err instanceof AtlasApiError ? err.status : 'unreadable body',
              });
              return { status: toExportJobStatus(adopted), adopted: true };
            }
          }
          throw err;
        }
      });
    },

    /** One status read of an export job. */
    async getExportJob(ref: ExportJobRef): Promise<ExportJobStatus> {
      return atlasCall(async (signal) =>
        toExportJobStatus(await atlas.getExportJob(ref.groupId, ref.clusterName, ref.exportJobId, { signal }))
      );
    },

    /**
     * One status read per attempt. Completes when the job is terminal, its state changed, or its progress
     * changed and `reportIntervalMs` passed since the activity was scheduled; otherwise fails with a BENIGN,
     * retryable `ExportNotReady` whose `nextRetryDelay` is the next backoff step. Temporal's retries add no
     * history events, so a long wait costs one activity attempt per poll and a few events per report.
     */
    async pollExportJob(input: PollExportJobInput): Promise<PollExportJobResult> {
      const info = activityInfo();
      const deferred = input.firstReadDelayMs > 0;
      if (deferred && info.attempt === 1) {
        throw notReady(
          `Export job ${input.exportJobId}: first read in ${input.firstReadDelayMs} ms`,
          input.firstReadDelayMs
        );
      }
      const reads = info.attempt - (deferred ? 1 : 0);
      const status = await atlasCall(async (signal) =>
        toExportJobStatus(await atlas.getExportJob(input.groupId, input.clusterName, input.exportJobId, { signal }))
      );
      const terminal = TERMINAL_EXPORT_JOB_STATES.has(status.state);
      const stateChanged = status.state !== input.known.state;
      const progressChanged =
        status.exportedCollections !== input.known.exportedCollections ||
        status.totalCollections !== input.known.totalCollections;
      const reportDue = Date.now() - info.scheduledTimestampMs >= input.reportIntervalMs;
      if (terminal || stateChanged || (progressChanged && reportDue)) {
        return { status, polls: reads };
      }
      throw notReady(
        `Export job ${input.exportJobId} is ${describeStatus(status)}`,
        pollDelayMs(input.pollsBefore + reads, input.backoff, input.jitterSeed)
      );
    },
  };
}

/** Retryable and BENIGN: logged at DEBUG and left out of failure metrics, since waiting is not an error. */
function notReady(message: string, nextRetryDelayMs: number): ApplicationFailure {
  return notReadyFailure(FailureType.ExportNotReady, message, nextRetryDelayMs);
}

export type ExportActivities = ReturnType<typeof createExportActivities>;
