import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createExportActivities,
  type PollExportJobInput,
  type PollExportJobResult,
} from '../../src/activities/export-activities';
import type { AtlasClient } from '../../src/atlas';
import { FailureType } from '../../src/shared/contract/failure-types';
import { ADAPTIVE_DEFAULTS, initialCadenceMemory, type PollCadence } from '../../src/shared/polling/poll-cadence';
import { OPEN_TEST_POLICY, startSimulatedAtlas, type SimulatedAtlas } from '../helpers/atlas';
import { testLogger } from '../helpers/test-logger';

/**
 * `pollExportJob` attempt by attempt, outside Temporal (MockActivityEnvironment sets the attempt number) and
 * against the simulator: which attempt reads, what it waits for, and what it tells the workflow.
 */
let atlas: SimulatedAtlas;
let client: AtlasClient;
beforeAll(async () => {
  atlas = await startSimulatedAtlas();
  client = atlas.client();
});
afterAll(() => atlas.close());

const adaptive: PollCadence = { mode: 'adaptive', ...ADAPTIVE_DEFAULTS, timeScale: 1 };

/** A fresh export job in the given plan (simulated ms), and a poll input that last saw it `Queued` now. */
async function jobInput(plan: { queuedMs: number; inProgressMs: number }): Promise<PollExportJobInput> {
  const f = atlas.fixtures;
  const snapshotId = atlas.sim.addSnapshot(f.groupId, f.clusterName, { status: 'completed' });
  atlas.sim.setExportPlan({ ...plan, totalCollections: 8 }, { snapshotId });
  const job = await client.createExportJob(f.groupId, f.clusterName, { snapshotId, exportBucketId: f.exportBucketId });
  return {
    groupId: f.groupId,
    clusterName: f.clusterName,
    exportJobId: job.id,
    known: { state: 'Queued', exportedCollections: 0, totalCollections: 0 },
    pollsBefore: 0,
    cadence: adaptive,
    memory: initialCadenceMemory(Date.now(), null),
    reportIntervalMs: 300_000,
    jitterSeed: 'wf',
  };
}

async function attempt(
  n: number,
  input: unknown,
  heartbeats: unknown[] = [],
  heartbeatDetails?: unknown
): Promise<PollExportJobResult> {
  // No schedule-to-close: the mock's default would bound every wait to half of its few seconds.
  const env = new MockActivityEnvironment(
    {
      attempt: n,
      scheduledTimestampMs: Date.now(),
      scheduleToCloseTimeoutMs: 0,
      heartbeatDetails,
    },
    { logger: testLogger() }
  );
  env.on('heartbeat', (d: unknown) => heartbeats.push(d));
  const activities = createExportActivities(client, OPEN_TEST_POLICY);
  return env.run((i: unknown) => activities.pollExportJob(i as PollExportJobInput), input);
}

