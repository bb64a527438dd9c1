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
import type { BackoffSettings } from '../shared/poll-schedule';
import {
  decideNextPoll,
  initialCadenceMemory,
  learnDurations,
  rememberObservation,
  type CadenceMemory,
  type LearnedDurations,
  type PollCadence,
  type PollObservation,
} from '../shared/poll-cadence';
import { AttemptCarry } from './attempt-carry';
import { describeStatus, toExportJobStatus } from './export-job-status';
import { atlasCall, notReadyFailure } from './failure-mapping';

/** Slack kept between the end of a POST (at most the request timeout) and the end of its attempt. */
const POST_MARGIN_MS = 1_000;
/**
 * How long before this function began the server is assumed, at most, to have started the attempt (the poll
 * response's transit, a busy event loop).
 */
const DISPATCH_SLACK_MS = 5_000;

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
  /** When the status was read (worker clock, epoch ms): where the poll cadence starts counting. */
  observedAt: number;
  /** The cluster's past export durations, from the list read for adoption (no extra request). */
  learned: LearnedDurations | null;
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
  /** Status reads made before this activity, so a counting cadence continues where the last one stopped. */
  pollsBefore: number;
  cadence: PollCadence;
  /**
   * What the cadence learned so far, as of `known` (read at `memory.observedAt`). The first attempt does not
   * read: it defers the first read to the cadence's next poll time through `nextRetryDelay`, which costs no
   * history event, where a workflow timer would cost two.
   */
  memory: CadenceMemory;
  /** Progress-only changes complete the activity no more often than this. */
  reportIntervalMs: number;
  jitterSeed: string;
}

/**
 * What a workflow worker from before polling modes sends (during a rolling deploy): an exponential backoff and
 * the first read's delay instead of `cadence` and `memory`.
 */
type LegacyPollExportJobInput = Omit<PollExportJobInput, 'cadence' | 'memory'> & {
  backoff: BackoffSettings;
  firstReadDelayMs: number;
};

/** Result of `pollExportJob`. */
export interface PollExportJobResult {
  status: ExportJobStatus;
  /** Status reads this activity made. */
  polls: number;
  /**
   * The cadence's memory as of `status`; pass it to the next `pollExportJob`. The decision made on this read is
   * `decideNextPoll` of it and `status`, so the workflow can show it without it being sent twice.
   */
  memory: CadenceMemory;
}

