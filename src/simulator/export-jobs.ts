import { type SimClock } from './clock';
import { ConcurrencyTracker } from './min-heap';
import { type IdGenerator, type SeededRandom } from './random';
import {
  clusterKey,
  type ClusterRecord,
  type JobProgress,
  type JobRecord,
  type ProjectRecord,
  type SnapshotRecord,
} from './records';
import { type ExportJobState, type ExportPlan, type PlanMatch, type SimExportJob } from './types';

/**
 * The export job lifecycle: a job gets its plan (durations, outcome) when it is created, then is `Queued`,
 * `InProgress` (collections exported in proportion to the time spent) and ends with the plan's outcome — all
 * derived from the simulated clock, never stored. Also keeps the jobs, indexed, and their peak concurrency.
 */

/** Default lifecycle of export jobs: the median measured durations (2.4 min queued, 10.5 min in progress). */
export const DEFAULT_EXPORT_PLAN: ExportPlan = { queuedMs: 144_000, inProgressMs: 630_000 };

const ACTIVE_STATES: ReadonlySet<ExportJobState> = new Set(['Queued', 'InProgress']);

const DEFAULT_REASONS = {
  Failed: { errorCode: 'EXPORT_FAILED', message: 'The export job failed.' },
  Cancelled: { errorCode: 'EXPORT_CANCELLED', message: 'The export job was cancelled.' },
} as const;

/** Throws on a plan with negative or non-finite durations. */
export function validatePlan(plan: ExportPlan): void {
  const ok = (n: number): boolean => Number.isFinite(n) && n >= 0;
  if (!ok(plan.queuedMs) || !ok(plan.inProgressMs)) throw new RangeError('plan durations must be finite and >= 0');
  if (plan.totalCollections !== undefined && (!Number.isInteger(plan.totalCollections) || plan.totalCollections < 0)) {
    throw new RangeError('plan.totalCollections must be a non-negative integer');
  }
}

