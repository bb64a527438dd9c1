import { ATLAS_ID_PATTERN, CLUSTER_NAME_PATTERN } from '../shared/atlas-vocabulary';
import { type SimClock } from './clock';
import { INVENTED_ERROR_CODES, SimApiError } from './errors';
import { ConcurrencyTracker } from './min-heap';
import { type IdGenerator, type SeededRandom } from './random';
import {
  type ClusterOptions,
  type ExportJobState,
  type ExportPlan,
  type PlanMatch,
  type SimExportComponent,
  type SimExportJob,
  type SimStats,
  type SnapshotOptions,
  type SnapshotPlan,
  type SnapshotStatus,
  type SnapshotType,
} from './types';

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

const ACTIVE_STATES: ReadonlySet<ExportJobState> = new Set(['Queued', 'InProgress']);
const DAY_MS = 86_400_000;

/** Default lifecycle of export jobs: the median measured durations (2.4 min queued, 10.5 min in progress). */
export const DEFAULT_EXPORT_PLAN: ExportPlan = { queuedMs: 144_000, inProgressMs: 630_000 };
/** Default lifecycle of on-demand snapshots (about 3 simulated minutes). */
export const DEFAULT_SNAPSHOT_PLAN: SnapshotPlan = { queuedMs: 30_000, inProgressMs: 150_000 };

const DEFAULT_REASONS = {
  Failed: { errorCode: 'EXPORT_FAILED', message: 'The export job failed.' },
  Cancelled: { errorCode: 'EXPORT_CANCELLED', message: 'The export job was cancelled.' },
} as const;

function clusterKey(groupId: string, clusterName: string): string {
  return `${groupId}/${clusterName}`;
}

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

function pushTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}

/**
 * Projects, clusters, snapshots, buckets and export jobs, with lifecycles computed lazily from the
 * simulated clock. All lookups are by map key.
 */
export class SimState {
  private readonly projects = new Map<string, ProjectRecord>();
  private readonly clusters = new Map<string, ClusterRecord>();
  private readonly snapshots = new Map<string, SnapshotRecord>();
  private readonly snapshotsByCluster = new Map<string, SnapshotRecord[]>();
  private readonly lastOnDemandByCluster = new Map<string, SnapshotRecord>();
  private readonly buckets = new Map<string, BucketRecord>();
  private readonly bucketsByProject = new Map<string, BucketRecord[]>();
  private readonly jobs = new Map<string, JobRecord>();
  private readonly jobsByCluster = new Map<string, JobRecord[]>();
  private readonly jobsByProject = new Map<string, JobRecord[]>();
  private readonly allJobs: JobRecord[] = [];
  private readonly lastJobBySnapshot = new Map<string, JobRecord>();
  private planRules: { plan: ExportPlan; match: PlanMatch }[] = [];
  private defaultPlan: ExportPlan;
  private readonly concurrency = new ConcurrencyTracker();
  private readonly concurrencyByProject = new Map<string, ConcurrencyTracker>();
  private rateLimitedCount = 0;
  private loading = false;

  constructor(
    private readonly clock: SimClock,
    private readonly ids: IdGenerator,
    private readonly random: SeededRandom,
    private readonly initialDefaultPlan: ExportPlan,
    private readonly snapshotPlan: SnapshotPlan,
    private readonly changed: () => void
  ) {
    this.defaultPlan = initialDefaultPlan;
  }

  /** Simulated epoch ms. */
  now(): number {
    return this.clock.now();
  }

  // ---- fixtures ----

  addProject(groupId?: string): string {
    if (groupId !== undefined && !ATLAS_ID_PATTERN.test(groupId)) {
      throw new Error(`groupId must be 24 lowercase hex characters, got ${groupId}`);
    }
    const id = groupId ?? this.ids.next();
    if (this.projects.has(id)) throw new Error(`project ${id} already exists`);
    this.ids.reserve(id);
    this.projects.set(id, { groupId: id, orgId: this.ids.next() });
    this.onChange();
    return id;
  }

