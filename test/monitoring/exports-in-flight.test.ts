import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readExportsInFlight } from '../../src/observability/exports-in-flight';
import { connectTemporal, uniqueId, type TemporalTestContext } from '../helpers/temporal';

/**
 * The visibility counts behind `atlas_exports_in_flight`, against the real dev server: exports on a task queue
 * no worker polls stay Running with no AtlasExportState, so they count as `Other`, and only on their own queue.
 * (test/monitoring/prometheus-scrape.test.ts sees the gauge count a Queued and a stalled export of a real worker.)
 */
let temporal: TemporalTestContext;
beforeAll(async () => {
  temporal = await connectTemporal();
});
afterAll(async () => {
  await temporal?.close();
});

async function startIdle(taskQueue: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const handle = await temporal.client.workflow.start('exportSnapshot', {
      taskQueue,
      workflowId: uniqueId('in-flight'),
      args: [{}],
      workflowExecutionTimeout: '2m',
    });
    afterAll(() => handle.terminate('test over').catch(() => undefined));
  }
}

async function readUntil(taskQueue: string, other: number) {
  const service = temporal.client.workflowService;
  const deadline = Date.now() + 20_000;
  for (;;) {
    const reading = await readExportsInFlight(service, 'default', taskQueue);
    if (reading.byState.Other === other || Date.now() > deadline) return reading;
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('counting exports in flight in visibility', () => {
  it('counts running exports by state on their own task queue only, a quote in its name included', async () => {
    const queue = uniqueId("it's-queue");
    const neighbour = uniqueId('neighbour-queue');
    await startIdle(queue, 3);
    await startIdle(neighbour, 1);
    expect(await readUntil(queue, 3)).toEqual({
      byState: { Creating: 0, Queued: 0, InProgress: 0, Other: 3 },
      stalled: 0,
    });
    expect((await readUntil(neighbour, 1)).byState.Other).toBe(1);
  });
});
