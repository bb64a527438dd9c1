import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createExportActivities,
  type CreateExportJobInput,
  type CreateExportJobResult,
} from '../../src/activities/export-activities';
import type { AtlasClient } from '../../src/atlas';
import { FailureType } from '../../src/shared/contract/failure-types';
import { OPEN_TEST_POLICY, startSimulatedAtlas, type SimulatedAtlas } from '../helpers/atlas';
import { testLogger } from '../helpers/test-logger';

/**
 * `createExportJob` attempt by attempt outside Temporal (MockActivityEnvironment), against the simulator: the time
 * check, which existing job it follows instead of POSTing, and what it carries to the next attempt in heartbeat
 * details after an odd or missing create answer.
 */
let atlas: SimulatedAtlas;
let client: AtlasClient;
beforeAll(async () => {
  atlas = await startSimulatedAtlas();
  client = atlas.client();
});
afterAll(() => atlas.close());

interface AttemptOptions {
  scheduledAgoMs?: number;
  startToCloseTimeoutMs?: number;
  heartbeatDetails?: unknown;
  attempt?: number;
}

/** One attempt; `heartbeats` receives the details it sent. */
function attempt(
  input: CreateExportJobInput,
  opts: AttemptOptions = {},
  heartbeats: unknown[] = []
): Promise<CreateExportJobResult> {
  const scheduled = Date.now() - (opts.scheduledAgoMs ?? 0);
  const env = new MockActivityEnvironment(
    {
      attempt: opts.attempt ?? 1,
      scheduledTimestampMs: scheduled,
      currentAttemptScheduledTimestampMs: scheduled,
      startToCloseTimeoutMs: opts.startToCloseTimeoutMs ?? 60_000,
      scheduleToCloseTimeoutMs: 0,
      heartbeatDetails: opts.heartbeatDetails,
    },
    { logger: testLogger() }
  );
  env.on('heartbeat', (d: unknown) => heartbeats.push(d));
  const activities = createExportActivities(client, OPEN_TEST_POLICY);
  return env.run((i: CreateExportJobInput) => activities.createExportJob(i), input);
}