/** Export activities, bound to one Atlas client whose credentials never leave this closure. */
export function createExportActivities(atlas: AtlasClient) {
  /** The job tagged with the input's key, if any, and every job of the cluster (for learned durations). */
  async function findTagged(
    input: CreateExportJobInput,
    signal: AbortSignal
  ): Promise<{ tagged: ExportJob | undefined; all: ExportJob[] }> {
    const tag = (job: ExportJob, key: string) => job.customData?.find((c) => c.key === key)?.value;
    const all = await atlas.listExportJobs(input.groupId, input.clusterName, { signal });
    const jobs = all.filter(
      (job) =>
        tag(job, IDEMPOTENCY_TAG_KEY) === input.idempotencyKey &&
        job.snapshotId === input.snapshotId &&
        job.exportBucketId === input.exportBucketId
    );
    const tagged =
      jobs.find((job) => input.runKey !== undefined && tag(job, RUN_TAG_KEY) === input.runKey) ??
      jobs.find((job) => job.state !== 'Failed' && job.state !== 'Cancelled');
    return { tagged, all };
  }
  const created = (job: ExportJob, adopted: boolean, all: ExportJob[]): CreateExportJobResult => ({
    status: toExportJobStatus(job),
    adopted,
    observedAt: Date.now(),
    learned: learnDurations(all, job.id),
  });

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
      // Start-to-close runs from the attempt's dispatch, not its scheduling: behind the per-project rate limit an
      // attempt can wait in the task queue for minutes, and counting from its scheduling would defer every POST.
      const assumedStart = Math.max(info.currentAttemptScheduledTimestampMs, Date.now() - DISPATCH_SLACK_MS);
      const attemptEndsAt = assumedStart + info.startToCloseTimeoutMs;
      return atlasCall(async (signal) => {
        const { tagged: existing, all } = await findTagged(input, signal);
        if (existing) {
          log.info('Adopted existing export job', { exportJobId: existing.id, state: existing.state });
          return created(existing, true, all);
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
          return created(job, false, all);
        } catch (err) {
          // A 409 may be our own racing request; a 2xx whose body we cannot read means Atlas took the POST.
          // Either way our tagged job may exist: adopt it rather than fail with the job running untracked.
          if ((err instanceof AtlasApiError && err.status === 409) || err instanceof AtlasResponseValidationError) {
            const again = await findTagged(input, signal);
            if (again.tagged) {
              log.info('Adopted export job after an unusable create answer', {
                exportJobId: again.tagged.id,
                state: again.tagged.state,
                answer: err instanceof AtlasApiError ? err.status : 'unreadable body',
              });
              return created(again.tagged, true, again.all);
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
     * One status read per attempt. Completes when the job is terminal, its state changed, the cadence learned
     * something or changed phase, or its progress changed and `reportIntervalMs` passed since the activity was
     * scheduled; otherwise fails with a BENIGN, retryable `ExportNotReady` whose `nextRetryDelay` is the poll
     * cadence's next wait. Temporal's retries add no history events, so a long wait costs one activity attempt
     * per poll and a few events per report.
     */
    async pollExportJob(given: PollExportJobInput | LegacyPollExportJobInput): Promise<PollExportJobResult> {
      const info = activityInfo();
      const input = 'cadence' in given ? given : fromLegacyInput(given, info.scheduledTimestampMs);
      const known: PollObservation = { ...input.known, at: input.memory.observedAt };
      if (info.attempt === 1) {
        const first = decideNextPoll(input.cadence, input.memory, known, input.pollsBefore, input.jitterSeed);
        const delayMs = Math.max(1, (first.nextPollAt ?? 0) - Date.now());
        throw notReady(`Export job ${input.exportJobId}: first read in ${delayMs} ms; ${first.reason}`, delayMs);
      }
      const reads = info.attempt - 1;
      const carry = AttemptCarry.load();
      const status = await atlasCall(
        async (signal) =>
          toExportJobStatus(await atlas.getExportJob(input.groupId, input.clusterName, input.exportJobId, { signal })),
        carry
      );
      const current: PollObservation = {
        state: status.state,
        exportedCollections: status.exportedCollections,
        totalCollections: status.totalCollections,
        at: Date.now(),
      };
      const learned = rememberObservation(input.cadence, input.memory, known, current, input.jitterSeed);
      const decision = decideNextPoll(input.cadence, learned, current, input.pollsBefore + reads, input.jitterSeed);
      const terminal = TERMINAL_EXPORT_JOB_STATES.has(status.state);
      const stateChanged = status.state !== input.known.state;
      const progressChanged =
        status.exportedCollections !== input.known.exportedCollections ||
        status.totalCollections !== input.known.totalCollections;
      const reportDue = current.at - info.scheduledTimestampMs >= input.reportIntervalMs;
      // A memory from before the first read has no phase yet: it is the phase that read was deferred in.
      const reportedPhase =
        input.memory.phase ??
        decideNextPoll(input.cadence, input.memory, known, input.pollsBefore, input.jitterSeed).phase;
      const cadenceChanged = learned !== input.memory || decision.phase !== reportedPhase;
      if (terminal || stateChanged || cadenceChanged || (progressChanged && reportDue)) {
        return {
          status,
          polls: reads,
          memory: { ...learned, observedAt: current.at, phase: decision.phase },
        };
      }
      throw notReady(
        `Export job ${input.exportJobId} is ${describeStatus(status)}; next read at ${isoOrNone(decision.nextPollAt)}: ${decision.reason}`,
        decision.delayMs,
        carry
      );
    },
  };
}

function isoOrNone(ms: number | null): string {
  return ms === null ? 'none' : new Date(Math.round(ms)).toISOString();
}

/** The same exponential schedule as before modes: the first read `firstReadDelayMs` after scheduling. */
function fromLegacyInput(input: LegacyPollExportJobInput, scheduledAt: number): PollExportJobInput {
  const { backoff, firstReadDelayMs, ...rest } = input;
  const cadence: PollCadence = { mode: 'exponential', ...backoff, timeScale: 1 };
  const firstDelay = decideNextPoll(
    cadence,
    initialCadenceMemory(0, null),
    { ...input.known, at: 0 },
    input.pollsBefore,
    input.jitterSeed
  ).delayMs;
  return { ...rest, cadence, memory: initialCadenceMemory(scheduledAt + firstReadDelayMs - firstDelay, null) };
}

/** Retryable and BENIGN: logged at DEBUG and left out of failure metrics, since waiting is not an error. */
function notReady(message: string, nextRetryDelayMs: number, carry?: AttemptCarry): ApplicationFailure {
  return notReadyFailure(FailureType.ExportNotReady, message, nextRetryDelayMs, carry);
}

export type ExportActivities = ReturnType<typeof createExportActivities>;
