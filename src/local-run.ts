import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  Client,
  Connection,
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
} from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { z } from 'zod';
import { AtlasClient, type AtlasCredentials } from './atlas';
import { output } from './cli/common';
import { scheduledExportAction } from './cli/schedule-commands';
import { commandWatch } from './cli/watch-commands';
import { startExport } from './client/exports';
import { ConfigError, hasAtlasCredentials, parseAtlasConfig } from './config';
import { freePort, startDevServer, type DevServer } from './dev/dev-server';
import { AtlasSimulator, DEV_CREDENTIALS } from './simulator';
import { createLogger } from './observability/json-logger';
import { installWorkerRuntime, recordAtlasRequestMetrics } from './observability/worker-runtime';
import { DEFAULT_ATLAS_PROJECT_ACTIVITIES_PER_SECOND } from './shared/atlas-rate-limit';
import { describeIssues, DEFAULT_TASK_QUEUE, type ExportSnapshotInput } from './shared/export-contract';
import type { ScheduledExportInput } from './shared/scheduled-export-contract';
import { atlasIdSchema, clusterNameSchema } from './shared/atlas-vocabulary';
import { applyAtlasRateLimit } from './temporal/atlas-rate-limit';
import { createExportWorker } from './temporal/create-worker';

/**
 * The one-command local stack (`npm start`): a Temporal dev server with its Web UI on loopback and the project's
 * search attributes, the worker (Prometheus metrics on loopback), one export followed live to its end, and an
 * hourly demo schedule of fleet exports, triggered once. Against the Atlas simulator by default (time-scaled: a
 * 13-minute export takes about 13 s; its state kept beside Temporal's in the state dir); against real Atlas when
 * Atlas credentials are set in the environment, with the ids to export from flags or `ATLAS_GROUP_ID`,
 * `ATLAS_CLUSTER_NAME`, `ATLAS_SNAPSHOT_ID` (default: the newest completed snapshot) and `ATLAS_EXPORT_BUCKET_ID`
 * (no demo schedule then: it would export every hour for real). Ctrl-C stops everything it started.
 */

const USAGE = `Usage: npm start -- [options]
  --port N          Temporal gRPC port (default 7233, or a free one if taken)
  --ui-port N       Temporal Web UI port (default 8233, or a free one if taken)
  --time-scale N    simulator speed-up (default 60: one real second is a simulated minute)
  --metrics-port N  worker Prometheus /metrics port on loopback (default 9464, or a free one if taken)
  --once            exit when the export ends (exit 0 on Successful) instead of keeping the stack up
  --no-schedule     do not create the demo schedule
  --state-dir DIR   where the dev server and the simulator keep their state (default .local/)
  --group-id, --cluster, --snapshot-id, --bucket-id   what to export with real Atlas credentials`;

const ROOT = resolve(__dirname, '..');

const realTargetSchema = z.object({
  groupId: atlasIdSchema,
  clusterName: clusterNameSchema,
  snapshotId: atlasIdSchema.optional(),
  exportBucketId: atlasIdSchema,
});

