import { AlertWebhooks } from './alert-webhooks';
import { type SimClock } from './clock';
import { INVENTED_ERROR_CODES, SimApiError } from './errors';
import { ExportJobs, pushTo } from './export-jobs';
import { type IdGenerator, type SeededRandom } from './random';
import {
  clusterKey,
  type BucketRecord,
  type ClusterRecord,
  type CreateJobInput,
  type JobRecord,
  type ProjectRecord,
  type SnapshotRecord,
  type StateData,
} from './records';
import { type ExportPlan, type SimStats, type SnapshotPlan, type SnapshotStatus, type SnapshotType } from './types';

/** Default lifecycle of on-demand snapshots (about 3 simulated minutes). */
export const DEFAULT_SNAPSHOT_PLAN: SnapshotPlan = { queuedMs: 30_000, inProgressMs: 150_000 };

function insertNewestFirst(map: Map<string, SnapshotRecord[]>, key: string, record: SnapshotRecord): void {
  let list = map.get(key);
  if (list === undefined) {
    list = [];
    map.set(key, list);
  }
  let low = 0;
  let high = list.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if ((list[mid] as SnapshotRecord).completedAt >= record.completedAt) low = mid + 1;
    else high = mid;
  }
  list.splice(low, 0, record);
}

/**
 * Projects, clusters, snapshots, buckets and export jobs ({@link ExportJobs}), with lifecycles computed lazily
 * from the simulated clock. All lookups are by map key. Fixtures add records through the `insert…` methods.
 */
export class SimState {
  private readonly projects = new Map<string, ProjectRecord>();
  private readonly clusters = new Map<string, ClusterRecord>();
  private readonly snapshots = new Map<string, SnapshotRecord>();
  private readonly snapshotsByCluster = new Map<string, SnapshotRecord[]>();
  private readonly lastOnDemandByCluster = new Map<string, SnapshotRecord>();
  private readonly buckets = new Map<string, BucketRecord>();
  private readonly bucketsByProject = new Map<string, BucketRecord[]>();
  readonly jobs: ExportJobs;
  /** Alert configurations and the webhooks they send when export jobs end. */
  readonly alerts: AlertWebhooks;
  private rateLimitedCount = 0;
  private loading = false;

  constructor(
    private readonly clock: SimClock,
    readonly ids: IdGenerator,
    readonly random: SeededRandom,
    defaultPlan: ExportPlan,
    private readonly snapshotPlan: SnapshotPlan,
    private readonly changed: () => void
  ) {
    this.jobs = new ExportJobs(clock, ids, random, defaultPlan);
    this.alerts = new AlertWebhooks(clock, ids, random, () => this.jobs.views());
  }

  /** Simulated epoch ms. */
  now(): number {
    return this.clock.now();
  }

  /** Tells the state file something changed (not while loading it). */
  markChanged(): void {
    if (!this.loading) this.changed();
  }

  // ---- records ----

  insertProject(record: ProjectRecord): void {
    this.projects.set(record.groupId, record);
    this.markChanged();
  }

  insertCluster(record: ClusterRecord): void {
    this.clusters.set(clusterKey(record.groupId, record.name), record);
    this.markChanged();
  }

  insertBucket(record: BucketRecord): void {
    this.buckets.set(record.id, record);
    pushTo(this.bucketsByProject, record.groupId, record);
    this.markChanged();
  }

  /** A snapshot record of `cluster` (not yet inserted), with new ids. */
  newSnapshot(
    cluster: ClusterRecord,
    snapshotType: SnapshotType,
    startedAt: number,
    completedAt: number,
    retentionInDays: number
  ): SnapshotRecord {
    const record: SnapshotRecord = {
      id: this.ids.next(),
      groupId: cluster.groupId,
      clusterName: cluster.name,
      snapshotType,
      startedAt: Math.floor(startedAt),
      completedAt: Math.floor(completedAt),
      retentionInDays,
      storageSizeBytes: 1_000_000_000 + (this.random.nextUint32() % 4_000_000_000),
      mongodVersion: '8.0.4',
    };
    if (cluster.shards > 0) {
      record.members = cluster.replicaSetNames.map((replicaSetName) => ({ id: this.ids.next(), replicaSetName }));
    }
    return record;
  }

  insertSnapshot(record: SnapshotRecord): void {
    const key = clusterKey(record.groupId, record.clusterName);
    this.snapshots.set(record.id, record);
    this.ids.reserve(record.id);
    insertNewestFirst(this.snapshotsByCluster, key, record);
    if (record.snapshotType === 'onDemand') {
      const previous = this.lastOnDemandByCluster.get(key);
      if (previous === undefined || previous.startedAt <= record.startedAt) this.lastOnDemandByCluster.set(key, record);
    }
    this.markChanged();
  }

