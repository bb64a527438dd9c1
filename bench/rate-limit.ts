/**
 * Rate-limit bench: many exports in flight in ONE Atlas project, through the product's `exportSnapshot`, a real
 * worker (`createExportWorker`) and the Temporal dev server, against the simulator with Atlas's token bucket
 * (1,200 burst, 500 per minute per project). Measures how many Atlas requests were answered 429 and whether any
 * export failed, with the fleet-wide per-project limiter (the activity task queue's per-fairness-key rate limit)
 * on or off.
 *
 *   npx tsx bench/rate-limit.ts [--exports N] [--time-scale S] [--limit A|off] [--clusters C] [--timeout 30m]
 *
 * Time runs S times faster in the simulator (its bucket too), so the worker-side limit is A × S (A: activity
 * attempts per second per project on Atlas's clock, default the product's 4). Exports take 2.4 + 10.5 min and
 * polling is `fixed` every 15 min of Atlas time (one read finds the job done), so every real timer and retry is
 * ≥ 1 s at any S ≤ 600 (the dev server fires nothing sooner). The default S = 5 keeps the bucket's real refill
 * (42 requests/s) below what this 2-core machine can send without a limit, so the limit is what keeps 429s
 * away, not the machine's speed. Prints a table and writes bench/results/rate-limit.json (`--exports` other
 * than 10000, or `--limit off`: rate-limit.<N>[-off].json).
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { z } from 'zod';
import { AtlasClient } from '../src/atlas';
import { startDevServer } from '../src/dev/dev-server';
import { DEFAULT_ATLAS_PROJECT_ACTIVITIES_PER_SECOND } from '../src/shared/atlas/rate-limit';
import { durationSchema } from '../src/shared/contract/durations';
import type { ExportSnapshotInput } from '../src/shared/contract/export-contract';
import { AtlasSimulator, DEV_CREDENTIALS } from '../src/simulator';
import { applyAtlasRateLimit } from '../src/temporal/atlas-rate-limit';
import { createExportWorker } from '../src/temporal/create-worker';
import { exportSnapshot } from '../src/workflows';
import { BENCH_POLICY } from './lib/temporal-env';

const NAMESPACE = 'default';
const ATLAS_BUCKET = { capacity: 1200, refillPerMinute: 500 };
/** Atlas's export durations (median recorded queue and run, docs/atlas-observed-behaviour.md). */
const EXPORT_PLAN = { queuedMs: 144_000, inProgressMs: 630_000, totalCollections: 8 };
const POLL_INTERVAL = '15m';
const START_CONCURRENCY = 64;
/**
 * Longer than the backlog an attempt can wait in behind the project's limit (10,000 creates at 20/s: about 8 min):
 * `createExportJob` measures its attempt's time from when it was scheduled, so with the default 60 s it would
 * defer its POST attempt after attempt (docs/atlas-rate-limit.md).
 */
const ATTEMPT_TIMEOUT = '20m';

const flagsSchema = z.strictObject({
  exports: z.coerce.number().int().min(1).max(100_000).default(10_000),
  'time-scale': z.coerce.number().positive().max(600).default(5),
  limit: z.union([z.literal('off'), z.coerce.number().positive()]).default(DEFAULT_ATLAS_PROJECT_ACTIVITIES_PER_SECOND),
  clusters: z.coerce.number().int().min(1).optional(),
  timeout: durationSchema.default(3_600_000),
});

function say(msg: string): void {
  console.log(`[${new Date().toISOString().slice(11, 19)}] ${msg}`);
}