async function portOr(preferred: number): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((done) => {
    const probe = createServer();
    probe.once('error', () => void freePort().then(done));
    probe.listen(preferred, '127.0.0.1', () => probe.close(() => done(preferred)));
  });
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      'ui-port': { type: 'string' },
      'time-scale': { type: 'string' },
      'metrics-port': { type: 'string' },
      once: { type: 'boolean' },
      'no-schedule': { type: 'boolean' },
      'state-dir': { type: 'string' },
      'group-id': { type: 'string' },
      cluster: { type: 'string' },
      'snapshot-id': { type: 'string' },
      'bucket-id': { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const flags = z
    .object({
      port: z.coerce.number().int().min(1).max(65535).optional(),
      'ui-port': z.coerce.number().int().min(1).max(65535).optional(),
      'metrics-port': z.coerce.number().int().min(1).max(65535).optional(),
      'time-scale': z.coerce.number().positive().max(100_000).default(60),
    })
    .safeParse(values);
  if (!flags.success) throw new ConfigError(describeIssues(flags.error.issues, 'flag'));

  // Warnings and errors only, as text: the live progress line is what a person watches here.
  const metricsAddress = `127.0.0.1:${flags.data['metrics-port'] ?? (await portOr(9464))}`;
  const runtime = installWorkerRuntime({
    // Real Atlas credentials, if any, are masked in whatever gets logged.
    logger: createLogger({
      level: 'WARN',
      format: 'text',
      secrets: [process.env.ATLAS_PRIVATE_KEY, process.env.ATLAS_CLIENT_SECRET],
    }),
    metricsBindAddress: metricsAddress,
  });
  const cleanups: (() => Promise<void>)[] = [];
  const cleanup = async () => {
    for (const fn of cleanups.reverse()) await fn().catch(() => undefined);
  };
  let stopping = false;
  let stopRequested: () => void = () => undefined;
  const stopped = new Promise<void>((r) => (stopRequested = r));
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.log(`\n${signal}: shutting down...`);
      stopping = true;
      stopRequested();
    });
  }

  try {
    // Atlas: real when credentials are set, otherwise the simulator.
    const useRealAtlas = hasAtlasCredentials(process.env);
    let atlasBaseUrl: string;
    let credentials: AtlasCredentials;
    let target: { groupId: string; clusterName: string; snapshotId?: string | undefined; exportBucketId: string };
    let polling: ExportSnapshotInput['polling'];
    let demoSchedule: DemoSchedule | undefined;
    // Temporal's and the simulator's state live side by side, so a restart finds both as they were.
    const stateDir = resolve(values['state-dir'] ?? resolve(ROOT, '.local'));
    mkdirSync(stateDir, { recursive: true });
    if (useRealAtlas) {
      const atlasConfig = parseAtlasConfig(process.env);
      atlasBaseUrl = atlasConfig.baseUrl;
      credentials = atlasConfig.credentials;
      const parsed = realTargetSchema.safeParse({
        groupId: values['group-id'] ?? process.env.ATLAS_GROUP_ID,
        clusterName: values.cluster ?? process.env.ATLAS_CLUSTER_NAME,
        snapshotId: values['snapshot-id'] ?? process.env.ATLAS_SNAPSHOT_ID,
        exportBucketId: values['bucket-id'] ?? process.env.ATLAS_EXPORT_BUCKET_ID,
      });
      if (!parsed.success) {
        throw new ConfigError(
          `Atlas credentials are set, so the run exports from real Atlas and needs: ${describeIssues(parsed.error.issues, 'target')}`
        );
      }
      target = parsed.data;
      console.log(`Atlas: ${atlasBaseUrl} (${credentials.mode})`);
    } else {
      const sim = await AtlasSimulator.start({
        timeScale: flags.data['time-scale'],
        stateFile: resolve(stateDir, 'atlas-simulator.json'),
      });
      cleanups.push(() => sim.close());
      const fixtures = sim.defaultFixtures ?? sim.seedDefault();
      atlasBaseUrl = sim.url;
      credentials = { mode: 'api-key', ...DEV_CREDENTIALS.apiKeys[0]! };
      // Tonight's snapshot: every run exports a new one, as a nightly job would.
      const snapshotId = sim.addSnapshot(fixtures.groupId, fixtures.clusterName, { status: 'completed' });
      target = { ...fixtures, snapshotId };
      const scale = flags.data['time-scale'];
      // The default (adaptive) cadence on the simulator's clock.
      polling = { timeScale: scale, reportInterval: Math.max(1_000, Math.round(60_000 / scale)) };
      if (!values['no-schedule']) {
        demoSchedule = {
          groupId: fixtures.groupId,
          clusters: [fixtures.clusterName, fixtures.shardedClusterName],
          exportBucketId: fixtures.exportBucketId,
          polling,
        };
      }
      console.log(`Atlas simulator: ${sim.url} (no Atlas credentials set; ${scale}× time)`);
    }

    // Temporal dev server with the Web UI on loopback, the project's search attributes, state kept across runs.
    const port = flags.data.port ?? (await portOr(7233));
    const uiPort = flags.data['ui-port'] ?? (await portOr(port === 7233 ? 8233 : port + 1000));
    const server: DevServer = await startDevServer({
      port,
      uiPort,
      dbFilename: resolve(stateDir, 'temporal.sqlite'),
      logLevel: 'error',
    });
    cleanups.push(() => server.stop());
    console.log(`Temporal: ${server.address}   Web UI: ${server.uiUrl}`);
    if (stopping) return 0; // Ctrl-C while the server started: start nothing more

    const atlas = new AtlasClient({ baseUrl: atlasBaseUrl, credentials });
    cleanups.push(() => atlas.close());
    recordAtlasRequestMetrics(atlas, runtime);
    console.log(`Worker metrics: http://${metricsAddress}/metrics`);
    if (!target.snapshotId) {
      const snapshots = await atlas.listSnapshots(target.groupId, target.clusterName);
      const newest = snapshots
        .filter((s) => s.status?.toLowerCase() === 'completed' && s.createdAt)
        .sort((a, b) => (b.createdAt ?? '').localeCompare(a.createdAt ?? ''))[0];
      if (!newest) throw new ConfigError(`No completed snapshot of ${target.clusterName} to export`);
      target.snapshotId = newest.id;
    }

    const nativeConnection = await NativeConnection.connect({ address: server.address });
    cleanups.push(() => nativeConnection.close());
    // The simulator's bucket refills on its own clock: the per-project pace scales with it.
    await applyAtlasRateLimit(nativeConnection.workflowService, {
      namespace: 'default',
      taskQueue: DEFAULT_TASK_QUEUE,
      setting: DEFAULT_ATLAS_PROJECT_ACTIVITIES_PER_SECOND * (polling?.timeScale ?? 1),
    });
    const worker = await createExportWorker({
      connection: nativeConnection,
      namespace: 'default',
      taskQueue: DEFAULT_TASK_QUEUE,
      atlas,
    });
    const running = worker.run();
    // A worker that dies (e.g. the server went away) ends the run instead of leaving it hanging.
    running.catch((err: unknown) => {
      console.error(`Worker stopped: ${err instanceof Error ? err.message : String(err)}`);
      stopRequested();
    });
    cleanups.push(async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running.catch(() => undefined);
    });

    const connection = await Connection.connect({ address: server.address });
    cleanups.push(() => connection.close());
    const client = new Client({ connection, namespace: 'default' });
    const input: ExportSnapshotInput = {
      groupId: target.groupId,
      clusterName: target.clusterName,
      snapshotId: target.snapshotId,
      exportBucketId: target.exportBucketId,
      ...(polling ? { polling } : {}),
    };
    // The same id the CLI and a schedule would give this export: starting it twice attaches to the first.
    if (stopping) return 0;
    const { workflowId, started } = await startExport(client, input, { taskQueue: DEFAULT_TASK_QUEUE });
    const ui = `${server.uiUrl}/namespaces/default`;
    console.log(`${started ? 'Started' : 'Attached to'} export ${workflowId}`);
    console.log(`  ${ui}/workflows/${encodeURIComponent(workflowId)}`);

    if (demoSchedule) {
      const scheduleId = await upsertDemoSchedule(client, demoSchedule);
      console.log(`Demo schedule ${scheduleId} (every hour, triggered once now; it attaches to the export above):`);
      console.log(`  ${ui}/schedules/${encodeURIComponent(scheduleId)}`);
    } else if (await deleteDemoSchedule(client)) {
      // Left in the state dir by a simulator run: it must not fire against real Atlas with the simulator's ids.
      console.log(`Deleted the demo schedule ${DEMO_SCHEDULE_ID} a simulator run had left in ${stateDir}`);
    }
    console.log(`Exports in the UI: ${ui}/workflows?query=${encodeURIComponent("WorkflowType='exportSnapshot'")}`);

    const abort = new AbortController();
    void stopped.then(() => abort.abort());
    const code = await commandWatch(client, workflowId, { refresh: '1s' }, output(false), { signal: abort.signal });
    if (!values.once && !stopping) {
      console.log(`The stack stays up: browse ${server.uiUrl} , or run npm run starter -- list. Press Ctrl-C to stop.`);
      await stopped;
    }
    return stopping ? 0 : code;
  } finally {
    await cleanup();
  }
}

