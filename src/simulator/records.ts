import {
  type ExportJobState,
  type SimExportComponent,
  type SimStats,
  type SnapshotStatus,
  type SnapshotType,
} from './types';

/**
 * What the simulated Atlas holds, as plain records (also the state file's contents): projects, clusters,
 * snapshots, buckets and export jobs. Their states over time are computed from the clock, not stored.
 */

/** A project (group). */
export interface ProjectRecord {
  groupId: string;
  orgId: string;
}

/** A cluster; `shards` 0 means a replica set. */
export interface ClusterRecord {
  groupId: string;
  name: string;
  shards: number;
  totalCollections: number;
  /** Replica sets: one name; sharded clusters: one per shard, then the config server. */
  replicaSetNames: string[];
}

/** The snapshot `type` of a cluster's snapshots, which also picks the snapshot paths that serve them. */
export type ClusterKind = 'replicaSet' | 'shardedCluster';

export function clusterKind(cluster: ClusterRecord): ClusterKind {
  return cluster.shards > 0 ? 'shardedCluster' : 'replicaSet';
}

/** A snapshot. Fixtures have a fixed status; API-taken snapshots progress over simulated time. */
export interface SnapshotRecord {
  id: string;
  groupId: string;
  clusterName: string;
  snapshotType: SnapshotType;
  description?: string;
  fixedStatus?: SnapshotStatus;
  /** Simulated ms when the snapshot leaves `queued`. */
  startedAt: number;
  /** Simulated ms when the snapshot is `completed` (and its `createdAt`). */
  completedAt: number;
  retentionInDays: number;
  storageSizeBytes: number;
  mongodVersion: string;
  members?: { id: string; replicaSetName: string }[];
}

/** An AWS export bucket. */
export interface BucketRecord {
  id: string;
  groupId: string;
  bucketName: string;
  iamRoleId: string;
  region: string;
}

/** An export job with its resolved plan; its state is derived from the simulated clock. */
export interface JobRecord {
  id: string;
  groupId: string;
  clusterName: string;
  snapshotId: string;
  exportBucketId: string;
  /** Simulated ms. */
  createdAt: number;
  queuedMs: number;
  inProgressMs: number;
  totalCollections: number;
  outcome: 'Successful' | 'Failed' | 'Cancelled';
  stateReason?: { errorCode: string; message: string };
  customData: { key?: string; value?: string }[];
  components?: SimExportComponent[];
  prefix: string;
}

/** Everything the state file holds. */
export interface StateData {
  simNow: number;
  rngState: number;
  projects: ProjectRecord[];
  clusters: ClusterRecord[];
  snapshots: SnapshotRecord[];
  buckets: BucketRecord[];
  jobs: JobRecord[];
  stats: SimStats;
}

/** State of a job at one instant. */
export interface JobProgress {
  state: ExportJobState;
  exportedCollections: number;
  /** Simulated ms, once terminal. */
  finishedAt?: number;
}

/** Options of {@link SimState.addExportJob}; durations and instants in simulated ms. */
export interface FixedExportJobOptions {
  createdAt: number;
  queuedMs: number;
  inProgressMs: number;
  exportBucketId: string;
  totalCollections?: number;
  outcome?: 'Successful' | 'Failed' | 'Cancelled';
}

/** Request of a new export job, already validated. */
export interface CreateJobInput {
  snapshotId: string;
  exportBucketId: string;
  customData: { key?: string; value?: string }[];
}

/** Key of a cluster in per-cluster maps. */
export function clusterKey(groupId: string, clusterName: string): string {
  return `${groupId}/${clusterName}`;
}