  // ---- stats ----

  /** Counts a 429 answered by the rate limiter. */
  countRateLimited(): void {
    this.rateLimitedCount += 1;
  }

  get stats(): SimStats {
    const peaks = this.jobs.peaks();
    return {
      maxConcurrentActiveExports: peaks.overall,
      maxConcurrentActiveExportsByProject: peaks.byProject,
      rateLimited: this.rateLimitedCount,
    };
  }

  // ---- lookups (Atlas errors) ----

  requireProject(groupId: string): ProjectRecord {
    const project = this.projects.get(groupId);
    if (project === undefined) {
      throw new SimApiError(404, 'GROUP_NOT_FOUND', `No group with ID ${groupId} exists.`, {
        parameters: [{ groupId }],
      });
    }
    return project;
  }

  requireCluster(groupId: string, clusterName: string): ClusterRecord {
    this.requireProject(groupId);
    const cluster = this.clusters.get(clusterKey(groupId, clusterName));
    if (cluster === undefined) {
      throw new SimApiError(404, 'CLUSTER_NOT_FOUND', `No cluster named ${clusterName} exists in group ${groupId}.`, {
        parameters: [{ clusterName, groupId }],
      });
    }
    return cluster;
  }

  requireSnapshot(cluster: ClusterRecord, snapshotId: string): SnapshotRecord {
    const snapshot = this.snapshots.get(snapshotId);
    if (snapshot === undefined || snapshot.groupId !== cluster.groupId || snapshot.clusterName !== cluster.name) {
      throw new SimApiError(
        404,
        'SNAPSHOT_NOT_FOUND',
        `No snapshot with ID ${snapshotId} exists for cluster ${cluster.name}.`,
        { parameters: [{ snapshotId, clusterName: cluster.name }] }
      );
    }
    return snapshot;
  }

  requireBucket(groupId: string, exportBucketId: string): BucketRecord {
    this.requireProject(groupId);
    const bucket = this.buckets.get(exportBucketId);
    if (bucket === undefined || bucket.groupId !== groupId) {
      throw new SimApiError(
        404,
        'EXPORT_BUCKET_NOT_FOUND',
        `No export bucket with ID ${exportBucketId} exists in group ${groupId}.`,
        { parameters: [{ exportBucketId, groupId }] }
      );
    }
    return bucket;
  }

  requireJob(cluster: ClusterRecord, exportId: string): JobRecord {
    const job = this.jobs.get(exportId);
    if (job === undefined || job.groupId !== cluster.groupId || job.clusterName !== cluster.name) {
      throw new SimApiError(
        404,
        INVENTED_ERROR_CODES.exportJobNotFound,
        `No export job with ID ${exportId} exists for cluster ${cluster.name}.`,
        { parameters: [{ exportId, clusterName: cluster.name }] }
      );
    }
    return job;
  }

  cluster(groupId: string, clusterName: string): ClusterRecord | undefined {
    return this.clusters.get(clusterKey(groupId, clusterName));
  }

  project(groupId: string): ProjectRecord | undefined {
    return this.projects.get(groupId);
  }

  /** Snapshots of a cluster, newest first. */
  clusterSnapshots(cluster: ClusterRecord): readonly SnapshotRecord[] {
    return this.snapshotsByCluster.get(clusterKey(cluster.groupId, cluster.name)) ?? [];
  }

  /** Jobs of a cluster, oldest first. */
  clusterJobs(cluster: ClusterRecord): readonly JobRecord[] {
    return this.jobs.ofCluster(cluster);
  }

  projectBuckets(groupId: string): readonly BucketRecord[] {
    return this.bucketsByProject.get(groupId) ?? [];
  }

  // ---- operations ----

  /** Status of a snapshot now. */
  snapshotStatus(snapshot: SnapshotRecord, now = this.clock.now()): SnapshotStatus {
    if (snapshot.fixedStatus !== undefined) return snapshot.fixedStatus;
    if (now < snapshot.startedAt) return 'queued';
    if (now < snapshot.completedAt) return 'inProgress';
    return 'completed';
  }

