import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkflowHandle } from '@temporalio/client';
import { DEFAULT_ATLAS_PROJECT_ACTIVITIES_PER_SECOND } from '../../src/shared/atlas/rate-limit';
import type { ExportSnapshotInput } from '../../src/shared/contract/export-contract';
import { applyAtlasRateLimit } from '../../src/temporal/atlas-rate-limit';
import { exportSnapshot } from '../../src/workflows';
import { startSimulatedAtlas, type SimulatedAtlas } from '../helpers/atlas';
import {
  connectTemporal,
  startTestWorker,
  uniqueId,
  type TemporalTestContext,
  type TestWorker,
} from '../helpers/temporal';

/**
 * The fleet-wide per-project limiter, end to end: the product's workflow (every Atlas activity carries the project
 * as its fairness key), the per-key rate limit the worker applies to its activity task queue, the dev server's
 * matching service, and the simulator's token bucket. Judged by counts (429s, failed exports), not timings.
 *
 * The simulator runs 60× real time with a small bucket: 20 requests at once, refilled at 3 per real second. The
 * worker-side limit is the product default scaled the same way (4 attempts/s against Atlas's 8.33 refills/s, so
 * 1.44 attempts/s here). The control runs the same exports with the limit removed.
 */
const TIME_SCALE = 60;
const BUCKET = { capacity: 20, refillPerMinute: 3 };
const REFILL_PER_REAL_SECOND = (BUCKET.refillPerMinute * TIME_SCALE) / 60;
const ATLAS_REFILL_PER_SECOND = 500 / 60;
const LIMIT = (DEFAULT_ATLAS_PROJECT_ACTIVITIES_PER_SECOND * REFILL_PER_REAL_SECOND) / ATLAS_REFILL_PER_SECOND;
const EXPORTS = 16;
const CLUSTERS = 4;

describe('fleet-wide Atlas rate limit per project', () => {
  let temporal: TemporalTestContext;
  let atlas: SimulatedAtlas;
  const workers: TestWorker[] = [];

  beforeAll(async () => {
    temporal = await connectTemporal();
    atlas = await startSimulatedAtlas({
      timeScale: TIME_SCALE,
      rateLimit: BUCKET,
      // 1 s queued + 2 s running (real).
      defaultExportPlan: { queuedMs: 60_000, inProgressMs: 120_000, totalCollections: 4 },
    });
  });
  afterAll(async () => {
    for (const w of workers) await w.stop();
    await atlas?.close();
    await temporal?.close();
  });

  /** A project of its own (its own bucket), `EXPORTS` fresh snapshots over `CLUSTERS` clusters. */
  function project(): { groupId: string; inputs: ExportSnapshotInput[] } {
    const { sim } = atlas;
    const groupId = sim.addProject();
    const exportBucketId = sim.addExportBucket(groupId);
    for (let c = 0; c < CLUSTERS; c++) sim.addCluster(groupId, `Limited${c}`, { totalCollections: 4 });
    const inputs = Array.from({ length: EXPORTS }, (_, i) => {
      const clusterName = `Limited${i % CLUSTERS}`;
      return {
        groupId,
        clusterName,
        snapshotId: sim.addSnapshot(groupId, clusterName, { status: 'completed' }),
        exportBucketId,
        // The first read 4 s real after the create, when the job is done: every timer and retry ≥ 1 s.
        polling: { mode: 'fixed', interval: '4m', timeScale: TIME_SCALE, timeout: '5m', reportInterval: '1h' },
      } satisfies ExportSnapshotInput;
    });
    return { groupId, inputs };
  }

  async function startAll(inputs: ExportSnapshotInput[], setting: number | 'off') {
    const worker = await startTestWorker(temporal, atlas.client());
    workers.push(worker);
    await applyAtlasRateLimit(temporal.nativeConnection.workflowService, {
      namespace: 'default',
      taskQueue: worker.taskQueue,
      setting,
    });
    return Promise.all(
      inputs.map((input) =>
        temporal.client.workflow.start(exportSnapshot, {
          taskQueue: worker.taskQueue,
          workflowId: uniqueId('rate-limited'),
          args: [input],
        })
      )
    );
  }

  /** Requests that reached the project's bucket (digest challenges are answered before it) and its 429s. */
  function bucketCounts(groupId: string) {
    const requests = atlas.sim.requests.filter((r) => r.groupId === groupId && r.status !== 401);
    return { requests: requests.length, rateLimited: requests.filter((r) => r.status === 429).length };
  }

  it(`runs ${EXPORTS} exports of one project at once with under 1 % of requests answered 429 and none failing`, async () => {
    const { groupId, inputs } = project();
    const handles = await startAll(inputs, LIMIT);
    const outcomes = await Promise.allSettled(handles.map((h) => h.result()));
    const failed = outcomes.filter((o) => o.status === 'rejected');
    expect(failed).toEqual([]);
    expect(outcomes.map((o) => (o.status === 'fulfilled' ? o.value.state : null))).toEqual(
      inputs.map(() => 'Successful')
    );
    const counts = bucketCounts(groupId);
    // Every export needs at least a list, a POST and a read: more than the bucket holds at once.
    expect(counts.requests).toBeGreaterThanOrEqual(3 * EXPORTS);
    expect(counts.rateLimited, JSON.stringify(counts)).toBeLessThanOrEqual(counts.requests * 0.01);

    // Each Atlas activity was scheduled with the project as its fairness key (the limit is per key).
    const history = await handles[0]!.fetchHistory();
    const scheduled = (history.events ?? []).filter((e) => e.activityTaskScheduledEventAttributes);
    expect(scheduled.length).toBeGreaterThanOrEqual(2);
    for (const e of scheduled) expect(e.activityTaskScheduledEventAttributes?.priority?.fairnessKey).toBe(groupId);
  });

  it('control: the same exports with the limiter off get 429s', async () => {
    const { groupId, inputs } = project();
    const handles = await startAll(inputs, 'off');
    try {
      // Until the project saw as many requests as the creates alone need (more than the bucket holds).
      const deadline = Date.now() + 30_000;
      while (bucketCounts(groupId).requests < 2 * EXPORTS && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
      }
      const counts = bucketCounts(groupId);
      expect(counts.requests).toBeGreaterThanOrEqual(2 * EXPORTS);
      expect(counts.rateLimited, JSON.stringify(counts)).toBeGreaterThan(counts.requests * 0.1);
    } finally {
      await Promise.all(
        handles.map((h: WorkflowHandle) => h.terminate('rate-limit control done').catch(() => undefined))
      );
    }
  });
});
