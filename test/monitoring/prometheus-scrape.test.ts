import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { freePort } from '../../src/dev/dev-server';
import { startSimulatedAtlas, type SimulatedAtlas } from '../helpers/atlas';
import { DASHBOARD_FILE, MIN_COUNT_INTERVAL } from '../../scripts/grafana-dashboard';
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
const JOB = 'atlas-export-worker';

beforeAll(async () => {
  temporal = await connectTemporal();
  atlas = await startSimulatedAtlas();
  const metricsPort = await freePort();
  worker = spawnWorker(
    workerEnv(temporal.address, atlas.sim.url, taskQueue, {
      WORKER_METRICS_ADDRESS: `127.0.0.1:${metricsPort}`,
      ATLAS_REQUEST_TIMEOUT: '5s',
      // The fewest seconds allowed, so the stuck export is counted while it is Queued and stalled.
      WORKER_IN_FLIGHT_METRICS_INTERVAL: '5s',
    })
  );
  await worker.ready();
  prometheus = await startPrometheus({
    jobs: { [JOB]: [`127.0.0.1:${metricsPort}`] },
    ruleFiles: [RULES_FILE],
  });
  // Scraped before anything happens, as a worker is in production: every counter the alerts and the dashboard
  // count is seen at 0 first, so increase() sees the scenarios' first events.
  const atZero = 'atlas_exports_failed{outcome="Failed"} == 0 and on() atlas_auth_failures{status="403"} == 0';
  if ((await queryUntil(atZero)).length === 0) throw new Error(`Prometheus never saw the worker's counters at 0`);
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

/** Every query of the dashboard the compose stack provisions: [panel title, legend, expression]. */
const DASHBOARD = JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as {
  templating: { list: { name: string; type: string; definition: string }[] };
  panels: { type: string; title: string; targets?: { expr: string; legendFormat: string }[] }[];
};
const DASHBOARD_QUERIES = DASHBOARD.panels.flatMap((p) =>
  (p.targets ?? []).map((t) => [p.title, t.legendFormat, t.expr] as [string, string, string])
);

/**
 * A dashboard query as Grafana sends it with the variables set to this test's worker (a label name that a metric
 * lacks then matches nothing, where "All" (`.*`) would match the missing label too) and 1-minute windows, taken
 * over the whole test (a subquery): the highest value each series reached while the scenarios ran.
 */
function overScenarios(expr: string): string {
  const concrete = expr
    .replaceAll('$__rate_interval', '1m')
    .replaceAll('$__interval', MIN_COUNT_INTERVAL)
    .replaceAll('$job', JOB)
    .replaceAll('$namespace', 'default')
    .replaceAll('$task_queue', taskQueue);
  return `max_over_time((${concrete})[15m:2s])`;
}

/** Why a dashboard query fails its check, or undefined: it must parse and some series must have exceeded 0. */
async function dashboardQueryProblem(expr: string): Promise<string | undefined> {
  let series: PromSeries[];
  try {
    series = await prometheus.query(overScenarios(expr));
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
  if (series.length === 0) return 'no data';
  return series.some((x) => Number(x.value[1]) > 0)
    ? undefined
    : `every series stayed at 0 or NaN: ${JSON.stringify(series)}`;
}

const alert = (name: string) => {
  const found = ALERTS.find((a) => a.alert === name);
  if (!found) throw new Error(`no alert ${name} in ${RULES_FILE}`);
  return found;
};

describe('a real Prometheus scraping a real worker', () => {
  it('runs the scenarios: a slow create, a success, a failure, refused credentials, 429s, a stall past its deadline, a broken workflow task', async () => {
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
    // One slow create (3 s), so an activity holds a task slot across several scrapes.
    atlas.sim.injectFaults({ operation: 'createExportJob', kind: 'delay', delayMs: 3_000, times: 1 });
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

  it.each(DASHBOARD_QUERIES)(
    'dashboard "%s" (%s): returns data with a value above 0 during the scenarios',
    async (_title, legend, expr) => {
      const problem = await dashboardQueryProblem(expr);
      expect(problem, `${expr}: ${problem}`).toBeUndefined();
    },
    60_000
  );

  it.each([
    ['Exports in flight by state', { state: 'Queued' }],
    ['Stalls', {}],
    ['Outcomes', { outcome: 'Failed' }],
    ['Rate limits and refused credentials', { status: '403' }],
    ['Rate limits and refused credentials', { operation: 'getExportJob' }],
    ['Pollers and workflow task failures', { failure_reason: 'WorkflowError' }],
  ])('dashboard "%s" shows its scenario: %j', async (title, labels) => {
    const queries = DASHBOARD_QUERIES.filter(([t]) => t === title).map(([, , expr]) => expr);
    const series = (await Promise.all(queries.map((q) => prometheus.query(overScenarios(q))))).flat();
    const matching = series.filter((x) => Object.entries(labels).every(([k, v]) => x.metric[k] === v));
    expect(
      matching.some((x) => Number(x.value[1]) > 0),
      JSON.stringify(series.map((x) => x.metric))
    ).toBe(true);
  });

  it("dashboard variables offer this worker's job, namespace and task queue", async () => {
    const variables = DASHBOARD.templating.list.filter((v) => v.type === 'query');
    expect(variables.map((v) => v.name)).toEqual(['job', 'namespace', 'task_queue']);
    const expected: Record<string, string> = { job: JOB, namespace: 'default', task_queue: taskQueue };
    for (const v of variables) {
      // Grafana's label_values(metric{selector}, label), as the PromQL that asks the same.
      const m = /^label_values\((.+), (\w+)\)$/.exec(v.definition);
      expect(m, v.definition).not.toBeNull();
      const selector = m![1]!.replaceAll('$job', JOB).replaceAll('$namespace', 'default');
      const series = await prometheus.query(`group by (${m![2]}) (${selector})`);
      expect(series.map((x) => x.metric[m![2]!])).toContain(expected[v.name]);
    }
  });

  it('a broken dashboard query is caught: a misspelt metric or label name returns no data', async () => {
    const [, , expr] = DASHBOARD_QUERIES.find(([t]) => t === 'Outcomes')!;
    expect(await dashboardQueryProblem(expr.replace('atlas_exports_started', 'atlas_export_started'))).toMatch(
      /no data/
    );
    expect(await dashboardQueryProblem(`${expr} by`)).toMatch(/parse error/);
    // The SDK's snake_case label on a project metric: matches nothing once a task queue is chosen.
    expect(await dashboardQueryProblem(expr.replaceAll('taskQueue=~', 'task_queue=~'))).toMatch(/no data/);
  });

  it('AtlasExportWorkersNotPolling: quiet while the worker polls, returns data once it is gone', async () => {
    expect(await prometheus.query(alert('AtlasExportWorkersNotPolling').expr)).toEqual([]);
    await worker.kill('SIGKILL');
    const result = await queryUntil(alert('AtlasExportWorkersNotPolling').expr);
    expect(result.length).toBeGreaterThan(0);
  }, 60_000);
});
