import type { WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import type { ScheduledExportInput, ScheduledExportSummary } from '../../src/shared/contract/scheduled-export-contract';
import { FailureType } from '../../src/shared/contract/failure-types';
import { exportWorkflowId } from '../../src/shared/contract/workflow-ids';
import { progressQuery, scheduledExport, summaryQuery } from '../../src/workflows';
import { failureOf, FAST_POLLING, useExportSuite } from '../helpers/export-harness';
import { createFleet, jobsBySnapshotAndBucket } from '../helpers/fleet';
import { uniqueId } from '../helpers/temporal';

// On-demand snapshots take 2.1 s of real time here, long enough to be seen unfinished.
const suite = useExportSuite({ snapshotPlan: { queuedMs: 60_000, inProgressMs: 1_200_000 } });

const FAST_ON_DEMAND = { initialInterval: 100, maximumInterval: 400, timeout: '2m' } as const;

function start(input: ScheduledExportInput): Promise<WorkflowHandleWithFirstExecutionRunId<typeof scheduledExport>> {
  return suite.temporal.client.workflow.start(scheduledExport, {
    taskQueue: suite.worker.taskQueue,
    workflowId: uniqueId('scheduled'),
    args: [{ polling: FAST_POLLING, onDemand: FAST_ON_DEMAND, ...input }],
  });
}

describe('scheduledExport against the Atlas simulator', () => {
  it('exports the latest snapshot of every target once, never more than `concurrency` at a time', async () => {
    const sim = suite.atlas.sim;
    const fleet = createFleet(sim, 5);
    const handle = await start({ targets: fleet.targets, concurrency: 2 });

    let peakRunning = 0;
    let done = false;
    const result = handle.result().finally(() => (done = true));
    while (!done) {
      const s = await handle.query(summaryQuery).catch(() => undefined);
      if (s) peakRunning = Math.max(peakRunning, s.counts.running);
      await new Promise((r) => setTimeout(r, 100));
    }
    const summary = await result;

    expect(summary.counts).toEqual({
      total: 5,
      pending: 0,
      running: 0,
      successful: 5,
      failed: 0,
      skipped: 0,
      abandoned: 0,
      cancelled: 0,
    });
    expect(peakRunning).toBeGreaterThan(0);
    expect(peakRunning).toBeLessThanOrEqual(2);
    summary.targets.forEach((t, i) => {
      const { clusterName, snapshotId } = fleet.clusters[i]!;
      expect(t).toMatchObject({
        index: i,
        clusterName,
        policy: 'latest',
        state: 'Successful',
        snapshotId, // the newest completed one, not the newer fallback snapshot
        childWorkflowId: exportWorkflowId({ ...fleet.targets[i]!, snapshotId }),
        attached: false,
        jobState: 'Successful',
        error: null,
      });
      expect(t.exportJobId).toMatch(/^[a-f0-9]{24}$/);
      expect(t.exportedCollections).toBe(t.totalCollections);
    });

    // Atlas saw one job per snapshot, and never more than two active at once in this project.
    const jobs = jobsBySnapshotAndBucket(sim, fleet.groupId);
    expect([...jobs.values()]).toEqual([1, 1, 1, 1, 1]);
    expect(sim.stats.maxConcurrentActiveExportsByProject[fleet.groupId]).toBe(2);

    // Each child signalled exportCompleted to this run.
    const history = await handle.fetchHistory();
    const signals = (history.events ?? []).filter(
      (e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'exportCompleted'
    );
    expect(signals).toHaveLength(5);
    const child = suite.temporal.client.workflow.getHandle(summary.targets[0]!.childWorkflowId!);
    expect((await child.query(progressQuery)).notify).toEqual({
      workflowId: handle.workflowId,
      delivered: true,
      error: null,
    });
  });

  it('on-demand: takes a snapshot, or adopts the unfinished one, waits for it and exports it', async () => {
    const sim = suite.atlas.sim;
    const fleet = createFleet(sim, 3, 'OnDemand');
    const [fresh, busy, explicit] = fleet.clusters;
    // Someone else's on-demand snapshot is still running on the second cluster: Atlas refuses a new one.
    const unfinished = await suite.atlas
      .client()
      .takeSnapshot(fleet.groupId, busy!.clusterName, { description: 'taken by hand', retentionInDays: 1 });

    const summary = await (
      await start({
        targets: [
          { ...fleet.targets[0]!, snapshot: 'on-demand', customData: [{ key: 'policy', value: 'on-demand' }] },
          { ...fleet.targets[1]!, snapshot: 'on-demand' },
          { ...fleet.targets[2]!, snapshot: { snapshotId: explicit!.snapshotId } },
        ],
      })
    ).result();

    expect(summary.counts.successful).toBe(3);
    const [taken, adopted, byId] = summary.targets;
    expect(taken).toMatchObject({ policy: 'on-demand', state: 'Successful', note: null });
    expect(taken!.snapshotId).not.toBe(fresh!.snapshotId);
    expect(adopted).toMatchObject({ policy: 'on-demand', state: 'Successful', snapshotId: unfinished.id });
    expect(adopted!.note).toContain('adopted');
    expect(byId).toMatchObject({ policy: 'snapshotId', state: 'Successful', snapshotId: explicit!.snapshotId });

    const takes = sim.requests
      .filter((r) => r.operation === 'takeSnapshot' && r.groupId === fleet.groupId && r.status !== 401)
      .map((r) => `${decodeURIComponent(r.path.split('/')[7]!)}:${r.status}`);
    expect(takes[0]).toBe(`${busy!.clusterName}:200`); // the test's own
    expect(takes.slice(1).sort()).toEqual([`${busy!.clusterName}:400`, `${fresh!.clusterName}:200`].sort());
    const exported = sim.exportJobs(fleet.groupId);
    expect(exported.map((j) => j.snapshotId).sort()).toEqual(
      [taken!.snapshotId, unfinished.id, explicit!.snapshotId].sort()
    );
    expect(exported.every((j) => j.state === 'Successful')).toBe(true);
    expect(exported.find((j) => j.snapshotId === taken!.snapshotId)?.customData).toContainEqual({
      key: 'policy',
      value: 'on-demand',
    });
  });

  it('overlapping runs and a re-run export nothing twice; a snapshot exported by someone else is skipped', async () => {
    const sim = suite.atlas.sim;
    const fleet = createFleet(sim, 4, 'Overlap');
    // The last cluster's newest snapshot was exported to the bucket outside this service.
    const foreign = await suite.atlas.client().createExportJob(fleet.groupId, fleet.clusters[3]!.clusterName, {
      snapshotId: fleet.clusters[3]!.snapshotId,
      exportBucketId: fleet.exportBucketId,
    });
    const input = { targets: fleet.targets, concurrency: 4 };

    const [a, b] = await Promise.all([start(input), start(input)]);
    const [first, second] = await Promise.all([a.result(), b.result()]);
    const rerun = await (await start(input)).result();

    for (const s of [first, second, rerun]) {
      expect(s.counts).toMatchObject({ successful: 3, skipped: 1, failed: 0 });
      expect(s.targets[3]).toMatchObject({
        state: 'Skipped',
        exportJobId: foreign.id,
        snapshotId: fleet.clusters[3]!.snapshotId,
      });
      expect(s.targets[3]!.note).toContain('not started by this service');
    }
    // Of the two overlapping runs, exactly one started each export; the other observed it.
    for (let i = 0; i < 3; i++) {
      expect([first.targets[i]!.attached, second.targets[i]!.attached].sort()).toEqual([false, true]);
      expect(second.targets[i]!.exportJobId).toBe(first.targets[i]!.exportJobId);
      expect(rerun.targets[i]).toMatchObject({
        attached: true,
        state: 'Successful',
        exportJobId: first.targets[i]!.exportJobId,
      });
    }
    const jobs = jobsBySnapshotAndBucket(sim, fleet.groupId);
    expect(jobs.size).toBe(4);
    expect([...jobs.values()].every((n) => n === 1)).toBe(true);
  });

  it('one failing target neither hides nor stops the others, and fails the run with a typed failure', async () => {
    const sim = suite.atlas.sim;
    const fleet = createFleet(sim, 3, 'Failing');
    const failing = fleet.clusters[1]!;
    sim.setExportPlan(
      {
        queuedMs: 30_000,
        inProgressMs: 300_000,
        outcome: 'Failed',
        stateReason: { errorCode: 'E_BUCKET', message: 'bucket denied' },
      },
      { snapshotId: failing.snapshotId }
    );
    const handle = await start({
      targets: [
        ...fleet.targets,
        { groupId: fleet.groupId, clusterName: 'NoSuchCluster', exportBucketId: fleet.exportBucketId },
      ],
    });

    const failure = await failureOf(handle);
    expect(failure.type).toBe(FailureType.ScheduledExportFailed);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toMatch(/^2 of 4 export targets failed/);
    expect(failure.message).toContain(`[1] ${failing.clusterName} (snapshot ${failing.snapshotId}): ExportFailed`);
    expect(failure.message).toContain('[3] NoSuchCluster (snapshot -): CLUSTER_NOT_FOUND');

    const summary = failure.details?.[0] as ScheduledExportSummary;
    expect(summary.counts).toMatchObject({ total: 4, successful: 2, failed: 2 });
    expect(summary.targets[0]).toMatchObject({ state: 'Successful', jobState: 'Successful' });
    expect(summary.targets[2]).toMatchObject({ state: 'Successful', jobState: 'Successful' });
    expect(summary.targets[1]).toMatchObject({
      state: 'Failed',
      jobState: 'Failed',
      error: { type: FailureType.ExportFailed },
    });
    expect(summary.targets[1]!.error!.message).toContain('E_BUCKET: bucket denied');
    expect(summary.targets[1]!.exportJobId).toMatch(/^[a-f0-9]{24}$/);
    expect(summary.targets[3]).toMatchObject({
      state: 'Failed',
      childWorkflowId: null,
      error: { type: 'CLUSTER_NOT_FOUND' },
    });
    // The query still answers after the failure, with the same summary.
    expect((await handle.query(summaryQuery)).counts).toEqual(summary.counts);
    expect(
      sim
        .exportJobs(fleet.groupId)
        .map((j) => j.state)
        .sort()
    ).toEqual(['Failed', 'Successful', 'Successful']);
  });

  it('continues as new to bound its history, carrying the summary and the remaining targets', async () => {
    const sim = suite.atlas.sim;
    const fleet = createFleet(sim, 6, 'Long');
    const handle = await start({ targets: fleet.targets, concurrency: 2, maxHistoryEvents: 20 });
    const summary = await handle.result();

    expect(summary.continuedAsNew).toBeGreaterThanOrEqual(2);
    expect(summary.counts).toMatchObject({ total: 6, successful: 6 });
    expect(summary.targets.map((t) => [t.index, t.clusterName])).toEqual(
      fleet.clusters.map((c, i) => [i, c.clusterName])
    );
    expect(summary.startedAt <= summary.finishedAt!).toBe(true);
    expect([...jobsBySnapshotAndBucket(sim, fleet.groupId).values()]).toEqual([1, 1, 1, 1, 1, 1]);
    // The last run's history holds only its own targets.
    const last = await suite.temporal.client.workflow.getHandle(handle.workflowId).fetchHistory();
    expect(last.events!.length).toBeLessThan(50);
    expect(sim.stats.maxConcurrentActiveExportsByProject[fleet.groupId]).toBeLessThanOrEqual(2);
  });

  it('fails at once on invalid input, naming each field, before touching Atlas', async () => {
    const before = suite.atlas.sim.requests.length;
    const handle = await suite.temporal.client.workflow.start('scheduledExport', {
      taskQueue: suite.worker.taskQueue,
      workflowId: uniqueId('scheduled-invalid'),
      args: [
        {
          targets: [{ groupId: 'xyz', clusterName: 'Cluster0', exportBucketId: 'b', snapshot: 'newest' }],
          concurrency: 0,
        },
      ],
    });
    const failure = await failureOf(handle);
    expect(failure.type).toBe(FailureType.InvalidScheduledExportInput);
    expect(failure.message).toContain('input.targets[0].groupId: must be 24 lowercase hex characters');
    expect(failure.message).toContain('input.targets[0].exportBucketId');
    expect(failure.message).toContain('input.targets[0].snapshot: must be "latest", "on-demand" or { snapshotId');
    expect(failure.message).toContain('input.concurrency: must be at least 1');
    expect(suite.atlas.sim.requests.length).toBe(before);
  });
});
