import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWebhookReceiver } from '../../src/webhooks/receiver-server';
import { wakeProjectExports } from '../../src/webhooks/wake-exports';
import { TEST_SECRETS } from '../helpers/atlas';
import { FAST_POLLING, SLOW_POLLING, useExportSuite, waitForProgress } from '../helpers/export-harness';

const SECRET = 'simulator-webhook-secret-7';
const MEDIA = 'application/vnd.atlas.2023-01-01+json';

/**
 * The whole push path with nothing played by the test: the simulator's alert configuration sends a signed webhook
 * when the job ends, a real receiver on a real port signals through the dev server, the worker confirms.
 */
describe('simulated Atlas alert webhooks', () => {
  const suite = useExportSuite({ seed: 1802 }); // its own project ids: a wake-up must not reach other files' exports
  let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
  let token: string;
  const outcomes: string[] = [];

  beforeAll(async () => {
    receiver = await startWebhookReceiver({
      secret: SECRET,
      replayWindowMs: 10 * 60_000,
      maxBodyBytes: 64 * 1024,
      wake: (alert) => wakeProjectExports(suite.temporal.client, alert),
      log: { info: (m) => outcomes.push(m), warn: (m) => outcomes.push(m), error: (m) => outcomes.push(m) },
    });
    const basic = Buffer.from(`${TEST_SECRETS.clientId}:${TEST_SECRETS.clientSecret}`).toString('base64');
    const res = await request(`${suite.atlas.sim.url}/api/oauth/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
    });
    token = ((await res.body.json()) as { access_token: string }).access_token;
  });
  afterAll(() => receiver?.close());

  async function atlas(method: 'GET' | 'POST', body?: unknown) {
    const res = await request(
      `${suite.atlas.sim.url}/api/atlas/v2/groups/${suite.atlas.fixtures.groupId}/alertConfigs`,
      {
        method,
        headers: { authorization: `Bearer ${token}`, accept: MEDIA, ...(body ? { 'content-type': MEDIA } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      }
    );
    return { status: res.statusCode, json: (await res.body.json()) as Record<string, unknown> };
  }

  it('keeps alert configurations as the spec shapes them, the webhook secret redacted, and refuses a bad one', async () => {
    const created = await atlas('POST', {
      eventTypeName: 'CPS_EXPORT_SUCCESSFUL',
      enabled: true,
      notifications: [{ typeName: 'WEBHOOK', webhookUrl: `${receiver.url}/atlas/alerts`, webhookSecret: SECRET }],
    });
    expect(created.status).toBe(200);
    expect(JSON.stringify(created.json)).not.toContain(SECRET);
    const listed = await atlas('GET');
    expect((listed.json.results as { id: string }[]).map((c) => c.id)).toEqual([created.json.id]);
    expect((await atlas('POST', { eventTypeName: 'CPS_EXPORT_FAILED', notifications: [] })).status).toBe(400);
  });

  it('an export ends on one status read after a delivered (and duplicated) webhook', async () => {
    const { h, atlas: sim } = suite;
    sim.sim.setWebhookFaults({ duplicates: 1, lossRate: 0, delayMs: 0 });
    const snapshotId = h.freshSnapshot();
    sim.sim.setExportPlan({ queuedMs: 1_000, inProgressMs: 5_000, totalCollections: 3 }, { snapshotId });
    const handle = await h.start(h.input({ snapshotId, polling: SLOW_POLLING }));
    expect((await handle.result()).state).toBe('Successful');
    const job = h.jobsOf(handle.workflowId)[0]!;
    const reads = sim.sim.requests.filter((r) => r.operation === 'getExportJob' && r.path.endsWith(job.id));
    expect(reads).toHaveLength(1);
    const copies = sim.sim.webhookDeliveries.filter((d) => d.exportJobId === job.id);
    expect(copies.map((d) => d.status)).toEqual([200, 200]);
    const history = await handle.fetchHistory();
    expect(history.events?.filter((e) => e.workflowExecutionSignaledEventAttributes)).toHaveLength(1);
  }, 60_000);

  it('an export whose webhook was lost completes by polling', async () => {
    const { h, atlas: sim } = suite;
    sim.sim.setWebhookFaults({ lossRate: 1, duplicates: 0 });
    const snapshotId = h.freshSnapshot();
    sim.sim.setExportPlan({ queuedMs: 1_000, inProgressMs: 5_000, totalCollections: 3 }, { snapshotId });
    const handle = await h.start(h.input({ snapshotId, polling: FAST_POLLING }));
    await waitForProgress(handle, () => true);
    expect((await handle.result()).state).toBe('Successful');
    const job = h.jobsOf(handle.workflowId)[0]!;
    for (let i = 0; i < 40 && !sim.sim.webhookDeliveries.some((d) => d.exportJobId === job.id); i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(sim.sim.webhookDeliveries.filter((d) => d.exportJobId === job.id).map((d) => d.lost)).toEqual([true]);
    const history = await handle.fetchHistory();
    expect(history.events?.filter((e) => e.workflowExecutionSignaledEventAttributes)).toEqual([]);
  }, 60_000);
});