/** Stops, in reverse order, everything the run started; also on SIGINT/SIGTERM. */
const cleanups: (() => Promise<unknown>)[] = [];
async function cleanUp(): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch((err: unknown) => console.error(err));
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    say(`${signal}: stopping`);
    void cleanUp().finally(() => process.exit(130));
  });
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      exports: { type: 'string' },
      'time-scale': { type: 'string' },
      limit: { type: 'string' },
      clusters: { type: 'string' },
      timeout: { type: 'string' },
    },
  });
  const flags = flagsSchema.parse(values);
  const n = flags.exports;
  const scale = flags['time-scale'];
  // At most 100 jobs per cluster: a create then lists one page (the limit assumes at most 500).
  const clusterCount = flags.clusters ?? Math.max(1, Math.ceil(n / 100));
  const workerLimit = flags.limit === 'off' ? 'off' : flags.limit * scale;

  try {
    Runtime.install({ logger: new DefaultLogger('ERROR'), shutdownSignals: [] });
    const server = await startDevServer();
    cleanups.push(() => server.stop());
    const sim = await AtlasSimulator.start({
      timeScale: scale,
      rateLimit: ATLAS_BUCKET,
      defaultExportPlan: EXPORT_PLAN,
      requestLogLimit: n * 30 + 10_000,
    });
    cleanups.push(() => sim.close());
    const groupId = sim.addProject();
    const exportBucketId = sim.addExportBucket(groupId);
    const inputs: ExportSnapshotInput[] = [];
    for (let c = 0; c < clusterCount; c++) sim.addCluster(groupId, `Cluster${c}`, { totalCollections: 8 });
    for (let i = 0; i < n; i++) {
      const clusterName = `Cluster${i % clusterCount}`;
      const snapshotId = sim.addSnapshot(groupId, clusterName, { status: 'completed' });
      inputs.push({
        groupId,
        clusterName,
        snapshotId,
        exportBucketId,
        polling: {
          mode: 'fixed',
          interval: POLL_INTERVAL,
          timeScale: scale,
          timeout: '48h',
          reportInterval: '1h',
          attemptTimeout: ATTEMPT_TIMEOUT,
        },
      });
    }
    const key = DEV_CREDENTIALS.apiKeys[0]!;
    const atlas = new AtlasClient({
      baseUrl: sim.url,
      credentials: { mode: 'api-key', publicKey: key.publicKey, privateKey: key.privateKey },
      timeoutMs: 30_000,
    });
    cleanups.push(() => atlas.close());

    const connection = await Connection.connect({ address: server.address });
    cleanups.push(() => connection.close());
    const nativeConnection = await NativeConnection.connect({ address: server.address });
    cleanups.push(() => nativeConnection.close());
    const client = new Client({ connection, namespace: NAMESPACE });
    const taskQueue = `bench-rate-limit-${randomUUID().slice(0, 8)}`;
    await applyAtlasRateLimit(nativeConnection.workflowService, {
      namespace: NAMESPACE,
      taskQueue,
      setting: workerLimit,
    });
    say(
      `dev server ${server.address}, simulator ${scale}× (bucket ${ATLAS_BUCKET.capacity} + ${ATLAS_BUCKET.refillPerMinute}/min), ` +
        `${n} exports over ${clusterCount} clusters in one project, limit ${workerLimit === 'off' ? 'off' : `${flags.limit}/s × ${scale} = ${workerLimit} activities/s`}`
    );
    const worker = await createExportWorker({
      connection: nativeConnection,
      namespace: NAMESPACE,
      taskQueue,
      atlas,
      policy: BENCH_POLICY,
      tuning: { maxCachedWorkflows: 2_000, maxConcurrentActivityTaskExecutions: 200 },
    });
    const running = worker.run();
    cleanups.push(async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
    });

    const startedAt = Date.now();
    const simStartedAt = sim.simulatedNow().getTime();
    let next = 0;
    await Promise.all(
      Array.from({ length: START_CONCURRENCY }, async () => {
        while (next < inputs.length) {
          const input = inputs[next++]!;
          await client.workflow.start(exportSnapshot, {
            taskQueue,
            workflowId: `rl-${input.clusterName}-${input.snapshotId}`,
            args: [input],
          });
        }
      })
    );
    say(`started ${n} exports in ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);

    const count = async (status: string) =>
      (await client.workflow.count(`TaskQueue = '${taskQueue}' AND ExecutionStatus = '${status}'`)).count;
    const deadline = startedAt + flags.timeout;
    let lastReport = 0;
    for (;;) {
      await new Promise((r) => setTimeout(r, 5_000));
      const runningCount = await count('Running');
      if (Date.now() - lastReport >= 30_000 || runningCount === 0) {
        lastReport = Date.now();
        const atlasRequests = sim.requests.filter((r) => r.groupId === groupId && r.status !== 401);
        const limited = atlasRequests.filter((r) => r.status === 429).length;
        say(`${n - runningCount}/${n} done; Atlas requests ${atlasRequests.length}, 429s ${limited}`);
      }
      if (runningCount === 0) break;
      if (Date.now() > deadline) {
        say(`timeout: ${runningCount} exports still running`);
        break;
      }
    }
    const wallMs = Date.now() - startedAt;
    const simMinutes = (sim.simulatedNow().getTime() - simStartedAt) / 60_000;

    const all = sim.requests.filter((r) => r.groupId === groupId);
    const challenges = all.filter((r) => r.status === 401).length;
    const atlasRequests = all.filter((r) => r.status !== 401);
    const limited = atlasRequests.filter((r) => r.status === 429).length;
    const byOperation: Record<string, number> = {};
    for (const r of atlasRequests) byOperation[r.operation] = (byOperation[r.operation] ?? 0) + 1;
    // The busiest simulated minute: what the bucket saw at its worst after the burst.
    const perMinute = new Map<number, number>();
    for (const r of atlasRequests) {
      const minute = Math.floor(((r.at.getTime() - startedAt) * scale) / 60_000);
      perMinute.set(minute, (perMinute.get(minute) ?? 0) + 1);
    }
    const successful = await count('Completed');
    const failed = (await count('Failed')) + (await count('TimedOut')) + (await count('Terminated'));
    const stillRunning = await count('Running');
    const result = {
      date: new Date().toISOString(),
      command: `npx tsx bench/rate-limit.ts ${process.argv.slice(2).join(' ')}`.trim(),
      exports: n,
      clusters: clusterCount,
      timeScale: scale,
      limit: flags.limit === 'off' ? 'off' : { perProjectActivitiesPerSecond: flags.limit, workerSide: workerLimit },
      bucket: ATLAS_BUCKET,
      successfulExports: successful,
      failedExports: failed,
      stillRunning,
      atlasRequests: atlasRequests.length,
      requestsByOperation: byOperation,
      digestChallenges: challenges,
      rateLimited429: limited,
      rateLimitedPercent: atlasRequests.length ? (100 * limited) / atlasRequests.length : 0,
      wallSeconds: wallMs / 1000,
      simulatedMinutes: simMinutes,
      requestsPerSimulatedMinute: atlasRequests.length / simMinutes,
      peakRequestsInOneSimulatedMinute: Math.max(0, ...perMinute.values()),
      bucketRefillPerMinute: ATLAS_BUCKET.refillPerMinute,
      maxConcurrentActiveExports: sim.stats.maxConcurrentActiveExportsByProject[groupId] ?? 0,
    };
    const rows: [string, string][] = [
      ['exports (successful / failed / still running)', `${n} (${successful} / ${failed} / ${stillRunning})`],
      ['Atlas requests (authenticated)', atlasRequests.length.toLocaleString('en')],
      [
        '  by operation',
        Object.entries(byOperation)
          .map(([k, v]) => `${k} ${v}`)
          .join(', '),
      ],
      ['  digest challenges (401, not counted by the bucket)', String(challenges)],
      ['429s', `${limited} (${result.rateLimitedPercent.toFixed(2)} % of requests)`],
      ['wall time', `${result.wallSeconds.toFixed(0)} s (${simMinutes.toFixed(1)} simulated min at ${scale}×)`],
      [
        'effective request rate vs bucket refill',
        `${result.requestsPerSimulatedMinute.toFixed(0)}/min vs ${ATLAS_BUCKET.refillPerMinute}/min (+${ATLAS_BUCKET.capacity} burst); busiest minute ${result.peakRequestsInOneSimulatedMinute}`,
      ],
    ];
    console.log('\n| metric | value |\n| --- | --- |');
    for (const [k, v] of rows) console.log(`| ${k} | ${v} |`);
    const name =
      n === 10_000 && flags.limit !== 'off'
        ? 'rate-limit.json'
        : `rate-limit.${n}${flags.limit === 'off' ? '-off' : ''}.json`;
    const file = resolve(__dirname, 'results', name);
    mkdirSync(resolve(__dirname, 'results'), { recursive: true });
    writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
    say(`wrote ${relative(process.cwd(), file)}`);
    return stillRunning === 0 && failed === 0 ? 0 : 1;
  } finally {
    await cleanUp();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  }
);
