import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/dev/dev-server';
import { startSimulatedAtlas, TEST_SECRETS, type SimulatedAtlas } from '../helpers/atlas';
import { ExportHarness } from '../helpers/export-harness';
import { scrape, sumOf, type Sample } from '../helpers/prometheus';
import { connectTemporal, uniqueId, type TemporalTestContext } from '../helpers/temporal';
import { spawnWorker, type WorkerProcess } from '../helpers/worker-process';

let temporal: TemporalTestContext;
let atlas: SimulatedAtlas;
let worker: WorkerProcess;
let metricsUrl: string;
const taskQueue = uniqueId('metrics-tq');

beforeAll(async () => {
  temporal = await connectTemporal();
  // Its own simulator: every request it logs came from the worker under test.
  atlas = await startSimulatedAtlas();
  const port = await freePort();
  metricsUrl = `http://127.0.0.1:${port}/metrics`;
  worker = spawnWorker({
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_TASK_QUEUE: taskQueue,
    ATLAS_BASE_URL: atlas.sim.url,
    ATLAS_PUBLIC_KEY: TEST_SECRETS.publicKey,
    ATLAS_PRIVATE_KEY: TEST_SECRETS.privateKey,
    ATLAS_REQUEST_TIMEOUT: '5s',
    WORKER_METRICS_ADDRESS: `127.0.0.1:${port}`,
    WORKER_LOG_FORMAT: 'json',
  });
  await worker.ready();
}, 90_000);

afterAll(async () => {
  await worker?.kill('SIGKILL');
  await atlas?.close();
  await temporal?.close();
});