  addCluster(groupId: string, name: string, opts: ClusterOptions = {}): void {
    this.fixtureProject(groupId);
    if (!CLUSTER_NAME_PATTERN.test(name)) throw new Error(`invalid cluster name ${name}`);
    const key = clusterKey(groupId, name);
    if (this.clusters.has(key)) throw new Error(`cluster ${name} already exists in ${groupId}`);
    const shards = opts.shards ?? 0;
    const totalCollections = opts.totalCollections ?? 8;
    if (!Number.isInteger(shards) || shards < 0) throw new Error('shards must be a non-negative integer');
    if (!Number.isInteger(totalCollections) || totalCollections < 0) {
      throw new Error('totalCollections must be a non-negative integer');
    }
    const tag = `atlas-${this.random.nextUint32().toString(36).padStart(7, '0').slice(0, 6)}`;
    const replicaSetNames =
      shards === 0
        ? [`${tag}-shard-0`]
        : [...Array.from({ length: shards }, (_, i) => `${tag}-shard-${i}`), `${tag}-config-0`];
    this.clusters.set(key, { groupId, name, shards, totalCollections, replicaSetNames });
    this.onChange();
  }

  addSnapshot(groupId: string, clusterName: string, opts: SnapshotOptions = {}): string {
    const cluster = this.fixtureCluster(groupId, clusterName);
    const createdAt = opts.createdAt?.getTime() ?? this.clock.now();
    const record = this.newSnapshot(cluster, opts.snapshotType ?? 'scheduled', createdAt, createdAt, 7);
    record.fixedStatus = opts.status ?? 'completed';
    this.insertSnapshot(record);
    return record.id;
  }

  /**
   * Records an export job of a cluster's past (or any fixed) schedule: created at `createdAt` (simulated ms) on a
   * completed snapshot taken just before it, with the given durations. Its state follows from the clock as any
   * job's does, so a job that ended before now lists as finished, with `finishedAt`.
   */
  addExportJob(groupId: string, clusterName: string, opts: FixedExportJobOptions): string {
    const cluster = this.fixtureCluster(groupId, clusterName);
    this.requireBucket(groupId, opts.exportBucketId);
    validatePlan({ queuedMs: opts.queuedMs, inProgressMs: opts.inProgressMs });
    const snapshotAt = Math.floor(opts.createdAt) - 60_000;
    const snapshot = this.newSnapshot(cluster, 'scheduled', snapshotAt, snapshotAt, 7);
    snapshot.fixedStatus = 'completed';
    this.insertSnapshot(snapshot);
    const project = this.requireProject(groupId);
    const outcome = opts.outcome ?? 'Successful';
    const job: JobRecord = {
      id: this.ids.next(),
      groupId,
      clusterName,
      snapshotId: snapshot.id,
      exportBucketId: opts.exportBucketId,
      createdAt: Math.floor(opts.createdAt),
      queuedMs: opts.queuedMs,
      inProgressMs: opts.inProgressMs,
      totalCollections: opts.totalCollections ?? cluster.totalCollections,
      outcome,
      customData: [],
      prefix: exportPrefix(project, cluster, snapshot.completedAt, Math.floor(opts.createdAt)),
    };
    if (outcome !== 'Successful') job.stateReason = { ...DEFAULT_REASONS[outcome] };
    if (cluster.shards > 0) {
      job.components = cluster.replicaSetNames.map((replicaSetName) => ({ exportId: this.ids.next(), replicaSetName }));
    }
    this.insertJob(job);
    this.onChange();
    return job.id;
  }

  addExportBucket(groupId: string, opts: { bucketName?: string } = {}): string {
    this.fixtureProject(groupId);
    const bucketName = opts.bucketName ?? 'export-bucket';
    if (bucketName.length < 3 || bucketName.length > 63) throw new Error('bucketName must have 3 to 63 characters');
    const record: BucketRecord = {
      id: this.ids.next(),
      groupId,
      bucketName,
      iamRoleId: this.ids.next(),
      region: 'us-east-1',
    };
    this.buckets.set(record.id, record);
    pushTo(this.bucketsByProject, groupId, record);
    this.onChange();
    return record.id;
  }

  // ---- plans and stats ----

  /**
   * With `match`, adds a rule (the latest matching rule wins) or, with `plan` undefined, removes the rules with
   * that exact match. Without `match`, replaces the default plan; `plan` undefined restores the initial default
   * and removes every rule.
   */
  setExportPlan(plan: ExportPlan | undefined, match?: PlanMatch): void {
    if (plan !== undefined) validatePlan(plan);
    if (match === undefined) {
      if (plan === undefined) {
        this.defaultPlan = this.initialDefaultPlan;
        this.planRules = [];
      } else {
        this.defaultPlan = plan;
      }
      return;
    }
    const same = (m: PlanMatch): boolean =>
      m.groupId === match.groupId && m.clusterName === match.clusterName && m.snapshotId === match.snapshotId;
    this.planRules = this.planRules.filter((r) => !same(r.match));
    if (plan !== undefined) this.planRules.push({ plan, match: { ...match } });
  }

