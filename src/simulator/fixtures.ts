import { ATLAS_ID_PATTERN, CLUSTER_NAME_PATTERN } from '../shared/atlas/vocabulary';
import { daysMs, type SimClock } from './clock';
import { validatePlan } from './export-jobs';
import { type ClusterRecord, type FixedExportJobOptions, type ProjectRecord } from './records';
import { type SimState } from './state';
import { type ClusterOptions, type DefaultFixtures, type SnapshotOptions } from './types';

/**
 * What a test or a demo puts into the simulated Atlas before it runs: projects, clusters, snapshots, past export
 * jobs and buckets, or the default set of them ({@link seedDefault}). `AtlasSimulator` extends this class, so
 * these are the simulator's own methods. Fixture mistakes throw plain errors (they are the caller's bugs, not
 * Atlas answers).
 */
export class SimulatorFixtures {
  protected constructor(
    protected readonly state: SimState,
    protected readonly clock: SimClock,
    protected lastDefaultFixtures: DefaultFixtures | undefined
  ) {}

  /** Adds a project; returns its groupId (generated unless given). */
  addProject(groupId?: string): string {
    if (groupId !== undefined && !ATLAS_ID_PATTERN.test(groupId)) {
      throw new Error(`groupId must be 24 lowercase hex characters, got ${groupId}`);
    }
    const { ids } = this.state;
    const id = groupId ?? ids.next();
    if (this.state.project(id) !== undefined) throw new Error(`project ${id} already exists`);
    ids.reserve(id);
    this.state.insertProject({ groupId: id, orgId: ids.next() });
    return id;
  }

  /** Adds a replica set (default) or a sharded cluster with `shards` shards plus a config server. */
  addCluster(groupId: string, name: string, opts: ClusterOptions = {}): void {
    this.fixtureProject(groupId);
    if (!CLUSTER_NAME_PATTERN.test(name)) throw new Error(`invalid cluster name ${name}`);
    if (this.state.cluster(groupId, name) !== undefined)
      throw new Error(`cluster ${name} already exists in ${groupId}`);
    const shards = opts.shards ?? 0;
    const totalCollections = opts.totalCollections ?? 8;
    if (!Number.isInteger(shards) || shards < 0) throw new Error('shards must be a non-negative integer');
    if (!Number.isInteger(totalCollections) || totalCollections < 0) {
      throw new Error('totalCollections must be a non-negative integer');
    }
    const tag = `atlas-${this.state.random.nextUint32().toString(36).padStart(7, '0').slice(0, 6)}`;
    const replicaSetNames =
      shards === 0
        ? [`${tag}-shard-0`]
        : [...Array.from({ length: shards }, (_, i) => `${tag}-shard-${i}`), `${tag}-config-0`];
    this.state.insertCluster({ groupId, name, shards, totalCollections, replicaSetNames });
  }

  /** Adds a snapshot with a fixed status (default `completed`); returns its id. */
  addSnapshot(groupId: string, clusterName: string, opts: SnapshotOptions = {}): string {
    const cluster = this.fixtureCluster(groupId, clusterName);
    const createdAt = opts.createdAt?.getTime() ?? this.clock.now();
    const record = this.state.newSnapshot(cluster, opts.snapshotType ?? 'scheduled', createdAt, createdAt, 7);
    record.fixedStatus = opts.status ?? 'completed';
    this.state.insertSnapshot(record);
    return record.id;
  }

  /**
   * Adds an export job with fixed durations created at `createdAt` (e.g. a cluster's past exports, which the
   * list of export jobs then shows with `createdAt` and `finishedAt`), on a completed snapshot taken just before
   * it; returns its id. Its state follows from the clock as any job's does.
   */
  addExportJob(
    groupId: string,
    clusterName: string,
    opts: Omit<FixedExportJobOptions, 'createdAt'> & { createdAt: Date }
  ): string {
    const cluster = this.fixtureCluster(groupId, clusterName);
    this.state.requireBucket(groupId, opts.exportBucketId);
    const { queuedMs, inProgressMs, totalCollections, outcome } = opts;
    validatePlan({ queuedMs, inProgressMs });
    const createdAt = opts.createdAt.getTime();
    const snapshotAt = Math.floor(createdAt) - 60_000;
    const snapshot = this.state.newSnapshot(cluster, 'scheduled', snapshotAt, snapshotAt, 7);
    snapshot.fixedStatus = 'completed';
    this.state.insertSnapshot(snapshot);
    const job = this.state.jobs.create({
      project: this.state.requireProject(groupId),
      cluster,
      snapshot,
      exportBucketId: opts.exportBucketId,
      createdAt,
      plan: {
        queuedMs,
        inProgressMs,
        ...(totalCollections !== undefined ? { totalCollections } : {}),
        ...(outcome !== undefined ? { outcome } : {}),
      },
      exact: true,
    });
    this.state.markChanged();
    return job.id;
  }

  /** Adds an AWS export bucket; returns its id. */
  addExportBucket(groupId: string, opts: { bucketName?: string } = {}): string {
    this.fixtureProject(groupId);
    const bucketName = opts.bucketName ?? 'export-bucket';
    if (bucketName.length < 3 || bucketName.length > 63) throw new Error('bucketName must have 3 to 63 characters');
    const { ids } = this.state;
    const id = ids.next();
    this.state.insertBucket({ id, groupId, bucketName, iamRoleId: ids.next(), region: 'us-east-1' });
    return id;
  }

  /**
   * Adds a project with a replica set `Cluster0` (8 collections, three completed daily snapshots), a sharded
   * cluster `ShardedCluster0` (2 shards and a config server, 12 collections, two completed snapshots) and one
   * export bucket. The returned snapshot ids are the newest of each cluster.
   */
  seedDefault(): DefaultFixtures {
    const groupId = this.addProject();
    const now = this.clock.now();
    const clusterName = 'Cluster0';
    const shardedClusterName = 'ShardedCluster0';
    this.addCluster(groupId, clusterName, { totalCollections: 8 });
    let snapshotId = '';
    for (const daysAgo of [3, 2, 1]) {
      snapshotId = this.addSnapshot(groupId, clusterName, { createdAt: new Date(now - daysMs(daysAgo)) });
    }
    this.addCluster(groupId, shardedClusterName, { shards: 2, totalCollections: 12 });
    let shardedSnapshotId = '';
    for (const daysAgo of [2, 1]) {
      shardedSnapshotId = this.addSnapshot(groupId, shardedClusterName, { createdAt: new Date(now - daysMs(daysAgo)) });
    }
    const exportBucketId = this.addExportBucket(groupId, { bucketName: 'atlas-export-sim' });
    const fixtures = { groupId, clusterName, shardedClusterName, snapshotId, shardedSnapshotId, exportBucketId };
    this.lastDefaultFixtures = fixtures;
    this.state.markChanged();
    return { ...fixtures };
  }

  /** The fixtures of the latest {@link seedDefault}, also after a restart from a state file. */
  get defaultFixtures(): DefaultFixtures | undefined {
    return this.lastDefaultFixtures === undefined ? undefined : { ...this.lastDefaultFixtures };
  }

  private fixtureProject(groupId: string): ProjectRecord {
    const project = this.state.project(groupId);
    if (project === undefined) throw new Error(`unknown project ${groupId}`);
    return project;
  }

  private fixtureCluster(groupId: string, clusterName: string): ClusterRecord {
    this.fixtureProject(groupId);
    const cluster = this.state.cluster(groupId, clusterName);
    if (cluster === undefined) throw new Error(`unknown cluster ${clusterName} in ${groupId}`);
    return cluster;
  }
}