  /**
   * Takes an on-demand snapshot.
   * @throws SimApiError 400 `UNFINISHED_ON_DEMAND_SNAPSHOT` while another on-demand snapshot is unfinished
   */
  takeSnapshot(cluster: ClusterRecord, request: { description?: string; retentionInDays?: number }): SnapshotRecord {
    const key = clusterKey(cluster.groupId, cluster.name);
    const now = this.clock.now();
    const previous = this.lastOnDemandByCluster.get(key);
    if (previous !== undefined) {
      const status = this.snapshotStatus(previous, now);
      if (status === 'queued' || status === 'inProgress') {
        throw new SimApiError(
          400,
          'UNFINISHED_ON_DEMAND_SNAPSHOT',
          `An on-demand snapshot for cluster ${cluster.name} is already ${status}.`,
          { parameters: [{ clusterName: cluster.name }] }
        );
      }
    }
    const startedAt = now + this.snapshotPlan.queuedMs;
    const completedAt = startedAt + this.snapshotPlan.inProgressMs;
    const record = this.newSnapshot(cluster, 'onDemand', startedAt, completedAt, request.retentionInDays ?? 1);
    if (request.description !== undefined) record.description = request.description;
    this.insertSnapshot(record);
    return record;
  }

  /**
   * Creates an export job.
   * @throws SimApiError 404 for an unknown snapshot or bucket, 400 for a snapshot that cannot be exported,
   *   409 while another export of the snapshot is active
   */
  createExportJob(cluster: ClusterRecord, input: CreateJobInput): JobRecord {
    const snapshot = this.requireSnapshot(cluster, input.snapshotId);
    this.requireBucket(cluster.groupId, input.exportBucketId);
    const now = this.clock.now();
    const status = this.snapshotStatus(snapshot, now);
    if (status !== 'completed') {
      throw new SimApiError(
        400,
        INVENTED_ERROR_CODES.snapshotNotComplete,
        `Snapshot ${snapshot.id} is ${status}; only completed snapshots can be exported.`,
        { parameters: [{ snapshotId: snapshot.id, status }] }
      );
    }
    if (snapshot.snapshotType === 'fallback') {
      throw new SimApiError(
        400,
        INVENTED_ERROR_CODES.snapshotNotExportable,
        `Snapshot ${snapshot.id} is a fallback snapshot and cannot be exported.`,
        { parameters: [{ snapshotId: snapshot.id }] }
      );
    }
    const active = this.jobs.activeJobOf(snapshot.id, now);
    if (active !== undefined) {
      throw new SimApiError(
        409,
        INVENTED_ERROR_CODES.exportAlreadyInProgress,
        `Export job ${active.id} for snapshot ${snapshot.id} is still active.`,
        { parameters: [{ snapshotId: snapshot.id, exportId: active.id }] }
      );
    }
    const plan = this.jobs.planFor(snapshot);
    const project = this.requireProject(cluster.groupId);
    const job = this.jobs.create({
      project,
      cluster,
      snapshot,
      exportBucketId: input.exportBucketId,
      createdAt: now,
      plan,
      customData: input.customData,
    });
    this.markChanged();
    return job;
  }

  // ---- persistence ----

  toData(): StateData {
    return {
      simNow: this.clock.now(),
      rngState: this.random.state,
      projects: [...this.projects.values()],
      clusters: [...this.clusters.values()],
      snapshots: [...this.snapshots.values()],
      buckets: [...this.buckets.values()],
      jobs: this.jobs.records(),
      stats: this.stats,
    };
  }

  /** Loads persisted state into this (empty) store. */
  load(data: StateData): void {
    this.loading = true;
    try {
      this.loadRecords(data);
    } finally {
      this.loading = false;
    }
  }

  private loadRecords(data: StateData): void {
    this.random.state = data.rngState;
    for (const p of data.projects) {
      this.projects.set(p.groupId, { ...p });
      this.ids.reserve(p.groupId);
      this.ids.reserve(p.orgId);
    }
    for (const c of data.clusters) this.clusters.set(clusterKey(c.groupId, c.name), { ...c });
    for (const s of data.snapshots) {
      this.insertSnapshot({ ...s });
      for (const m of s.members ?? []) this.ids.reserve(m.id);
    }
    for (const b of data.buckets) {
      this.buckets.set(b.id, { ...b });
      pushTo(this.bucketsByProject, b.groupId, this.buckets.get(b.id) as BucketRecord);
      this.ids.reserve(b.id);
      this.ids.reserve(b.iamRoleId);
    }
    for (const j of [...data.jobs].sort((a, b) => a.createdAt - b.createdAt)) {
      this.jobs.insert({ ...j });
      for (const c of j.components ?? []) this.ids.reserve(c.exportId);
    }
    this.jobs.restorePeaks(data.stats.maxConcurrentActiveExports, data.stats.maxConcurrentActiveExportsByProject);
    this.rateLimitedCount = data.stats.rateLimited;
  }
}