  /** Counts a 429 answered by the rate limiter. */
  countRateLimited(): void {
    this.rateLimitedCount += 1;
  }

  get stats(): SimStats {
    const byProject: Record<string, number> = {};
    for (const [groupId, tracker] of this.concurrencyByProject) byProject[groupId] = tracker.peak;
    return {
      maxConcurrentActiveExports: this.concurrency.peak,
      maxConcurrentActiveExportsByProject: byProject,
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
    return this.jobsByCluster.get(clusterKey(cluster.groupId, cluster.name)) ?? [];
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
    const previous = this.lastJobBySnapshot.get(snapshot.id);
    if (previous !== undefined && ACTIVE_STATES.has(this.progress(previous, now).state)) {
      throw new SimApiError(
        409,
        INVENTED_ERROR_CODES.exportAlreadyInProgress,
        `Export job ${previous.id} for snapshot ${snapshot.id} is still active.`,
        { parameters: [{ snapshotId: snapshot.id, exportId: previous.id }] }
      );
    }

    const plan = this.resolvePlan(cluster.groupId, cluster.name, snapshot.id);
    const outcome = plan.outcome ?? 'Successful';
    const project = this.requireProject(cluster.groupId);
    const createdAt = Math.floor(now);
    const job: JobRecord = {
      id: this.ids.next(),
      groupId: cluster.groupId,
      clusterName: cluster.name,
      snapshotId: snapshot.id,
      exportBucketId: input.exportBucketId,
      createdAt,
      queuedMs: this.jitter(plan.queuedMs, plan.jitterRatio),
      inProgressMs: this.jitter(plan.inProgressMs, plan.jitterRatio),
      totalCollections: plan.totalCollections ?? cluster.totalCollections,
      outcome,
      customData: input.customData.map((c) => ({ ...c })),
      prefix: exportPrefix(project, cluster, snapshot.completedAt, createdAt),
    };
    if (outcome !== 'Successful') job.stateReason = { ...(plan.stateReason ?? DEFAULT_REASONS[outcome]) };
    if (cluster.shards > 0) {
      job.components = cluster.replicaSetNames.map((replicaSetName) => ({ exportId: this.ids.next(), replicaSetName }));
    }
    this.insertJob(job);
    this.onChange();
    return job;
  }

  /** State of a job at `now`. */
  progress(job: JobRecord, now = this.clock.now()): JobProgress {
    const elapsed = now - job.createdAt;
    if (elapsed < job.queuedMs) return { state: 'Queued', exportedCollections: 0 };
    if (elapsed < job.queuedMs + job.inProgressMs) {
      const fraction = (elapsed - job.queuedMs) / job.inProgressMs;
      return { state: 'InProgress', exportedCollections: Math.floor(job.totalCollections * fraction) };
    }
    const finishedAt = job.createdAt + job.queuedMs + job.inProgressMs;
    const exportedCollections =
      job.outcome === 'Successful' ? job.totalCollections : Math.floor(job.totalCollections / 2);
    return { state: job.outcome, exportedCollections, finishedAt };
  }

  /** The public view of jobs, optionally of one project, oldest first. */
  simJobs(groupId?: string): SimExportJob[] {
    const list = groupId === undefined ? this.allJobs : (this.jobsByProject.get(groupId) ?? []);
    const now = this.clock.now();
    return list.map((job) => this.toSimJob(job, now));
  }

  toSimJob(job: JobRecord, now = this.clock.now()): SimExportJob {
    const p = this.progress(job, now);
    const view: SimExportJob = {
      id: job.id,
      groupId: job.groupId,
      clusterName: job.clusterName,
      snapshotId: job.snapshotId,
      exportBucketId: job.exportBucketId,
      state: p.state,
      createdAt: new Date(job.createdAt),
      exportedCollections: p.exportedCollections,
      totalCollections: job.totalCollections,
      customData: job.customData.map((c) => ({ key: c.key ?? '', value: c.value ?? '' })),
      prefix: job.prefix,
      plan: { queuedMs: job.queuedMs, inProgressMs: job.inProgressMs, outcome: job.outcome },
    };
    if (p.finishedAt !== undefined) view.finishedAt = new Date(p.finishedAt);
    if (job.components !== undefined) view.components = job.components.map((c) => ({ ...c }));
    if (job.stateReason !== undefined && p.finishedAt !== undefined) view.stateReason = { ...job.stateReason };
    return view;
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
      jobs: this.allJobs,
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
      this.insertJob({ ...j });
      for (const c of j.components ?? []) this.ids.reserve(c.exportId);
    }
    this.concurrency.peak = Math.max(this.concurrency.peak, data.stats.maxConcurrentActiveExports);
    for (const [groupId, peak] of Object.entries(data.stats.maxConcurrentActiveExportsByProject)) {
      const tracker = this.projectTracker(groupId);
      tracker.peak = Math.max(tracker.peak, peak);
    }
    this.rateLimitedCount = data.stats.rateLimited;
  }

