import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { freePort } from '../../src/dev/dev-server';
import { startSimulatedAtlas, type SimulatedAtlas } from '../helpers/atlas';
import { ExportHarness } from '../helpers/export-harness';
import { startPrometheus, type PrometheusServer, type PromSeries } from '../helpers/prometheus-server';
import { connectTemporal, uniqueId, type TemporalTestContext } from '../helpers/temporal';
import { spawnWorker, workerEnv, type WorkerProcess } from '../helpers/worker-process';

/**
 * A real Prometheus scrapes a real worker process while exports run against the simulator, with the alert rules
 * of deploy/prometheus/alerts.yml loaded: every alert expression parses in Prometheus and returns data in its
 * scenario, and Prometheus's own rule evaluation takes each alert to pending or firing. (promtool unit tests in
 * test/monitoring/alert-rules.test.ts prove the thresholds on synthetic series; this proves the metric names and
 * labels are the ones a worker really exports.)
 */
const RULES_FILE = resolve(__dirname, '..', '..', 'deploy', 'prometheus', 'alerts.yml');
const ALERTS = (
  parse(readFileSync(RULES_FILE, 'utf8')) as { groups: { rules: { alert: string; expr: string }[] }[] }
).groups.flatMap((g) => g.rules);

let temporal: TemporalTestContext;
let atlas: SimulatedAtlas;
let worker: WorkerProcess;
let prometheus: PrometheusServer;
const taskQueue = uniqueId('prom-tq');

beforeAll(async () => {
  temporal = await connectTemporal();
  atlas = await startSimulatedAtlas();
  const metricsPort = await freePort();
  worker = spawnWorker(
    workerEnv(temporal.address, atlas.sim.url, taskQueue, {
      WORKER_METRICS_ADDRESS: `127.0.0.1:${metricsPort}`,
      ATLAS_REQUEST_TIMEOUT: '5s',
    })
  );
  await worker.ready();
  prometheus = await startPrometheus({
    jobs: { 'atlas-export-worker': [`127.0.0.1:${metricsPort}`] },
    ruleFiles: [RULES_FILE],
  });
}, 90_000);
afterAll(async () => {
  await worker?.kill('SIGKILL');
  await prometheus?.stop();
  await atlas?.close();
  await temporal?.close();
});

async function queryUntil(expr: string, timeoutMs = 30_000): Promise<PromSeries[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await prometheus.query(expr);
    if (result.length > 0 || Date.now() > deadline) return result;
    await new Promise((r) => setTimeout(r, 500));
  }
}

const alert = (name: string) => {
  const found = ALERTS.find((a) => a.alert === name);
  if (!found) throw new Error(`no alert ${name} in ${RULES_FILE}`);
  return found;
};

describe('a real Prometheus scraping a real worker', () => {
  it('runs the scenarios: a success, a failure, refused credentials, 429s, a stall past its deadline, a broken workflow task', async () => {
    const h = new ExportHarness(temporal, atlas, taskQueue);
    const failedSnapshot = h.freshSnapshot();
    atlas.sim.setExportPlan(
      { queuedMs: 60_000, inProgressMs: 120_000, totalCollections: 5, outcome: 'Failed' },
      { snapshotId: failedSnapshot }
    );
    const stuckSnapshot = h.freshSnapshot();
    atlas.sim.setExportPlan(
      { queuedMs: 36_000_000, inProgressMs: 60_000, totalCollections: 5 },
      { snapshotId: stuckSnapshot }
    );
    const stuckPolling = { ...h.input().polling, stallAfter: '5s', timeout: '20s' };
    const outcomes = Promise.all([
      h.start(h.input({ snapshotId: h.freshSnapshot() })).then((w) => w.result()),
      h.start(h.input({ snapshotId: failedSnapshot })).then((w) =>
        w.result().then(
          () => 'ok',
          () => 'failed'
        )
      ),
      h.start(h.input({ snapshotId: stuckSnapshot, polling: stuckPolling })).then((w) =>
        w.result().then(
          () => 'ok',
          () => 'failed'
        )
      ),
    ]);
    const [ok, failed, stuck] = await outcomes;
    expect(ok.state).toBe('Successful');
    expect([failed, stuck]).toEqual(['failed', 'failed']);

    atlas.sim.injectFaults({ operation: 'createExportJob', kind: 'status', status: 403 });
    await expect((await h.start(h.input({ snapshotId: h.freshSnapshot() }))).result()).rejects.toThrow();
    atlas.sim.injectFaults({ operation: 'getExportJob', kind: 'status', status: 429, retryAfterSeconds: 1, times: 3 });
    expect((await (await h.start(h.input({ snapshotId: h.freshSnapshot() }))).result()).state).toBe('Successful');
    atlas.sim.clearFaults();

    // A workflow type the worker does not have: its workflow task fails, as after a bad deploy.
    await temporal.client.workflow.start('noSuchWorkflow', { taskQueue, workflowId: uniqueId('broken-wft'), args: [] });
  }, 180_000);

  it.each([
    ['AtlasExportsFailing', { outcome: 'Failed' }],
    ['AtlasExportsPastDeadline', {}],
    ['AtlasExportsStalled', {}],
    ['AtlasAuthFailing', { status: '403' }],
    ['AtlasRateLimited', { job: 'atlas-export-worker' }],
    ['AtlasExportWorkflowTaskFailures', {}],
  ])(
    '%s: its expression returns data in its scenario, and Prometheus takes the alert to pending or firing',
    async (name, labels) => {
      const result = await queryUntil(alert(name).expr);
      expect(result.length, `${name}: ${alert(name).expr} returned nothing`).toBeGreaterThan(0);
      expect(result.some((s) => Object.entries(labels).every(([k, v]) => s.metric[k] === v))).toBe(true);
      const deadline = Date.now() + 20_000;
      let state = (await prometheus.alertStates()).get(name);
      while (state === 'inactive' && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 500));
        state = (await prometheus.alertStates()).get(name);
      }
      expect(['pending', 'firing']).toContain(state);
    },
    60_000
  );

  it('AtlasExportWorkersNotPolling: quiet while the worker polls, returns data once it is gone', async () => {
    expect(await prometheus.query(alert('AtlasExportWorkersNotPolling').expr)).toEqual([]);
    await worker.kill('SIGKILL');
    const result = await queryUntil(alert('AtlasExportWorkersNotPolling').expr);
    expect(result.length).toBeGreaterThan(0);
  }, 60_000);
});