/** State of a job at `now` (simulated ms). */
export function jobProgress(job: JobRecord, now: number): JobProgress {
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

/** The public view of a job at `now`. */
export function simJobView(job: JobRecord, now: number): SimExportJob {
  const p = jobProgress(job, now);
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

/** What a new job is made of besides its ids: its snapshot, bucket, timing and outcome. */
export interface NewJob {
  project: ProjectRecord;
  cluster: ClusterRecord;
  snapshot: SnapshotRecord;
  exportBucketId: string;
  /** Simulated ms. */
  createdAt: number;
  /** Durations get the plan's jitter and are rounded to ms, unless `exact` (a fixture's job keeps them as given). */
  plan: ExportPlan;
  exact?: boolean;
  customData?: { key?: string; value?: string }[];
}

/** Export jobs with their plans; lookups by id, cluster, project and snapshot. */
export class ExportJobs {
  private readonly byId = new Map<string, JobRecord>();
  private readonly byCluster = new Map<string, JobRecord[]>();
  private readonly byProject = new Map<string, JobRecord[]>();
  private readonly all: JobRecord[] = [];
  private readonly lastBySnapshot = new Map<string, JobRecord>();
  private planRules: { plan: ExportPlan; match: PlanMatch }[] = [];
  private defaultPlan: ExportPlan;
  private readonly concurrency = new ConcurrencyTracker();
  private readonly concurrencyByProject = new Map<string, ConcurrencyTracker>();

  constructor(
    private readonly clock: SimClock,
    private readonly ids: IdGenerator,
    private readonly random: SeededRandom,
    private readonly initialDefaultPlan: ExportPlan
  ) {
    this.defaultPlan = initialDefaultPlan;
  }

  /**
   * With `match`, adds a rule (the latest matching rule wins) or, with `plan` undefined, removes the rules with
   * that exact match. Without `match`, replaces the default plan; `plan` undefined restores the initial default
   * and removes every rule.
   */
  setPlan(plan: ExportPlan | undefined, match?: PlanMatch): void {
    if (plan !== undefined) validatePlan(plan);
    if (match === undefined) {
      this.defaultPlan = plan ?? this.initialDefaultPlan;
      if (plan === undefined) this.planRules = [];
      return;
    }
    const same = (m: PlanMatch): boolean =>
      m.groupId === match.groupId && m.clusterName === match.clusterName && m.snapshotId === match.snapshotId;
    this.planRules = this.planRules.filter((r) => !same(r.match));
    if (plan !== undefined) this.planRules.push({ plan, match: { ...match } });
  }

  /** The plan a job of this snapshot gets if created now: the latest matching rule, else the default. */
  planFor(snapshot: SnapshotRecord): ExportPlan {
    for (let i = this.planRules.length - 1; i >= 0; i--) {
      const rule = this.planRules[i];
      if (rule === undefined) continue;
      const m = rule.match;
      if (
        (m.groupId === undefined || m.groupId === snapshot.groupId) &&
        (m.clusterName === undefined || m.clusterName === snapshot.clusterName) &&
        (m.snapshotId === undefined || m.snapshotId === snapshot.id)
      ) {
        return rule.plan;
      }
    }
    return this.defaultPlan;
  }

  /** The job of `snapshotId` that is still `Queued` or `InProgress` at `now`, if any. */
  activeJobOf(snapshotId: string, now: number): JobRecord | undefined {
    const previous = this.lastBySnapshot.get(snapshotId);
    return previous !== undefined && ACTIVE_STATES.has(jobProgress(previous, now).state) ? previous : undefined;
  }

  /** Creates and stores a job. */
  create(job: NewJob): JobRecord {
    const { project, cluster, snapshot, plan } = job;
    const outcome = plan.outcome ?? 'Successful';
    const createdAt = Math.floor(job.createdAt);
    const record: JobRecord = {
      id: this.ids.next(),
      groupId: cluster.groupId,
      clusterName: cluster.name,
      snapshotId: snapshot.id,
      exportBucketId: job.exportBucketId,
      createdAt,
      queuedMs: job.exact ? plan.queuedMs : this.jitter(plan.queuedMs, plan.jitterRatio),
      inProgressMs: job.exact ? plan.inProgressMs : this.jitter(plan.inProgressMs, plan.jitterRatio),
      totalCollections: plan.totalCollections ?? cluster.totalCollections,
      outcome,
      customData: (job.customData ?? []).map((c) => ({ ...c })),
      prefix: exportPrefix(project, cluster, snapshot.completedAt, createdAt),
    };
    if (outcome !== 'Successful') record.stateReason = { ...(plan.stateReason ?? DEFAULT_REASONS[outcome]) };
    if (cluster.shards > 0) {
      record.components = cluster.replicaSetNames.map((replicaSetName) => ({
        exportId: this.ids.next(),
        replicaSetName,
      }));
    }
    this.insert(record);
    return record;
  }

  /** Stores a job (a new one, or one loaded from the state file). */
  insert(job: JobRecord): void {
    this.byId.set(job.id, job);
    this.ids.reserve(job.id);
    this.all.push(job);
    pushTo(this.byCluster, clusterKey(job.groupId, job.clusterName), job);
    pushTo(this.byProject, job.groupId, job);
    this.lastBySnapshot.set(job.snapshotId, job);
    const end = job.createdAt + job.queuedMs + job.inProgressMs;
    this.concurrency.add(job.createdAt, end);
    this.projectTracker(job.groupId).add(job.createdAt, end);
  }

  get(exportId: string): JobRecord | undefined {
    return this.byId.get(exportId);
  }

  /** Jobs of a cluster, oldest first. */
  ofCluster(cluster: ClusterRecord): readonly JobRecord[] {
    return this.byCluster.get(clusterKey(cluster.groupId, cluster.name)) ?? [];
  }

  /** Every job, in insertion order (the state file's list). */
  records(): JobRecord[] {
    return this.all;
  }

  /** The public view of jobs, optionally of one project, oldest first. */
  views(groupId?: string): SimExportJob[] {
    const list = groupId === undefined ? this.all : (this.byProject.get(groupId) ?? []);
    const now = this.clock.now();
    return list.map((job) => simJobView(job, now));
  }

  /** Peak number of jobs active at once, overall and per project. */
  peaks(): { overall: number; byProject: Record<string, number> } {
    const byProject: Record<string, number> = {};
    for (const [groupId, tracker] of this.concurrencyByProject) byProject[groupId] = tracker.peak;
    return { overall: this.concurrency.peak, byProject };
  }

  /** Raises the peaks to persisted ones (jobs that ended before the state file was written no longer overlap). */
  restorePeaks(overall: number, byProject: Record<string, number>): void {
    this.concurrency.peak = Math.max(this.concurrency.peak, overall);
    for (const [groupId, peak] of Object.entries(byProject)) {
      const tracker = this.projectTracker(groupId);
      tracker.peak = Math.max(tracker.peak, peak);
    }
  }

  private projectTracker(groupId: string): ConcurrencyTracker {
    let tracker = this.concurrencyByProject.get(groupId);
    if (tracker === undefined) {
      tracker = new ConcurrencyTracker();
      this.concurrencyByProject.set(groupId, tracker);
    }
    return tracker;
  }

  private jitter(ms: number, ratio: number | undefined): number {
    if (ratio === undefined || ratio <= 0) return Math.round(ms);
    return Math.max(0, Math.round(ms * (1 + (this.random.nextFloat() * 2 - 1) * ratio)));
  }
}

function exportPrefix(project: ProjectRecord, cluster: ClusterRecord, snapshotAt: number, createdAt: number): string {
  const initiated = new Date(snapshotAt).toISOString().slice(0, 16).replace(':', '');
  return `exported_snapshots/${project.orgId}/${project.groupId}/${cluster.name}/${initiated}/${Math.floor(createdAt / 1000)}`;
}

/** Appends `value` to the list of `key`. */
export function pushTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}