/** Scrapes until `ready` holds (metrics from workflow tasks arrive a moment after the result). */
async function scrapeUntil(ready: (s: Sample[]) => boolean): Promise<Sample[]> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const samples = await scrape(metricsUrl);
    if (ready(samples) || Date.now() > deadline) return samples;
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('the worker process', () => {
  it('serves the SDK metrics and the project metrics with the right counts after exports', async () => {
    const h = new ExportHarness(temporal, atlas, taskQueue);
    const ok = h.freshSnapshot();
    const bad = h.freshSnapshot();
    atlas.sim.setExportPlan(
      { queuedMs: 60_000, inProgressMs: 120_000, totalCollections: 5, outcome: 'Failed' },
      { snapshotId: bad }
    );
    const good = await h.start(h.input({ snapshotId: ok }));
    const failing = await h.start(h.input({ snapshotId: bad }));
    expect((await good.result()).state).toBe('Successful');
    await expect(failing.result()).rejects.toThrow();

    // Workflow metrics carry the SDK's camelCase tags (taskQueue, workflowType); core's own use snake_case.
    const tq = { taskQueue };
    const samples = await scrapeUntil(
      (s) =>
        sumOf(s, 'atlas_exports_succeeded', tq) === 1 &&
        sumOf(s, 'atlas_exports_failed', tq) === 1 &&
        sumOf(s, 'atlas_export_polls_count', tq) === 2
    );
    expect(sumOf(samples, 'atlas_exports_started', { ...tq, workflowType: 'exportSnapshot' })).toBe(2);
    expect(sumOf(samples, 'atlas_exports_succeeded', tq)).toBe(1);
    expect(sumOf(samples, 'atlas_exports_failed', { ...tq, outcome: 'Failed' })).toBe(1);
    expect(sumOf(samples, 'atlas_export_duration_seconds_count', tq)).toBe(2);

    // Polls per export: the histogram's sum is every status read the simulator answered for both jobs.
    const jobIds = [...h.jobsOf(good.workflowId), ...h.jobsOf(failing.workflowId)].map((j) => j.id);
    expect(jobIds).toHaveLength(2);
    const statusReads = atlas.sim.requests.filter(
      (r) => r.operation === 'getExportJob' && r.status === 200 && jobIds.some((id) => r.path.endsWith(id))
    ).length;
    expect(statusReads).toBeGreaterThan(1);
    expect(sumOf(samples, 'atlas_export_polls_sum', tq)).toBe(statusReads);

    // Atlas requests by operation and status: exactly what the simulator answered (it served no one else).
    const byOperation = (operation: string, status: number) =>
      atlas.sim.requests.filter((r) => r.operation === operation && r.status === status).length;
    for (const operation of ['createExportJob', 'getExportJob', 'listExportJobs']) {
      expect(sumOf(samples, 'atlas_requests', { operation, status: '200' }), operation).toBe(
        byOperation(operation, 200)
      );
    }
    expect(sumOf(samples, 'atlas_requests')).toBe(
      atlas.sim.requests.filter((r) => r.operation !== 'oauthToken').length
    );
    expect(sumOf(samples, 'atlas_request_duration_seconds_count')).toBe(sumOf(samples, 'atlas_requests'));

    // The SDK's own runtime metrics are on the same endpoint.
    expect(sumOf(samples, 'temporal_workflow_completed', { task_queue: taskQueue })).toBeGreaterThanOrEqual(1);
    expect(samples.some((s) => s.name.startsWith('temporal_activity_execution_latency'))).toBe(true);

    // API keys authenticate by digest: each new nonce costs a 401 challenge, counted as a request but not as a
    // failure, so an alert on atlas_auth_failures never fires on a healthy worker.
    expect(sumOf(samples, 'atlas_requests', { status: '401' })).toBeGreaterThan(0);
    expect(sumOf(samples, 'atlas_auth_failures')).toBe(0);

    // No label or value carries a credential.
    const text = await (await fetch(metricsUrl)).text();
    expect(text).not.toContain(TEST_SECRETS.privateKey);
    expect(text).not.toContain(TEST_SECRETS.publicKey);
  }, 90_000);

  it('counts a call Atlas refuses for its credentials as an auth failure, by operation and status', async () => {
    const h = new ExportHarness(temporal, atlas, taskQueue);
    atlas.sim.injectFaults({ operation: 'createExportJob', kind: 'status', status: 403 });
    const handle = await h.start(h.input({ snapshotId: h.freshSnapshot() }));
    await expect(handle.result()).rejects.toThrow();
    atlas.sim.clearFaults();
    const match = { operation: 'createExportJob', status: '403' };
    const samples = await scrapeUntil((s) => sumOf(s, 'atlas_auth_failures', match) >= 1);
    expect(sumOf(samples, 'atlas_auth_failures', match)).toBe(1);
    expect(sumOf(samples, 'atlas_auth_failures', { status: '401' })).toBe(0);
  }, 90_000);

  it('logs one JSON object per line, with workflow and job ids and no credential', () => {
    const lines = worker
      .output()
      .split('\n')
      .filter((l) => l.trim() !== '');
    expect(lines.length).toBeGreaterThan(3);
    const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const r of records) {
      expect(typeof r.time).toBe('string');
      expect(typeof r.level).toBe('string');
      expect(typeof r.msg).toBe('string');
    }
    const created = records.filter((r) => r.msg === 'Created export job' && r.activityType === 'createExportJob');
    expect(created).toHaveLength(2);
    for (const r of created) {
      expect(r.workflowId).toMatch(/^export-/);
      expect(r.exportJobId).toMatch(/^[0-9a-f]{24}$/);
      expect(r.activityType).toBe('createExportJob');
    }
    expect(worker.output()).not.toContain(TEST_SECRETS.privateKey);
  });

  it('counts and logs an unreadable list item it skipped, and the export still succeeds', async () => {
    const h = new ExportHarness(temporal, atlas, taskQueue);
    const { groupId, clusterName, exportBucketId } = atlas.fixtures;
    atlas.sim.addExportJob(groupId, clusterName, {
      createdAt: new Date(Date.now() - 86_400_000),
      queuedMs: 60_000,
      inProgressMs: 600_000,
      exportBucketId,
    });
    atlas.sim.injectFaults({ operation: 'listExportJobs', kind: 'patchBody', itemIndex: 0, omit: ['id'], times: 100 });
    const handle = await h.start(h.input({ snapshotId: h.freshSnapshot() }));
    expect((await handle.result()).state).toBe('Successful');
    atlas.sim.clearFaults();
    const skipped = atlas.sim.requests.filter((r) => r.operation === 'listExportJobs' && r.faultInjected).length;
    expect(skipped).toBeGreaterThanOrEqual(1);
    const match = { operation: 'listExportJobs', kind: 'unreadable-item' };
    const samples = await scrapeUntil((s) => sumOf(s, 'atlas_response_anomalies', match) >= skipped);
    expect(sumOf(samples, 'atlas_response_anomalies', match)).toBe(skipped);
    const warnings = worker
      .output()
      .split('\n')
      .filter((l) => l.includes('Atlas answer read with an anomaly'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(warnings.length).toBe(skipped);
    expect(warnings[0]).toMatchObject({ level: 'WARN', anomaly: 'unreadable-item', workflowId: handle.workflowId });
    expect(String(warnings[0]!.msg)).toContain('unreadable id');
  }, 90_000);
});