  // ---- internals ----

  private onChange(): void {
    if (!this.loading) this.changed();
  }

  private fixtureProject(groupId: string): ProjectRecord {
    const project = this.projects.get(groupId);
    if (project === undefined) throw new Error(`unknown project ${groupId}`);
    return project;
  }

  private fixtureCluster(groupId: string, clusterName: string): ClusterRecord {
    this.fixtureProject(groupId);
    const cluster = this.clusters.get(clusterKey(groupId, clusterName));
    if (cluster === undefined) throw new Error(`unknown cluster ${clusterName} in ${groupId}`);
    return cluster;
  }

  private newSnapshot(
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

  private insertSnapshot(record: SnapshotRecord): void {
    const key = clusterKey(record.groupId, record.clusterName);
    this.snapshots.set(record.id, record);
    this.ids.reserve(record.id);
    insertNewestFirst(this.snapshotsByCluster, key, record);
    if (record.snapshotType === 'onDemand') {
      const previous = this.lastOnDemandByCluster.get(key);
      if (previous === undefined || previous.startedAt <= record.startedAt) this.lastOnDemandByCluster.set(key, record);
    }
    this.onChange();
  }

  private insertJob(job: JobRecord): void {
    this.jobs.set(job.id, job);
    this.ids.reserve(job.id);
    this.allJobs.push(job);
    pushTo(this.jobsByCluster, clusterKey(job.groupId, job.clusterName), job);
    pushTo(this.jobsByProject, job.groupId, job);
    this.lastJobBySnapshot.set(job.snapshotId, job);
    const end = job.createdAt + job.queuedMs + job.inProgressMs;
    this.concurrency.add(job.createdAt, end);
    this.projectTracker(job.groupId).add(job.createdAt, end);
  }

  private projectTracker(groupId: string): ConcurrencyTracker {
    let tracker = this.concurrencyByProject.get(groupId);
    if (tracker === undefined) {
      tracker = new ConcurrencyTracker();
      this.concurrencyByProject.set(groupId, tracker);
    }
    return tracker;
  }

  private resolvePlan(groupId: string, clusterName: string, snapshotId: string): ExportPlan {
    for (let i = this.planRules.length - 1; i >= 0; i--) {
      const rule = this.planRules[i];
      if (rule === undefined) continue;
      const m = rule.match;
      if (
        (m.groupId === undefined || m.groupId === groupId) &&
        (m.clusterName === undefined || m.clusterName === clusterName) &&
        (m.snapshotId === undefined || m.snapshotId === snapshotId)
      ) {
        return rule.plan;
      }
    }
    return this.defaultPlan;
  }

  private jitter(ms: number, ratio: number | undefined): number {
    if (ratio === undefined || ratio <= 0) return Math.round(ms);
    return Math.max(0, Math.round(ms * (1 + (this.random.nextFloat() * 2 - 1) * ratio)));
  }
}

/** Throws on a plan with negative or non-finite durations. */
export function validatePlan(plan: ExportPlan): void {
  const ok = (n: number): boolean => Number.isFinite(n) && n >= 0;
  if (!ok(plan.queuedMs) || !ok(plan.inProgressMs)) throw new RangeError('plan durations must be finite and >= 0');
  if (plan.totalCollections !== undefined && (!Number.isInteger(plan.totalCollections) || plan.totalCollections < 0)) {
    throw new RangeError('plan.totalCollections must be a non-negative integer');
  }
}

function exportPrefix(project: ProjectRecord, cluster: ClusterRecord, snapshotAt: number, createdAt: number): string {
  const initiated = new Date(snapshotAt).toISOString().slice(0, 16).replace(':', '');
  return `exported_snapshots/${project.orgId}/${project.groupId}/${cluster.name}/${initiated}/${Math.floor(createdAt / 1000)}`;
}

/** Simulated ms of `days` days. */
export function daysMs(days: number): number {
  return days * DAY_MS;
}
