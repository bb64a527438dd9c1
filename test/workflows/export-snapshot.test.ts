import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import type { ExportCompletion } from '../../src/shared/contract/export-contract';
import { FailureType } from '../../src/shared/contract/failure-types';
import { progressQuery } from '../../src/workflows';
import { TEST_SERVICE_ACCOUNT } from '../helpers/atlas';
import { failureOf, FAST_POLLING, useExportSuite } from '../helpers/export-harness';
import { fetchHistoryStats } from '../helpers/history';
import { startTestWorker } from '../helpers/temporal';

const suite = useExportSuite();

describe('exportSnapshot against the Atlas simulator', () => {
  it('exports a snapshot to Successful with one job, rising progress and a bounded history', async () => {
    const snapshotId = suite.h.freshSnapshot();
    const handle = await suite.h.start(suite.h.input({ snapshotId, customData: [{ key: 'team', value: 'sre' }] }));

    const seen = new Set<string>();
    let result: ExportCompletion | undefined;
    const resultPromise = handle.result().then((r) => (result = r));
    while (!result) {
      const p = await handle.query(progressQuery).catch(() => undefined);
      if (p?.state) seen.add(`${p.state}:${p.exportedCollections}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    await resultPromise;

    expect(result.state).toBe('Successful');
    expect(result.exportedCollections).toBe(12);
    expect(result.totalCollections).toBe(12);
    expect(result.terminal).toBe(true);
    expect(result.snapshotId).toBe(snapshotId);
    expect(result.finishedAt >= result.startedAt).toBe(true);
    // The query showed the job while it was running, not just at the end.
    expect([...seen].some((s) => s.startsWith('Queued') || s.startsWith('InProgress'))).toBe(true);

    const jobs = suite.h.jobsOf(handle.workflowId);
    expect(jobs).toHaveLength(1);
    expect(jobs[0]!.id).toBe(result.exportJobId);
    expect(jobs[0]!.customData).toContainEqual({ key: 'team', value: 'sre' });
    expect(suite.h.requestsFor(snapshotId, 'createExportJob')).toHaveLength(1);

    const progress = await handle.query(progressQuery);
    expect(progress.phase).toBe('done');
    expect(progress.polls).toBeGreaterThan(0);
    const stats = await fetchHistoryStats(handle);
    expect(stats.activities.createExportJob?.attempts).toBe(1);
    // Retry-driven polling: one GET per attempt, a handful of events per state change.
    expect(stats.activities.pollExportJob?.attempts).toBeGreaterThanOrEqual(progress.polls);
    expect(stats.events).toBeLessThan(80);
    expect(stats.timers).toBe(0);
  });

  it('signals exportCompleted to the notify workflow with the final progress', async () => {
    const snapshotId = suite.h.freshSnapshot();
    const listener = await suite.h.startListener();
    const handle = await suite.h.start(suite.h.input({ snapshotId, notify: { workflowId: listener.workflowId } }));
    const result = await handle.result();
    const [signalled] = await listener.result();
    expect(signalled).toEqual(result);
    expect(signalled).toMatchObject({
      exportJobId: result.exportJobId,
      state: 'Successful',
      exportedCollections: 12,
      totalCollections: 12,
      components: [],
      stateReason: null,
    });
    expect((await handle.query(progressQuery)).notify).toEqual({
      workflowId: listener.workflowId,
      delivered: true,
      error: null,
    });
  });

  it('reports sharded progress through components', async () => {
    const snapshotId = suite.h.freshSnapshot(suite.atlas.fixtures.shardedClusterName);
    const handle = await suite.h.start(
      suite.h.input({ clusterName: suite.atlas.fixtures.shardedClusterName, snapshotId })
    );
    const result = await handle.result();
    expect(result.state).toBe('Successful');
    expect(result.components.length).toBeGreaterThanOrEqual(2);
    expect(result.components.every((c) => c.exportId && c.replicaSetName)).toBe(true);
  });

  it('fails with ExportFailed and the Atlas stateReason after signalling the listener', async () => {
    const snapshotId = suite.h.freshSnapshot();
    suite.atlas.sim.setExportPlan(
      {
        queuedMs: 60_000,
        inProgressMs: 120_000,
        totalCollections: 5,
        outcome: 'Failed',
        stateReason: { errorCode: 'EXPORT_BUCKET_ACCESS_DENIED', message: 'Atlas could not write to the bucket' },
      },
      { snapshotId }
    );
    const listener = await suite.h.startListener();
    const handle = await suite.h.start(suite.h.input({ snapshotId, notify: { workflowId: listener.workflowId } }));
    const failure = await failureOf(handle);
    expect(failure.type).toBe(FailureType.ExportFailed);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('EXPORT_BUCKET_ACCESS_DENIED');
    expect(failure.message).toContain('Atlas could not write to the bucket');
    const [signalled] = await listener.result();
    expect(signalled).toMatchObject({
      state: 'Failed',
      stateReason: { errorCode: 'EXPORT_BUCKET_ACCESS_DENIED', message: 'Atlas could not write to the bucket' },
    });
    expect(suite.h.jobsOf(handle.workflowId)).toHaveLength(1);
  });

  it('stops waiting at the polling deadline: signals the last state, then fails with ExportDeadlineExceeded', async () => {
    const snapshotId = suite.h.freshSnapshot();
    suite.atlas.sim.setExportPlan({ queuedMs: 60_000, inProgressMs: 100 * 3600_000 }, { snapshotId });
    const listener = await suite.h.startListener();
    const handle = await suite.h.start(
      suite.h.input({
        snapshotId,
        notify: { workflowId: listener.workflowId },
        polling: { ...FAST_POLLING, timeout: '8s' },
      })
    );
    const failure = await failureOf(handle);
    expect(failure.type).toBe(FailureType.ExportDeadlineExceeded);
    expect(failure.message).toContain('InProgress');
    expect(failure.message).toContain('may still be running');
    const [signalled] = await listener.result();
    expect(signalled).toMatchObject({ state: 'InProgress', terminal: false });
    // The Atlas job is still there, and was not duplicated.
    expect(suite.h.jobsOf(handle.workflowId)).toHaveLength(1);
  });

  it('tells the listener when the job could not be created at all', async () => {
    const listener = await suite.h.startListener();
    const handle = await suite.h.start(
      suite.h.input({ clusterName: 'no-such-cluster', notify: { workflowId: listener.workflowId } })
    );
    expect((await failureOf(handle)).type).toBe('CLUSTER_NOT_FOUND');
    const [signalled] = await listener.result();
    expect(signalled).toMatchObject({ state: 'CreateFailed', exportJobId: null, terminal: false });
  });

  it('a fatal Atlas error while polling still signals the listener, then fails with the Atlas errorCode as type', async () => {
    const snapshotId = suite.h.freshSnapshot();
    const listener = await suite.h.startListener();
    suite.atlas.sim.injectFaults({
      operation: 'getExportJob',
      kind: 'status',
      status: 403,
      errorCode: 'ACCESS_FORBIDDEN',
    });
    try {
      const handle = await suite.h.start(suite.h.input({ snapshotId, notify: { workflowId: listener.workflowId } }));
      const err = await handle.result().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WorkflowFailedError);
      const top = (err as WorkflowFailedError).cause;
      // The workflow's own failure is typed, not a generic "Activity task failed".
      expect(top).toBeInstanceOf(ApplicationFailure);
      expect((top as ApplicationFailure).type).toBe('ACCESS_FORBIDDEN');
      expect(top?.message).toContain('To fix:');
      const [signalled] = await listener.result();
      expect(signalled).toMatchObject({
        state: 'Queued',
        terminal: false,
        exportJobId: suite.h.jobsOf(handle.workflowId)[0]!.id,
      });
    } finally {
      suite.atlas.sim.clearFaults();
    }
  });

  it('invalid input that names a listener still tells it', async () => {
    const listener = await suite.h.startListener();
    const handle = await suite.h.start({
      ...suite.h.input(),
      snapshotId: 'nope',
      notify: { workflowId: listener.workflowId },
    });
    expect((await failureOf(handle)).type).toBe(FailureType.InvalidExportInput);
    const [signalled] = await listener.result();
    expect(signalled).toMatchObject({ state: 'InvalidInput', snapshotId: 'nope', exportJobId: null });
  });

  it('continues as new on long exports, carrying the job id and progress', async () => {
    const snapshotId = suite.h.freshSnapshot();
    // A 6-hour export with 400 collections, time-scaled; report every progress change to grow history fast.
    suite.atlas.sim.setExportPlan(
      { queuedMs: 60_000, inProgressMs: 6 * 3600_000, totalCollections: 400 },
      { snapshotId }
    );
    suite.atlas.sim.setTimeScale((6 * 3600) / 8); // 6 simulated hours in 8 s
    try {
      const handle = await suite.h.start(
        suite.h.input({
          snapshotId,
          polling: {
            ...FAST_POLLING,
            initialInterval: '1s',
            maximumInterval: '2s',
            timeScale: 20,
            reportInterval: '1s',
            maxHistoryEvents: 25,
          },
        })
      );
      const result = await handle.result();
      expect(result.state).toBe('Successful');
      expect(result.exportedCollections).toBe(400);
      const progress = await handle.query(progressQuery);
      expect(progress.continuedAsNew).toBeGreaterThan(0);
      expect(suite.h.jobsOf(handle.workflowId)).toHaveLength(1);
      expect(suite.h.requestsFor(snapshotId, 'createExportJob')).toHaveLength(1);
    } finally {
      suite.atlas.sim.setTimeScale(600);
    }
  }, 120_000);

  it('authenticates with a service account (OAuth) end to end', async () => {
    const oauthWorker = await startTestWorker(suite.temporal, suite.atlas.client(TEST_SERVICE_ACCOUNT));
    try {
      const snapshotId = suite.h.freshSnapshot();
      const handle = await suite.h.start(suite.h.input({ snapshotId }), oauthWorker.taskQueue);
      expect((await handle.result()).state).toBe('Successful');
      const reqs = suite.h.requestsFor(snapshotId, 'createExportJob');
      expect(reqs).toHaveLength(1);
      expect(reqs[0]!.auth).toBe('bearer');
    } finally {
      await oauthWorker.stop();
    }
  });
});
