import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkflowHandle } from '@temporalio/client';
import { signAtlasWebhook } from '../../src/webhooks/atlas-signature';
import { startWebhookReceiver } from '../../src/webhooks/receiver-server';
import { wakeProjectExports } from '../../src/webhooks/wake-exports';
import { progressQuery } from '../../src/workflows';
import { FAST_POLLING, SLOW_POLLING, useExportSuite, waitForProgress } from '../helpers/export-harness';

const SECRET = 'event-hint-test-secret-42';

/**
 * Push wake-ups end to end: the simulator runs the export, the test plays Atlas (a signed alert posted to a real
 * receiver on a real port once the job ended), the receiver signals through the dev server, the worker confirms.
 */
describe('an export woken by an Atlas alert', () => {
  const suite = useExportSuite({ seed: 1801 }); // its own project ids: a wake-up must not reach other files' exports
  let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
  const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

  beforeAll(async () => {
    receiver = await startWebhookReceiver({
      secret: SECRET,
      replayWindowMs: 10 * 60_000,
      maxBodyBytes: 64 * 1024,
      wake: (alert) => wakeProjectExports(suite.temporal.client, alert),
      log: silent,
    });
  });
  afterAll(() => receiver?.close());

  const sentAt = new Map<string, string>();
  /** Posts the alert Atlas would send for `eventTypeName` in the fixtures' project, signed with `secret`. */
  async function deliver(id: string, secret = SECRET, eventTypeName = 'CPS_EXPORT_SUCCESSFUL') {
    // Atlas sends the same alert again with the same times: a copy is a duplicate.
    const now = sentAt.get(id) ?? new Date().toISOString();
    sentAt.set(id, now);
    const body = JSON.stringify({
      id,
      groupId: suite.atlas.fixtures.groupId,
      eventTypeName,
      status: 'OPEN',
      created: now,
      updated: now,
    });
    const res = await request(`${receiver.url}/atlas/alerts`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', 'x-mms-signature': signAtlasWebhook(secret, body) },
    });
    return { status: res.statusCode, json: (await res.body.json()) as Record<string, unknown> };
  }

  /** Waits until the simulator's job of this run is terminal; returns it. */
  async function jobEnded(handle: WorkflowHandle) {
    for (;;) {
      const job = suite.h.jobsOf(handle.workflowId)[0];
      if (job?.finishedAt) return job;
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  const statusReads = (jobId: string) =>
    suite.atlas.sim.requests.filter((r) => r.operation === 'getExportJob' && r.path.endsWith(jobId));

  it('completes on one status read after the job ended, long before its cadence would read', async () => {
    const { h, atlas } = suite;
    const snapshotId = h.freshSnapshot();
    atlas.sim.setExportPlan({ queuedMs: 1_000, inProgressMs: 5_000, totalCollections: 3 }, { snapshotId });
    const handle = await h.start(h.input({ snapshotId, polling: SLOW_POLLING }));
    await waitForProgress(handle, (p) => p.phase === 'polling');
    const job = await jobEnded(handle);

    // Every open export of the project is woken: this one, and any other test file's on the shared dev server.
    const delivered = await deliver('aaaaaaaaaaaaaaaaaaaaaaa1');
    expect(delivered).toMatchObject({ status: 200, json: { outcome: 'woken' } });
    expect(delivered.json.signalled).toBeGreaterThanOrEqual(1);
    const result = await handle.result();
    const signals = (await handle.fetchHistory()).events?.filter((e) => e.workflowExecutionSignaledEventAttributes);
    expect(signals?.map((e) => e.workflowExecutionSignaledEventAttributes?.signalName)).toEqual(['atlasEventHint']);
    expect(result.state).toBe('Successful');
    expect(statusReads(job.id)).toHaveLength(1);
    // The copy Atlas may send again is answered without waking anyone.
    expect((await deliver('aaaaaaaaaaaaaaaaaaaaaaa1')).json).toEqual({ outcome: 'duplicate' });
  }, 60_000);

  it('treats a hint as a hint: a job still running is read once and followed on; a later alert ends it', async () => {
    const { h, atlas } = suite;
    const snapshotId = h.freshSnapshot();
    // 40 min of Atlas time: 4 s at the simulator's 600×, read every 1–4 s of Atlas time by FAST_POLLING.
    atlas.sim.setExportPlan({ queuedMs: 60_000, inProgressMs: 2_400_000, totalCollections: 8 }, { snapshotId });
    const handle = await h.start(h.input({ snapshotId, polling: SLOW_POLLING }));
    await waitForProgress(handle, (p) => p.phase === 'polling');

    expect((await deliver('aaaaaaaaaaaaaaaaaaaaaaa2', SECRET, 'CPS_EXPORT_FAILED')).json.outcome).toBe('woken');
    const job = suite.h.jobsOf(handle.workflowId)[0]!;
    await waitForProgress(handle, (p) => p.polls === 1);
    expect(statusReads(job.id)).toHaveLength(1);
    expect(['Queued', 'InProgress']).toContain((await handle.query(progressQuery)).state);
    // The failure event of another export did not end this one; the next alert does, once the job has ended.
    await jobEnded(handle);
    expect((await deliver('aaaaaaaaaaaaaaaaaaaaaaa3')).json.outcome).toBe('woken');
    expect((await handle.result()).state).toBe('Successful');
    expect(statusReads(job.id)).toHaveLength(2);
  }, 60_000);

  it('completes by polling when the webhook is lost, and a forged delivery wakes nothing', async () => {
    const { h, atlas } = suite;
    const snapshotId = h.freshSnapshot();
    atlas.sim.setExportPlan({ queuedMs: 1_000, inProgressMs: 5_000, totalCollections: 3 }, { snapshotId });
    const handle = await h.start(h.input({ snapshotId, polling: FAST_POLLING }));
    await waitForProgress(handle, (p) => p.phase === 'polling').catch(() => undefined);
    expect((await deliver('aaaaaaaaaaaaaaaaaaaaaaa4', 'forged-secret-0123456789')).status).toBe(401);
    expect((await handle.result()).state).toBe('Successful');
    const history = await handle.fetchHistory();
    const signals = history.events?.filter((e) => e.workflowExecutionSignaledEventAttributes) ?? [];
    expect(signals).toEqual([]);
  }, 60_000);
});
