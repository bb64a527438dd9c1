import { activityInfo, log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { AtlasApiError, type AtlasClient, type ExportJob, type Snapshot } from '../atlas';
import { IDEMPOTENCY_TAG_KEY } from '../shared/contract/export-contract';
import { FailureType } from '../shared/contract/failure-types';
import { pollDelayMs, type BackoffSettings } from '../shared/polling/backoff';
import type { ExportIds } from '../shared/contract/workflow-ids';
import { AttemptCarry } from './attempt-carry';
import { atlasCall, enforcePolicy, notReadyFailure } from './failure-mapping';
import {
  checkCadences,
  checkPolling,
  checkRetention,
  checkTarget,
  type PlannedCadences,
  type TargetPolicy,
} from './target-policy';

/** Atlas `errorCode` of a take-snapshot request while another on-demand snapshot is queued or in progress. */
export const UNFINISHED_ON_DEMAND_SNAPSHOT = 'UNFINISHED_ON_DEMAND_SNAPSHOT';
/** Export job states that mean "this snapshot is (being) exported to this bucket". */
const EXPORTED_STATES: ReadonlySet<string> = new Set(['Successful', 'Queued', 'InProgress']);

/**
 * Which snapshot paths serve a cluster: `replicaSet` (`…/backup/snapshots`, `…/snapshots/{id}`) or `shardedCluster`
 * (`…/snapshots/shardedClusters`, `…/snapshots/shardedCluster/{id}`), as the snapshot `type` says.
 */
export type ClusterKind = 'replicaSet' | 'shardedCluster';

/** A cluster, by the ids of an export that name it. */
export interface ClusterRef extends Pick<ExportIds, 'groupId' | 'clusterName'> {
  /** The cluster's kind when the caller knows it (e.g. from `takeSnapshot`); found out otherwise. */
  clusterKind?: ClusterKind | undefined;
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
  /** The kind of its cluster (Atlas `type`), which picks the paths that serve it; absent or null if unknown. */
  clusterKind?: ClusterKind | null;
}

/** An export job of a snapshot to a bucket that is `Successful`, `Queued` or `InProgress`. */
export interface ExistingExport {
  exportJobId: string;
  state: string;
  /** The workflow id in this service's idempotency tag, or null for a job someone else created. */
  taggedWorkflowId: string | null;
}

export interface FindLatestInput extends ClusterRef, Pick<ExportIds, 'exportBucketId'> {}

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
  /** The cadences the snapshot and its export will be polled at: refused before the snapshot is taken. */
  cadences?: PlannedCadences;
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

export function toSnapshotInfo(s: Snapshot, kind?: ClusterKind): SnapshotInfo {
  return {
    snapshotId: s.id,
    status: s.status?.toLowerCase() ?? null,
    snapshotType: s.snapshotType ?? null,
    createdAt: s.createdAt ?? null,
    clusterKind: kindOf(s) ?? kind ?? null,
  };
}

function kindOf(s: Snapshot): ClusterKind | undefined {
  return s.type === 'replicaSet' || s.type === 'shardedCluster' ? s.type : undefined;
}

const isNotFound = (err: unknown) => err instanceof AtlasApiError && err.status === 404;

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

/** What a snapshot read needs: the client, the cluster and the attempt's abort signal. */
interface SnapshotRead<R extends ClusterRef = ClusterRef> {
  atlas: AtlasClient;
  ref: R;
  signal: AbortSignal;
}

/**
 * A cluster's snapshots, from the path that serves its kind. The kind unknown, the replica-set list is read
 * first and, when it lists nothing, the sharded-cluster list: the spec names the two lists "Replica Set Cloud
 * Backups" and "Sharded Cluster Cloud Backups" without saying what each answers for the other kind; an empty
 * list is what the simulator answers there (an inference; a replica set with no snapshots costs one more
 * request, which finds none either).
 */
async function listOf({
  atlas,
  ref,
  signal,
}: SnapshotRead): Promise<{ snapshots: Snapshot[]; kind: ClusterKind | undefined }> {
  if (ref.clusterKind === 'shardedCluster') {
    return {
      snapshots: await atlas.listShardedClusterSnapshots(ref.groupId, ref.clusterName, { signal }),
      kind: 'shardedCluster',
    };
  }
  const replicaSet = await atlas.listSnapshots(ref.groupId, ref.clusterName, { signal });
  if (replicaSet.length > 0 || ref.clusterKind === 'replicaSet') return { snapshots: replicaSet, kind: 'replicaSet' };
  const sharded = await atlas.listShardedClusterSnapshots(ref.groupId, ref.clusterName, { signal });
  return { snapshots: sharded, kind: sharded.length > 0 ? 'shardedCluster' : undefined };
}

/**
 * One snapshot, from the path that serves its cluster's kind. The kind unknown, the replica-set path is read first
 * and, on 404, the sharded-cluster one (each path serves only its kind, per the spec); a 404 from both is the
 * replica-set path's.
 */
async function readOne({
  atlas,
  ref,
  signal,
}: SnapshotRead<ClusterRef & { snapshotId: string }>): Promise<{ snapshot: Snapshot; kind: ClusterKind }> {
  const sharded = () => atlas.getShardedClusterSnapshot(ref.groupId, ref.clusterName, ref.snapshotId, { signal });
  if (ref.clusterKind === 'shardedCluster') return { snapshot: await sharded(), kind: 'shardedCluster' };
  try {
    return {
      snapshot: await atlas.getSnapshot(ref.groupId, ref.clusterName, ref.snapshotId, { signal }),
      kind: 'replicaSet',
    };
  } catch (err) {
    if (ref.clusterKind === 'replicaSet' || !isNotFound(err)) throw err;
    try {
      return { snapshot: await sharded(), kind: 'shardedCluster' };
    } catch (second) {
      throw isNotFound(second) ? err : second;
    }
  }
}

/**
 * Atlas refused a new on-demand snapshot (`err`): when that is because one is unfinished, adopts it; when that one
 * is not listed (it just finished), fails retryably so the next attempt takes a new snapshot. Other errors rethrow.
 */
async function adoptUnfinished(read: SnapshotRead<TakeSnapshotInput>, err: unknown): Promise<TakeSnapshotResult> {
  if (!(err instanceof AtlasApiError && err.status === 400 && err.errorCode === UNFINISHED_ON_DEMAND_SNAPSHOT)) {
    throw err;
  }
  const { snapshots, kind } = await listOf(read);
  const unfinished = snapshots.find((s) => isOnDemand(s) && isUnfinished(s));
  if (unfinished) {
    log.info('Adopted the unfinished on-demand snapshot', { snapshotId: unfinished.id });
    return { snapshot: toSnapshotInfo(unfinished, kind), adopted: true };
  }
  throw ApplicationFailure.create({
    type: UNFINISHED_ON_DEMAND_SNAPSHOT,
    message: `Atlas refused a new on-demand snapshot of ${read.ref.clusterName} because one is unfinished, but none is listed as queued or in progress; retrying`,
    nonRetryable: false,
  });
}

/**
 * Snapshot activities, bound to the same Atlas client (and its credentials) and policy as the export activities;
 * each checks the policy before its first Atlas call.
 */
export function createSnapshotActivities(atlas: AtlasClient, policy: TargetPolicy) {
  return {
    /** Every snapshot of a cluster (either kind), newest first as Atlas lists them. */
    async listSnapshots(ref: ClusterRef): Promise<SnapshotInfo[]> {
      return atlasCall(async (signal) => {
        checkTarget(policy, ref);
        const { snapshots, kind } = await listOf({ atlas, ref, signal });
        return snapshots.map((s) => toSnapshotInfo(s, kind));
      });
    },

    /** One snapshot of a cluster of either kind. */
    async getSnapshot(ref: ClusterRef & { snapshotId: string }): Promise<SnapshotInfo> {
      return atlasCall(async (signal) => {
        checkTarget(policy, ref);
        const { snapshot, kind } = await readOne({ atlas, ref, signal });
        return toSnapshotInfo(snapshot, kind);
      });
    },

    /**
     * The newest `completed` snapshot that can be exported (fallback snapshots cannot), and the cluster's
     * export jobs that already export it to the bucket, so the caller can skip it.
     */
    async findLatestExportableSnapshot(input: FindLatestInput): Promise<LatestExportableSnapshot> {
      return atlasCall(async (signal) => {
        checkTarget(policy, input);
        const { snapshots, kind } = await listOf({ atlas, ref: input, signal });
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
        return { snapshot: toSnapshotInfo(newest, kind), existingExports };
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
        checkTarget(policy, input);
        checkRetention(policy, input.retentionInDays);
        checkCadences(policy, input.cadences);
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
          return adoptUnfinished({ atlas, ref: input, signal }, err);
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
      enforcePolicy(() => checkPolling(policy, input, input.backoff));
      const deferred = input.firstReadDelayMs > 0;
      if (deferred && attempt === 1) {
        throw notReadyFailure(
          FailureType.SnapshotNotReady,
          `Snapshot ${input.snapshotId}: first read in ${input.firstReadDelayMs} ms`,
          input.firstReadDelayMs
        );
      }
      const reads = attempt - (deferred ? 1 : 0);
      // The kind, once found, is carried to the next attempts, so a sharded cluster's wait costs one read each.
      const carry = AttemptCarry.load();
      const snapshot = await atlasCall(async (signal) => {
        const ref = { ...input, clusterKind: input.clusterKind ?? carry.state.clusterKind };
        const found = await readOne({ atlas, ref, signal });
        // Only a sharded cluster needs it: the replica-set path is the one read first anyway (and no heartbeat).
        if (found.kind === 'shardedCluster') carry.update({ clusterKind: found.kind });
        return toSnapshotInfo(found.snapshot, found.kind);
      }, carry);
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
