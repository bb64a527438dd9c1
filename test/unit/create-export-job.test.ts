import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createExportActivities, type CreateExportJobResult } from '../../src/activities/export-activities';
import type { AtlasClient } from '../../src/atlas';
import { FailureType } from '../../src/shared/failure-types';
import { startSimulatedAtlas, type SimulatedAtlas } from '../helpers/atlas';

/**
 * `createExportJob`'s time check outside Temporal: an attempt only POSTs when the request (5 s timeout in these
 * clients) ends before the attempt's start-to-close is up, counted from the attempt's dispatch.
 */
let atlas: SimulatedAtlas;
let client: AtlasClient;
beforeAll(async () => {
  atlas = await startSimulatedAtlas();
  client = atlas.client();
});
afterAll(() => atlas.close());

function attempt(info: { scheduledAgoMs: number; startToCloseTimeoutMs: number }): Promise<CreateExportJobResult> {
  const f = atlas.fixtures;
  const scheduled = Date.now() - info.scheduledAgoMs;
  const env = new MockActivityEnvironment({
    scheduledTimestampMs: scheduled,
    currentAttemptScheduledTimestampMs: scheduled,
    startToCloseTimeoutMs: info.startToCloseTimeoutMs,
    scheduleToCloseTimeoutMs: 0,
  });
  const activities = createExportActivities(client);
  const snapshotId = atlas.sim.addSnapshot(f.groupId, f.clusterName, { status: 'completed' });
  return env.run((input: Parameters<typeof activities.createExportJob>[0]) => activities.createExportJob(input), {
    groupId: f.groupId,
    clusterName: f.clusterName,
    snapshotId,
    exportBucketId: f.exportBucketId,
    idempotencyKey: `wf-${snapshotId}`,
  });
}

describe('createExportJob', () => {
  it('POSTs after waiting 10 minutes in the task queue (behind the per-project rate limit)', async () => {
    const result = await attempt({ scheduledAgoMs: 600_000, startToCloseTimeoutMs: 60_000 });
    expect(result.adopted).toBe(false);
    expect(result.status.state).toBe('Queued');
  });

  it('defers the POST when the attempt started too long ago for a request to end within it', async () => {
    // Dispatched at most 5 s before it began (DISPATCH_SLACK_MS): 5 s + a 5 s request + 1 s > 10 s.
    const err = await attempt({ scheduledAgoMs: 600_000, startToCloseTimeoutMs: 10_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).type).toBe(FailureType.CreateDeferred);
  });
});
