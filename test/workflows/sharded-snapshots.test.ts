import { describe, expect, it } from 'vitest';
import type { ScheduledExportInput } from '../../src/shared/contract/scheduled-export-contract';
import { scheduledExport } from '../../src/workflows';
import { FAST_POLLING, useExportSuite } from '../helpers/export-harness';
import { uniqueId } from '../helpers/temporal';

/**
 * Both cluster kinds end to end through `scheduledExport` and the real activities: the simulator serves a sharded
 * cluster's snapshots only under `…/snapshots/shardedClusters` and `…/snapshots/shardedCluster/{id}`, a replica set's
 * only under `…/snapshots` and `…/snapshots/{id}`, as the spec names them.
 */
// On-demand snapshots take about 2 s of real time here, so the wait reads them more than once.
const suite = useExportSuite({ snapshotPlan: { queuedMs: 60_000, inProgressMs: 1_200_000 } });

const FAST_ON_DEMAND = { initialInterval: 100, maximumInterval: 400, timeout: '2m' } as const;

describe('snapshots of replica sets and sharded clusters', () => {
  it('latest and on-demand exports work for both kinds, each read on its own paths', async () => {
    const { sim, fixtures } = suite.atlas;
    const { groupId, exportBucketId } = fixtures;
    const tag = Math.random().toString(36).slice(2, 8);
    const clusters = {
      replicaSet: `rs-${tag}`,
      sharded: `sh-${tag}`,
      shardedOnDemand: `sh-od-${tag}`,
      replicaSetOnDemand: `rs-od-${tag}`,
    };
    sim.addCluster(groupId, clusters.replicaSet);
    sim.addCluster(groupId, clusters.replicaSetOnDemand);
    sim.addCluster(groupId, clusters.sharded, { shards: 2 });
    sim.addCluster(groupId, clusters.shardedOnDemand, { shards: 3 });
    const day = 86_400_000;
    const newestOf = (cluster: string) => {
      sim.addSnapshot(groupId, cluster, { createdAt: new Date(Date.now() - 2 * day) });
      return sim.addSnapshot(groupId, cluster, { createdAt: new Date(Date.now() - day) });
    };
    const latestReplicaSet = newestOf(clusters.replicaSet);
    const latestSharded = newestOf(clusters.sharded);

    const input: ScheduledExportInput = {
      polling: FAST_POLLING,
      onDemand: FAST_ON_DEMAND,
      targets: [
        { groupId, clusterName: clusters.replicaSet, exportBucketId, snapshot: 'latest' },
        { groupId, clusterName: clusters.sharded, exportBucketId, snapshot: 'latest' },
        { groupId, clusterName: clusters.replicaSetOnDemand, exportBucketId, snapshot: 'on-demand' },
        { groupId, clusterName: clusters.shardedOnDemand, exportBucketId, snapshot: 'on-demand' },
      ],
    };
    const summary = await suite.temporal.client.workflow.execute(scheduledExport, {
      taskQueue: suite.worker.taskQueue,
      workflowId: uniqueId('scheduled-kinds'),
      args: [input],
    });

    expect(summary.targets.map((t) => [t.clusterName, t.state, t.error])).toEqual(
      input.targets.map((t) => [t.clusterName, 'Successful', null])
    );
    expect(summary.targets[0]!.snapshotId).toBe(latestReplicaSet);
    expect(summary.targets[1]!.snapshotId).toBe(latestSharded);
    const jobs = sim.exportJobs(groupId);
    for (const t of summary.targets) {
      const job = jobs.find((j) => j.id === t.exportJobId);
      expect(job, t.clusterName).toMatchObject({ clusterName: t.clusterName, state: 'Successful' });
    }
    expect(jobs.find((j) => j.clusterName === clusters.shardedOnDemand)?.components).toHaveLength(4);

    // The on-demand waits read each snapshot on its kind's path, known from the take-snapshot answer: no miss.
    const reads = (cluster: string) =>
      sim.requests
        .filter((r) => r.operation === 'getSnapshot' && r.path.includes(`/clusters/${cluster}/`) && r.status !== 401)
        .map((r) => `${r.path.includes('/snapshots/shardedCluster/') ? 'sharded' : 'replicaSet'}:${r.status}`);
    const shardedReads = reads(clusters.shardedOnDemand);
    expect(shardedReads.length).toBeGreaterThanOrEqual(2);
    expect(new Set(shardedReads)).toEqual(new Set(['sharded:200']));
    const replicaSetReads = reads(clusters.replicaSetOnDemand);
    expect(replicaSetReads.length).toBeGreaterThanOrEqual(2);
    expect(new Set(replicaSetReads)).toEqual(new Set(['replicaSet:200']));
  }, 120_000);
});
