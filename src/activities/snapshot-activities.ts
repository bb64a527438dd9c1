import { activityInfo, log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { AtlasApiError, type AtlasClient, type ExportJob, type Snapshot } from '../atlas';
import { IDEMPOTENCY_TAG_KEY } from '../shared/export-contract';
import { FailureType } from '../shared/failure-types';
import { pollDelayMs, type BackoffSettings } from '../shared/poll-schedule';
import { AttemptCarry } from './attempt-carry';
import { atlasCall, notReadyFailure } from './failure-mapping';

/** Atlas `errorCode` of a take-snapshot request while another on-demand snapshot is queued or in progress. */
export const UNFINISHED_ON_DEMAND_SNAPSHOT = 'UNFINISHED_ON_DEMAND_SNAPSHOT';
/** Export job states that mean "this snapshot is (being) exported to this bucket". */
const EXPORTED_STATES: ReadonlySet<string> = new Set(['Successful', 'Queued', 'InProgress']);

export interface ClusterRef {
  groupId: string;
  clusterName: string;
}

/** A snapshot as workflows see it: identifiers and state only. */
export interface SnapshotInfo {
  snapshotId: string;
  /** Atlas `status`, lower-cased: `queued`, `inprogress`, `completed`, `failed` (or a newer value). */
  status: string | null;
  /** `onDemand`, `scheduled`, `fallback`. */
  snapshotType: string | null;
  /** When the snapshot completed (Atlas sends it once `completed`). */
  createdAt: string | null;
}

/** An export job of a snapshot to a bucket that is `Successful`, `Queued` or `InProgress`. */
export interface ExistingExport {
  exportJobId: string;
  state: string;
  /** The workflow id in this service's idempotency tag, or null for a job someone else created. */
  taggedWorkflowId: string | null;
}

export interface FindLatestInput extends ClusterRef {
  exportBucketId: string;
}

/** Result of `findLatestExportableSnapshot`. */
export interface LatestExportableSnapshot {
  /** The newest completed, exportable snapshot; null when the cluster has none. */
  snapshot: SnapshotInfo | null;
  /** Jobs already exporting (or having exported) that snapshot to the bucket. */
  existingExports: ExistingExport[];
}

export interface TakeSnapshotInput extends ClusterRef {
  description: string;
  retentionInDays: number;
}

export interface TakeSnapshotResult {
  snapshot: SnapshotInfo;
  /** True when Atlas refused a new one (`UNFINISHED_ON_DEMAND_SNAPSHOT`) and the unfinished one was adopted. */
  adopted: boolean;
}

export interface AwaitSnapshotInput extends ClusterRef {
  snapshotId: string;
  backoff: BackoffSettings;
  /** Wait this long before the first read (the first attempt only schedules the second, at no history cost). */
  firstReadDelayMs: number;
  jitterSeed: string;
}

export function toSnapshotInfo(s: Snapshot): SnapshotInfo {
  return {
    snapshotId: s.id,
    status: s.status?.toLowerCase() ?? null,
    snapshotType: s.snapshotType ?? null,
    createdAt: s.createdAt ?? null,
  };
}

function isOnDemand(s: Snapshot): boolean {
  return s.snapshotType === 'onDemand' || s.frequencyType?.toLowerCase() === 'ondemand';
}

function isUnfinished(s: Snapshot): boolean {
  const status = s.status?.toLowerCase();
  return status === 'queued' || status === 'inprogress';
}

function tagOf(job: ExportJob): string | null {
  return job.customData?.find((c) => c.key === IDEMPOTENCY_TAG_KEY)?.value ?? null;
}

/** Snapshot activities, bound to the same Atlas client (and its credentials) as the export activities. */
export function createSnapshotActivities(atlas: AtlasClient) {
  return {
    /** Every snapshot of a cluster, newest first as Atlas lists them. */
    async listSnapshots(ref: ClusterRef): Promise<SnapshotInfo[]> {
      return atlasCall(async (signal) =>
        (await atlas.listSnapshots(ref.groupId, ref.clusterName, { signal })).map(toSnapshotInfo)
      );
    },

    async getSnapshot(ref: ClusterRef & { snapshotId: string }): Promise<SnapshotInfo> {
      return atlasCall(async (signal) =>
        toSnapshotInfo(await atlas.getSnapshot(ref.groupId, ref.clusterName, ref.snapshotId, { signal }))
      );
    },

    /**
     * The newest `completed` snapshot that can be exported (fallback snapshots cannot), and the cluster's
     * export jobs that already export it to the bucket, so the caller can skip it.
     */
    async findLatestExportableSnapshot(input: FindLatestInput): Promise<LatestExportableSnapshot> {
      return atlasCall(async (signal) => {
        const snapshots = await atlas.listSnapshots(input.groupId, input.clusterName, { signal });
        let newest: Snapshot | undefined;
        for (const s of snapshots) {
          if (s.status?.toLowerCase() !== 'completed' || s.snapshotType === 'fallback') continue;
          if (newest === undefined || createdMs(s) > createdMs(newest)) newest = s;
        }
        if (newest === undefined) return { snapshot: null, existingExports: [] };
        const jobs = await atlas.listExportJobs(input.groupId, input.clusterName, { signal });
        const existingExports = jobs
          .filter(
            (j) =>
              j.snapshotId === newest.id && j.exportBucketId === input.exportBucketId && EXPORTED_STATES.has(j.state)
          )
          .map((j) => ({ exportJobId: j.id, state: j.state, taggedWorkflowId: tagOf(j) }));
        return { snapshot: toSnapshotInfo(newest), existingExports };
      });
    },

    /**
     * Takes an on-demand snapshot. Atlas allows one unfinished on-demand snapshot per cluster and has no
     * idempotency key, so a 400 `UNFINISHED_ON_DEMAND_SNAPSHOT` adopts that unfinished snapshot: a retry after
     * a lost response, or an overlapping run, ends up with the same snapshot instead of an error. When the
     * unfinished snapshot is not listed (it just finished), the attempt fails retryably and the next one takes
     * a new snapshot.
     */
    async takeSnapshot(input: TakeSnapshotInput): Promise<TakeSnapshotResult> {
      return atlasCall(async (signal) => {
        try {
          const taken = await atlas.takeSnapshot(
            input.groupId,
            input.clusterName,
            { description: input.description, retentionInDays: input.retentionInDays },
            { signal }
          );
          log.info('Took on-demand snapshot', { snapshotId: taken.id, status: taken.status });
          return { snapshot: toSnapshotInfo(taken), adopted: false };
        } catch (err) {
          if (!(
            err instanceof AtlasApiError &&
            err.status === 400 &&
            err.errorCode === UNFINISHED_ON_DEMAND_SNAPSHOT
          )) {
            throw err;
          }
          const unfinished = (await atlas.listSnapshots(input.groupId, input.clusterName, { signal })).find(
            (s) => isOnDemand(s) && isUnfinished(s)
          );
          if (unfinished) {
            log.info('Adopted the unfinished on-demand snapshot', { snapshotId: unfinished.id });
            return { snapshot: toSnapshotInfo(unfinished), adopted: true };
          }
          throw ApplicationFailure.create({
            type: UNFINISHED_ON_DEMAND_SNAPSHOT,
            message: `Atlas refused a new on-demand snapshot of ${input.clusterName} because one is unfinished, but none is listed as queued or in progress; retrying`,
            nonRetryable: false,
          });
        }
      });
    },

    /**
     * Waits for a snapshot to be `completed`, retry-driven like `pollExportJob`: one read per attempt, and a
     * BENIGN `SnapshotNotReady` with the next backoff step as `nextRetryDelay` while it is not. A `failed`
     * snapshot fails non-retryably with `SnapshotFailed`. The deadline is the activity's schedule-to-close
     * timeout.
     */
    async awaitSnapshotCompleted(input: AwaitSnapshotInput): Promise<SnapshotInfo> {
      const { attempt } = activityInfo();
      const deferred = input.firstReadDelayMs > 0;
      if (deferred && attempt === 1) {
        throw notReadyFailure(
          FailureType.SnapshotNotReady,
          `Snapshot ${input.snapshotId}: first read in ${input.firstReadDelayMs} ms`,
          input.firstReadDelayMs
        );
      }
      const reads = attempt - (deferred ? 1 : 0);
      const carry = AttemptCarry.load();
      const snapshot = await atlasCall(
        async (signal) =>
          toSnapshotInfo(await atlas.getSnapshot(input.groupId, input.clusterName, input.snapshotId, { signal })),
        carry
      );
      if (snapshot.status === 'completed') return snapshot;
      if (snapshot.status === 'failed') {
        throw ApplicationFailure.create({
          type: FailureType.SnapshotFailed,
          message: `On-demand snapshot ${input.snapshotId} of ${input.clusterName} failed; nothing to export`,
          nonRetryable: true,
        });
      }
      throw notReadyFailure(
        FailureType.SnapshotNotReady,
        `Snapshot ${input.snapshotId} is ${snapshot.status ?? 'in an unknown state'}`,
        pollDelayMs(reads, input.backoff, input.jitterSeed),
        carry
      );
    },
  };
}

function createdMs(s: Snapshot): number {
  const ms = s.createdAt ? Date.parse(s.createdAt) : NaN;
  return Number.isNaN(ms) ? -Infinity : ms;
}

export type SnapshotActivities = ReturnType<typeof createSnapshotActivities>;
