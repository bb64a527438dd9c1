import { daysMs } from './clock';
import {
  clusterKind,
  type BucketRecord,
  type ClusterRecord,
  type JobProgress,
  type JobRecord,
  type SnapshotRecord,
} from './records';
import { type SnapshotStatus } from './types';

/** A `Link` object. */
export interface LinkBody {
  rel: string;
  href: string;
}

/** ISO-8601 in UTC without milliseconds, as Atlas formats timestamps. */
export function isoDate(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

function selfLink(href: string): LinkBody[] {
  return [{ rel: 'self', href }];
}

const V2 = '/api/atlas/v2';

/** URL paths of resources, relative to the server root. */
export const resourcePath = {
  job: (job: JobRecord): string =>
    `${V2}/groups/${job.groupId}/clusters/${encodeURIComponent(job.clusterName)}/backup/exports/${job.id}`,
  snapshot: (s: SnapshotRecord): string =>
    `${V2}/groups/${s.groupId}/clusters/${encodeURIComponent(s.clusterName)}/backup/snapshots/${
      s.members !== undefined ? 'shardedCluster/' : ''
    }${s.id}`,
  bucket: (b: BucketRecord): string => `${V2}/groups/${b.groupId}/backup/exportBuckets/${b.id}`,
};

/** `DiskBackupExportJob`. Replica sets carry `exportStatus`, sharded clusters `components`. */
export function renderJob(job: JobRecord, progress: JobProgress, baseUrl: string): Record<string, unknown> {
  const body: Record<string, unknown> = {
    id: job.id,
    snapshotId: job.snapshotId,
    exportBucketId: job.exportBucketId,
    createdAt: isoDate(job.createdAt),
    customData: job.customData,
    links: selfLink(baseUrl + resourcePath.job(job)),
    prefix: job.prefix,
    state: progress.state,
  };
  if (job.components !== undefined) {
    body.components = job.components.map((c) => ({ exportId: c.exportId, replicaSetName: c.replicaSetName }));
  } else {
    body.exportStatus =
      progress.state === 'Queued'
        ? { exportedCollections: 0, totalCollections: 0 }
        : { exportedCollections: progress.exportedCollections, totalCollections: job.totalCollections };
  }
  if (progress.finishedAt !== undefined) {
    body.finishedAt = isoDate(progress.finishedAt);
    if (job.stateReason !== undefined) body.stateReason = { ...job.stateReason };
  }
  return body;
}

function frequencyType(snapshot: SnapshotRecord): string {
  return snapshot.snapshotType === 'onDemand' ? 'ondemand' : 'daily';
}

/**
 * `DiskBackupReplicaSet`, or `DiskBackupShardedClusterSnapshot` for sharded clusters. As recorded from Atlas,
 * `createdAt` is absent until the snapshot finishes, `cloudProvider` until it starts, and on-demand snapshots
 * report `frequencyType: "ondemand"`.
 */
export function renderSnapshot(
  snapshot: SnapshotRecord,
  cluster: ClusterRecord,
  status: SnapshotStatus,
  baseUrl: string
): Record<string, unknown> {
  const body: Record<string, unknown> = {
    id: snapshot.id,
    copyRegions: [],
    expiresAt: isoDate(snapshot.completedAt + daysMs(snapshot.retentionInDays)),
    frequencyType: frequencyType(snapshot),
    links: selfLink(baseUrl + resourcePath.snapshot(snapshot)),
    mongodVersion: snapshot.mongodVersion,
    policyItems: [],
    snapshotType: snapshot.snapshotType,
    status,
    storageSizeBytes: snapshot.storageSizeBytes,
    type: clusterKind(cluster),
  };
  if (status !== 'queued') body.cloudProvider = 'AWS';
  if (status === 'completed' || status === 'failed') body.createdAt = isoDate(snapshot.completedAt);
  if (snapshot.description !== undefined) body.description = snapshot.description;
  if (snapshot.members !== undefined) {
    body.configServerType = 'DEDICATED';
    body.members = snapshot.members.map((m) => ({ cloudProvider: 'AWS', id: m.id, replicaSetName: m.replicaSetName }));
    body.snapshotIds = snapshot.members.map((m) => m.id);
  } else {
    body.replicaSetName = cluster.replicaSetNames[0];
  }
  return body;
}

/** `DiskBackupSnapshotAWSExportBucketResponse`. */
export function renderBucket(bucket: BucketRecord, baseUrl: string): Record<string, unknown> {
  return {
    _id: bucket.id,
    bucketName: bucket.bucketName,
    cloudProvider: 'AWS',
    iamRoleId: bucket.iamRoleId,
    links: selfLink(baseUrl + resourcePath.bucket(bucket)),
    region: bucket.region,
    requirePrivateNetworking: false,
  };
}
