import { activityInfo } from '@temporalio/activity';
import type { ApplicationFailure } from '@temporalio/common';
import { TERMINAL_EXPORT_JOB_STATES, type AtlasClient } from '../atlas';
import type { ExportJobStatus } from '../shared/contract/export-contract';
import { FailureType } from '../shared/contract/failure-types';
import type { BackoffSettings } from '../shared/polling/backoff';
import {
  decideNextPoll,
  initialCadenceMemory,
  rememberObservation,
  type CadenceMemory,
  type PollCadence,
  type PollObservation,
} from '../shared/polling/poll-cadence';
import type { ExportIds } from '../shared/contract/workflow-ids';
import { AttemptCarry } from './attempt-carry';
import { createExportJobActivity } from './create-export-job';
import { describeStatus, toExportJobStatus } from './export-job-status';
import { atlasCall, enforcePolicy, notReadyFailure } from './failure-mapping';
import { checkPolling, checkTarget, type TargetPolicy } from './target-policy';

export type { CreateExportJobInput, CreateExportJobResult } from './create-export-job';

/** An export job of a cluster. */
export interface ExportJobRef extends Pick<ExportIds, 'groupId' | 'clusterName'> {
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

/**
 * Export activities, bound to one Atlas client whose credentials never leave this closure, and to the worker's
 * policy, checked before any Atlas call.
 */
export function createExportActivities(atlas: AtlasClient, policy: TargetPolicy) {
  return {
    createExportJob: createExportJobActivity(atlas, policy),

    /** One status read of an export job. */
    async getExportJob(ref: ExportJobRef): Promise<ExportJobStatus> {
      return atlasCall(async (signal) => {
        checkTarget(policy, ref);
        return toExportJobStatus(await atlas.getExportJob(ref.groupId, ref.clusterName, ref.exportJobId, { signal }));
      });
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
      // Checked at every attempt, so a worker whose policy changed (a redeploy) stops polling what it now refuses.
      enforcePolicy(() => checkPolling(policy, input, input.cadence));
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