/** The targets of the demo schedule: the simulator's two clusters, each with its newest snapshot. */
interface DemoSchedule {
  groupId: string;
  clusters: string[];
  exportBucketId: string;
  polling: ExportSnapshotInput['polling'];
}

const DEMO_SCHEDULE_ID = 'atlas-export-demo';

/** Deletes the demo schedule if it exists; true when it did. */
async function deleteDemoSchedule(client: Client): Promise<boolean> {
  try {
    await client.schedule.getHandle(DEMO_SCHEDULE_ID).delete();
    return true;
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return false;
    throw err;
  }
}

/** Creates (or refreshes, after the simulator was reset) the hourly demo schedule, then runs it once now. */
async function upsertDemoSchedule(client: Client, demo: DemoSchedule): Promise<string> {
  const scheduleId = DEMO_SCHEDULE_ID;
  const input: ScheduledExportInput = {
    targets: demo.clusters.map((clusterName) => ({
      groupId: demo.groupId,
      clusterName,
      exportBucketId: demo.exportBucketId,
      snapshot: 'latest',
    })),
    ...(demo.polling ? { polling: demo.polling } : {}),
  };
  const action = scheduledExportAction(scheduleId, DEFAULT_TASK_QUEUE, input);
  const handle = client.schedule.getHandle(scheduleId);
  try {
    await client.schedule.create({
      scheduleId,
      spec: { intervals: [{ every: '1h' }] },
      action,
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1m' },
    });
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    await handle.update((previous) => ({ ...previous, action }));
  }
  await handle.trigger(ScheduleOverlapPolicy.ALLOW_ALL);
  return scheduleId;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(
      err instanceof ConfigError ? err.message : err instanceof Error ? `Local run failed: ${err.message}` : err
    );
    process.exit(err instanceof ConfigError ? 78 : 1);
  }
);
