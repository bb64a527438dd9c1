import { activityInfo, cancellationSignal, heartbeat, sleep } from '@temporalio/activity';
import { toExportJobStatus } from '../src/activities/export-job-status';
import { toApplicationFailure } from '../src/activities/failure-mapping';
import { TERMINAL_EXPORT_JOB_STATES, type AtlasClient } from '../src/atlas';
import type { ExportJobStatus } from '../src/shared/contract/export-contract';
import { pollDelayMs, type BackoffSettings } from '../src/shared/polling/backoff';

/** Input of the bench-only `watchExportJob` activity (the heartbeating polling pattern). */
export interface WatchExportJobInput {
  groupId: string;
  clusterName: string;
  exportJobId: string;
  /** What the workflow knows; returned unchanged if the job is already terminal. */
  known: ExportJobStatus;
  backoff: BackoffSettings;
  jitterSeed: string;
  /**
   * Longest stretch without a `heartbeat()` call: the backoff can sleep longer than the heartbeat timeout
   * (3 min cap vs 2 min), so a long sleep is cut into chunks with a heartbeat between them.
   */
  heartbeatEveryMs: number;
}

/** What `watchExportJob` heartbeats, and resumes from on a retry. */
export interface WatchProgress {
  polls: number;
  status: ExportJobStatus;
}

/** Every `heartbeat()` call the bench activity made, and when it returned, by workflow id (real epoch ms). */
export type HeartbeatLog = Map<string, { calls: number[]; endedAt: number | undefined }>;

/**
 * Bench activities: one long activity that polls Atlas in a loop with the product's backoff schedule,
 * heartbeating its progress, until the job is terminal. Built on the product's `AtlasClient` and status mapping.
 */
export function createBenchActivities(atlas: AtlasClient, heartbeats: HeartbeatLog) {
  return {
    async watchExportJob(input: WatchExportJobInput): Promise<WatchProgress> {
      const info = activityInfo();
      const key = info.workflowExecution?.workflowId ?? info.activityId;
      const record = heartbeats.get(key) ?? { calls: [], endedAt: undefined };
      heartbeats.set(key, record);
      const beat = (p: WatchProgress): void => {
        record.calls.push(Date.now());
        heartbeat(p);
      };
      // A retry resumes from the last heartbeat that reached the server (a checkpoint).
      const resumed = info.heartbeatDetails as WatchProgress | undefined;
      let progress: WatchProgress = resumed ?? { polls: 0, status: input.known };
      while (!TERMINAL_EXPORT_JOB_STATES.has(progress.status.state)) {
        let wait = pollDelayMs(progress.polls, input.backoff, input.jitterSeed);
        while (wait > 0) {
          const step = Math.min(wait, input.heartbeatEveryMs);
          await sleep(step);
          wait -= step;
          if (wait > 0) beat(progress);
        }
        let status: ExportJobStatus;
        try {
          status = toExportJobStatus(
            await atlas.getExportJob(input.groupId, input.clusterName, input.exportJobId, {
              signal: cancellationSignal(),
            })
          );
        } catch (err) {
          throw toApplicationFailure(err, info.attempt, key);
        }
        progress = { polls: progress.polls + 1, status };
        beat(progress);
      }
      record.endedAt = Date.now();
      return progress;
    },
  };
}

export type BenchActivities = ReturnType<typeof createBenchActivities>;