async function failedAttempt(input: CreateExportJobInput, opts: AttemptOptions = {}) {
  const heartbeats: unknown[] = [];
  const err = await attempt(input, opts, heartbeats).then(
    () => undefined,
    (e: unknown) => e
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  return { failure: err as ApplicationFailure, heartbeats };
}

/** A fresh cluster (its own list, its own fault scope) with a completed snapshot, and an input for it. */
function target(key = 'wf-1'): CreateExportJobInput & { cluster: string } {
  const f = atlas.fixtures;
  const cluster = `create-${Math.random().toString(36).slice(2, 10)}`;
  atlas.sim.addCluster(f.groupId, cluster);
  const snapshotId = atlas.sim.addSnapshot(f.groupId, cluster, { status: 'completed' });
  return {
    cluster,
    groupId: f.groupId,
    clusterName: cluster,
    snapshotId,
    exportBucketId: f.exportBucketId,
    idempotencyKey: key,
    runKey: `${key}-run-1`,
  };
}

const posts = (cluster: string) =>
  atlas.sim.requests.filter((r) => r.operation === 'createExportJob' && r.path.includes(`/clusters/${cluster}/`));
const jobsOf = (t: { snapshotId: string }) => atlas.sim.exportJobs().filter((j) => j.snapshotId === t.snapshotId);
/** Someone else's job (no tag of ours) for the target, created through the API. */
const othersJob = (t: CreateExportJobInput, exportBucketId = t.exportBucketId) =>
  client.createExportJob(t.groupId, t.clusterName, { snapshotId: t.snapshotId, exportBucketId });

describe('createExportJob: the attempt time check', () => {
  it('POSTs after waiting 10 minutes in the task queue (behind the per-project rate limit)', async () => {
    const result = await attempt(target(), { scheduledAgoMs: 600_000, startToCloseTimeoutMs: 60_000 });
    expect(result.adopted).toBe(false);
    expect(result.attached).toBe(false);
    expect(result.status.state).toBe('Queued');
  });

  it('defers the POST when the attempt started too long ago for a request to end within it', async () => {
    // Dispatched at most 5 s before it began (DISPATCH_SLACK_MS): 5 s + a 5 s request + 1 s > 10 s.
    const { failure } = await failedAttempt(target(), { scheduledAgoMs: 600_000, startToCloseTimeoutMs: 10_000 });
    expect(failure.type).toBe(FailureType.CreateDeferred);
  });
});

describe('createExportJob: one Atlas job per snapshot and bucket, whoever asks', () => {
  it('(a) adopts its own tagged job, not attached', async () => {
    const t = target();
    const first = await attempt(t);
    const again = await attempt(t);
    expect(again).toMatchObject({ adopted: true, attached: false });
    expect(again.status.exportJobId).toBe(first.status.exportJobId);
    expect(posts(t.cluster)).toHaveLength(1);
  });

  it('(b) attaches to someone else’s Queued or InProgress export of the snapshot to the bucket, without a POST', async () => {
    const t = target();
    const other = await othersJob(t);
    const before = posts(t.cluster).length;
    const result = await attempt(t);
    expect(result).toMatchObject({ adopted: true, attached: true });
    expect(result.status.exportJobId).toBe(other.id);
    expect(posts(t.cluster)).toHaveLength(before);
    // Even when asked to export again: Atlas allows one active export per snapshot.
    const again = await attempt({ ...t, idempotencyKey: 'wf-2', ifAlreadyExported: 'export-again' });
    expect(again.status.exportJobId).toBe(other.id);
    expect(jobsOf(t)).toHaveLength(1);
  });

  it('(c) attaches to the newest Successful export, unless asked to export again', async () => {
    const t = target();
    atlas.sim.setExportPlan({ queuedMs: 0, inProgressMs: 0 }, { snapshotId: t.snapshotId });
    await othersJob(t);
    const newer = await othersJob(t);
    const reused = await attempt(t);
    expect(reused).toMatchObject({ adopted: true, attached: true });
    expect(reused.status).toMatchObject({ exportJobId: newer.id, state: 'Successful' });
    const explicit = await attempt({ ...t, idempotencyKey: 'wf-3', ifAlreadyExported: 'reuse' });
    expect(explicit.status.exportJobId).toBe(newer.id);

    const fresh = await attempt({ ...t, idempotencyKey: 'wf-4', ifAlreadyExported: 'export-again' });
    expect(fresh).toMatchObject({ adopted: false, attached: false });
    expect(jobsOf(t).map((j) => j.id)).toContain(fresh.status.exportJobId);
    expect(jobsOf(t)).toHaveLength(3);
  });

  it('(d) never counts others’ Failed or Cancelled jobs, nor jobs of another bucket', async () => {
    const t = target();
    atlas.sim.setExportPlan({ queuedMs: 0, inProgressMs: 0, outcome: 'Failed' }, { snapshotId: t.snapshotId });
    const failed = await othersJob(t);
    atlas.sim.setExportPlan({ queuedMs: 0, inProgressMs: 0, outcome: 'Cancelled' }, { snapshotId: t.snapshotId });
    const cancelled = await othersJob(t);
    atlas.sim.setExportPlan(undefined, { snapshotId: t.snapshotId });
    const result = await attempt(t);
    expect(result).toMatchObject({ adopted: false, attached: false });
    expect([failed.id, cancelled.id]).not.toContain(result.status.exportJobId);

    // Another bucket's active export of the snapshot: Atlas answers 409; nothing to follow, so it retries.
    const u = target();
    const otherBucket = atlas.sim.addExportBucket(u.groupId, { bucketName: 'other-bucket' });
    await othersJob(u, otherBucket);
    const { failure } = await failedAttempt(u);
    expect(failure.nonRetryable).toBe(false);
    expect(failure.message).toContain('409');
    expect(jobsOf(u)).toHaveLength(1);
  });
});

describe('createExportJob: a 2xx create answer it cannot fully read', () => {
  const odd = (cluster: string, fault: Record<string, unknown>) =>
    atlas.sim.injectFaults({ operation: 'createExportJob', pathIncludes: `/clusters/${cluster}/`, ...fault } as never);
  const reads = (cluster: string) =>
    atlas.sim.requests.filter((r) => r.operation === 'getExportJob' && r.path.includes(`/clusters/${cluster}/`));

  it('with an id but no readable state: follows that job, read back with one GET', async () => {
    const t = target();
    odd(t.cluster, { kind: 'patchBody', set: { state: null } });
    const result = await attempt(t);
    expect(result).toMatchObject({ adopted: false, attached: false, status: { state: 'Queued' } });
    expect(result.status.exportJobId).toBe(jobsOf(t)[0]!.id);
    expect(reads(t.cluster)).toHaveLength(1);
    expect(posts(t.cluster)).toHaveLength(1);
  });

  it.each([
    ['without an id', { kind: 'patchBody', omit: ['id'] }],
    ['that is not JSON', { kind: 'malformed' }],
  ])('%s: finds the job by its tag in the same attempt', async (_label, fault) => {
    const t = target();
    odd(t.cluster, fault);
    const result = await attempt(t);
    expect(result.status.exportJobId).toBe(jobsOf(t)[0]!.id);
    expect(jobsOf(t)).toHaveLength(1);
  });

  it('without an id and not listed yet: fails retryably, and the next attempts never POST again', async () => {
    const t = target();
    odd(t.cluster, { kind: 'patchBody', omit: ['id'] });
    atlas.sim.injectFaults({
      operation: 'listExportJobs',
      pathIncludes: `/clusters/${t.cluster}/`,
      kind: 'emptyList',
      times: 3,
    });
    const first = await failedAttempt(t);
    expect(first.failure.type).toBe(FailureType.CreateAcceptedNotListed);
    expect(first.failure.nonRetryable).toBe(false);
    expect(first.heartbeats).toEqual([expect.objectContaining({ postAccepted: {} })]);
    const second = await failedAttempt(t, { attempt: 2, heartbeatDetails: first.heartbeats[0] });
    expect(second.failure.type).toBe(FailureType.CreateAcceptedNotListed);
    const third = await attempt(t, { attempt: 3, heartbeatDetails: first.heartbeats[0] });
    expect(third.status.exportJobId).toBe(jobsOf(t)[0]!.id);
    expect(posts(t.cluster)).toHaveLength(1);
    expect(jobsOf(t)).toHaveLength(1);
  });

  it('with an id whose read-back is unreadable too: never reported as not created, looked up again', async () => {
    const t = target();
    odd(t.cluster, { kind: 'patchBody', set: { state: 42 } });
    atlas.sim.injectFaults(
      { operation: 'getExportJob', pathIncludes: `/clusters/${t.cluster}/`, kind: 'patchBody', set: { state: 42 } },
      {
        operation: 'listExportJobs',
        pathIncludes: `/clusters/${t.cluster}/`,
        kind: 'patchBody',
        set: { state: 42 },
        times: 2,
      }
    );
    const first = await failedAttempt(t);
    expect(first.failure.type).toBe(FailureType.CreateAcceptedNotListed);
    const id = jobsOf(t)[0]!.id;
    expect(first.failure.message).toContain(id);
    expect(first.heartbeats).toEqual([expect.objectContaining({ postAccepted: { exportJobId: id } })]);
    const next = await attempt(t, { attempt: 2, heartbeatDetails: first.heartbeats[0] });
    expect(next.status.exportJobId).toBe(id);
    expect(posts(t.cluster)).toHaveLength(1);
  });
});

describe('createExportJob: a create request that got no answer', () => {
  it('is not repeated until Atlas could no longer act on it; an answer from Atlas itself is', async () => {
    const t = target();
    atlas.sim.injectFaults({ operation: 'createExportJob', pathIncludes: `/clusters/${t.cluster}/`, kind: 'reset' });
    const lost = await failedAttempt(t);
    expect(lost.failure.type).toBe(FailureType.AtlasNetworkError);
    const carried = lost.heartbeats[0] as { postUncertainAt: number };
    expect(carried.postUncertainAt).toBeGreaterThan(Date.now() - 5_000);

    const waiting = await failedAttempt(t, { attempt: 2, heartbeatDetails: carried });
    expect(waiting.failure.type).toBe(FailureType.CreateOutcomeUnknown);
    expect(Number(waiting.failure.nextRetryDelay)).toBeGreaterThan(5_000);
    expect(Number(waiting.failure.nextRetryDelay)).toBeLessThanOrEqual(10_000); // 2 × the 5 s request timeout
    expect(posts(t.cluster)).toHaveLength(1);

    // Two request timeouts later, nothing listed: it is safe to POST again.
    const later = { ...carried, postUncertainAt: Date.now() - 10_001 };
    const result = await attempt(t, { attempt: 3, heartbeatDetails: later });
    expect(result.adopted).toBe(false);
    expect(posts(t.cluster)).toHaveLength(2);

    const u = target();
    atlas.sim.injectFaults({
      operation: 'createExportJob',
      pathIncludes: `/clusters/${u.cluster}/`,
      kind: 'status',
      status: 500,
    });
    const answered = await failedAttempt(u);
    expect(answered.heartbeats).toEqual([
      expect.not.objectContaining({ postUncertainAt: expect.anything() as unknown }),
    ]);
  });
});