/** Runs one attempt that must fail retryably; returns the failure and the heartbeat details it sent. */
async function failing(n: number, input: unknown, heartbeatDetails?: unknown) {
  const heartbeats: unknown[] = [];
  const err = await attempt(n, input, heartbeats, heartbeatDetails).then(
    () => undefined,
    (e: unknown) => e
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  expect((err as ApplicationFailure).nonRetryable).toBe(false);
  return { failure: err as ApplicationFailure, heartbeats };
}

async function notReady(n: number, input: unknown): Promise<ApplicationFailure> {
  const err = await attempt(n, input).then(
    () => undefined,
    (e: unknown) => e
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  expect((err as ApplicationFailure).type).toBe(FailureType.ExportNotReady);
  return err as ApplicationFailure;
}

const reads = (exportJobId: string) =>
  atlas.sim.requests.filter((r) => r.operation === 'getExportJob' && r.path.includes(exportJobId)).length;

describe('pollExportJob', () => {
  it('defers the first read to the cadence’s first poll time without reading', async () => {
    const input = await jobInput({ queuedMs: 3600_000, inProgressMs: 3600_000 });
    const failure = await notReady(1, input);
    expect(Number(failure.nextRetryDelay)).toBeLessThanOrEqual(ADAPTIVE_DEFAULTS.queuedIntervalMs * 1.1);
    expect(failure.message).toContain('first read');
    expect(reads(input.exportJobId)).toBe(0);
  });

  it('while nothing changed, says when it reads next and why, within the maximum interval', async () => {
    const input = await jobInput({ queuedMs: 3600_000, inProgressMs: 3600_000 });
    const failure = await notReady(2, input);
    expect(failure.message).toMatch(/is Queued; next read at \S+Z: Queued: the queue says nothing/);
    expect(Number(failure.nextRetryDelay)).toBeLessThanOrEqual(ADAPTIVE_DEFAULTS.maximumIntervalMs);
    expect(reads(input.exportJobId)).toBe(1);
  });

  it('reports the start of InProgress with the window it began in', async () => {
    const input = await jobInput({ queuedMs: 0, inProgressMs: 3600_000 });
    const result = await attempt(2, input);
    expect(result.status.state).toBe('InProgress');
    expect(result.polls).toBe(1);
    expect(result.memory.inProgressSince).toMatchObject({ after: input.memory.observedAt });
    expect(result.memory.inProgressSince!.atMost).toBeGreaterThanOrEqual(input.memory.observedAt);
    expect(result.memory.phase).toBe('far');
  });

  it('still serves the input of workflow workers from before polling modes (rolling deploys)', async () => {
    const {
      cadence: _cadence,
      memory: _memory,
      ...rest
    } = await jobInput({
      queuedMs: 3600_000,
      inProgressMs: 3600_000,
    });
    const legacy = {
      ...rest,
      backoff: { initialIntervalMs: 30_000, maximumIntervalMs: 180_000, backoffCoefficient: 1.5 },
      firstReadDelayMs: 31_000,
    };
    const first = await notReady(1, legacy);
    expect(Number(first.nextRetryDelay)).toBeGreaterThan(29_000);
    expect(Number(first.nextRetryDelay)).toBeLessThanOrEqual(31_000);
    const second = await notReady(2, legacy);
    expect(Number(second.nextRetryDelay)).toBeLessThanOrEqual(180_000);
    expect(second.message).toContain('exponential backoff');
  });
});

describe('pollExportJob: 429/503 backoff by consecutive errors, carried in heartbeat details', () => {
  const limited = (exportJobId: string) =>
    atlas.sim.injectFaults({
      operation: 'getExportJob',
      pathIncludes: exportJobId,
      kind: 'status',
      status: 429,
      errorCode: 'RATE_LIMITED',
    });

  it('the first 429 late in a long poll waits ~10 s, the next ~20 s; a good read resets; polling never heartbeats', async () => {
    const input = await jobInput({ queuedMs: 3600_000, inProgressMs: 3600_000 });
    // Attempt 40: 39 not-ready reads before it. By attempt number the fallback would be the 5 min cap.
    limited(input.exportJobId);
    const first = await failing(40, input);
    expect(Number(first.failure.nextRetryDelay)).toBeGreaterThanOrEqual(7_500);
    expect(Number(first.failure.nextRetryDelay)).toBeLessThanOrEqual(12_500);
    expect(first.heartbeats).toEqual([expect.objectContaining({ consecutiveErrors: 1 })]);

    limited(input.exportJobId);
    const second = await failing(41, input, first.heartbeats[0]);
    expect(Number(second.failure.nextRetryDelay)).toBeGreaterThanOrEqual(15_000);
    expect(Number(second.failure.nextRetryDelay)).toBeLessThanOrEqual(25_000);
    expect(second.heartbeats).toEqual([expect.objectContaining({ consecutiveErrors: 2 })]);

    // A good read (still Queued) resets the count, and says so once.
    const reset = await failing(42, input, second.heartbeats[0]);
    expect(reset.failure.type).toBe(FailureType.ExportNotReady);
    expect(reset.heartbeats).toEqual([expect.objectContaining({ consecutiveErrors: 0 })]);
    const quiet = await failing(43, input, reset.heartbeats[0]);
    expect(quiet.failure.type).toBe(FailureType.ExportNotReady);
    expect(quiet.heartbeats).toEqual([]);

    limited(input.exportJobId);
    const again = await failing(44, input, reset.heartbeats[0]);
    expect(Number(again.failure.nextRetryDelay)).toBeLessThanOrEqual(12_500);
  });

  it('plain not-ready attempts send no heartbeat at all', async () => {
    const input = await jobInput({ queuedMs: 3600_000, inProgressMs: 3600_000 });
    for (const n of [1, 2, 3]) expect((await failing(n, input)).heartbeats).toEqual([]);
  });
});
