import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { z } from 'zod';
import { AtlasClient, type AtlasCredentials } from './atlas';
import { ConfigError, hasAtlasCredentials, parseAtlasConfig } from './config';
import { freePort, startDevServer, type DevServer } from './dev/dev-server';
import { AtlasSimulator, DEV_CREDENTIALS } from './simulator';
import {
  describeIssues,
  DEFAULT_TASK_QUEUE,
  type ExportCompletion,
  type ExportSnapshotInput,
} from './shared/export-contract';
import { atlasIdSchema, clusterNameSchema } from './shared/atlas-vocabulary';
import { createExportWorker } from './temporal/create-worker';
import { exportSnapshot, progressQuery } from './workflows';

/**
 * The one-command local run (`npm start`): a Temporal dev server with its Web UI on loopback, the worker, and
 * one export followed to its end. Against the Atlas simulator by default (time-scaled: a 13-minute export takes
 * about 13 s); against real Atlas when Atlas credentials are set in the environment, with the ids to export from
 * flags or `ATLAS_GROUP_ID`, `ATLAS_CLUSTER_NAME`, `ATLAS_SNAPSHOT_ID` (default: the newest completed snapshot)
 * and `ATLAS_EXPORT_BUCKET_ID`.
 */

const USAGE = `Usage: npm start -- [options]
  --port N          Temporal gRPC port (default 7233, or a free one if taken)
  --ui-port N       Temporal Web UI port (default 8233, or a free one if taken)
  --time-scale N    simulator speed-up (default 60: one real second is a simulated minute)
  --once            exit when the export ends (exit 0 on Successful) instead of keeping the stack up
  --state-dir DIR   where the dev server keeps its SQLite state (default .local/)
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

function progressBar(done: number | null, total: number | null, width = 24): string {
  if (done === null || total === null || total === 0) return ' '.repeat(width + 2);
  const filled = Math.round((done / total) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      'ui-port': { type: 'string' },
      'time-scale': { type: 'string' },
      once: { type: 'boolean' },
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
      'time-scale': z.coerce.number().positive().max(100_000).default(60),
    })
    .safeParse(values);
  if (!flags.success) throw new ConfigError(describeIssues(flags.error.issues, 'flag'));

  Runtime.install({ logger: new DefaultLogger('WARN') });
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
      const sim = await AtlasSimulator.start({ timeScale: flags.data['time-scale'] });
      cleanups.push(() => sim.close());
      const fixtures = sim.seedDefault();
      atlasBaseUrl = sim.url;
      credentials = { mode: 'api-key', ...DEV_CREDENTIALS.apiKeys[0]! };
      target = fixtures;
      const scale = flags.data['time-scale'];
      // The default cadence (30 s, ×1.5, up to 3 min), sped up like the simulator's clock.
      polling = {
        initialInterval: Math.max(50, Math.round(30_000 / scale)),
        maximumInterval: Math.max(200, Math.round(180_000 / scale)),
        reportInterval: Math.max(50, Math.round(60_000 / scale)),
      };
      console.log(`Atlas simulator: ${sim.url} (no Atlas credentials set; ${scale}× time)`);
    }

    // Temporal dev server with the Web UI on loopback, state kept across runs.
    const stateDir = resolve(values['state-dir'] ?? resolve(ROOT, '.local'));
    mkdirSync(stateDir, { recursive: true });
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

    const atlas = new AtlasClient({ baseUrl: atlasBaseUrl, credentials });
    cleanups.push(() => atlas.close());
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
    const worker = await createExportWorker({
      connection: nativeConnection,
      namespace: 'default',
      taskQueue: DEFAULT_TASK_QUEUE,
      atlas,
    });
    const running = worker.run();
    cleanups.push(async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
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
    const workflowId = `local-export-${target.clusterName}-${target.snapshotId}-${Date.now()}`;
    const handle = await client.workflow.start(exportSnapshot, {
      taskQueue: DEFAULT_TASK_QUEUE,
      workflowId,
      args: [input],
      staticSummary: `Export ${target.clusterName} snapshot ${target.snapshotId}`,
      staticDetails: `Project \`${target.groupId}\`, cluster \`${target.clusterName}\`, snapshot \`${target.snapshotId}\` → bucket \`${target.exportBucketId}\``,
    });
    console.log(`Export workflow: ${server.uiUrl}/namespaces/default/workflows/${encodeURIComponent(workflowId)}`);

    const started = Date.now();
    let result: ExportCompletion | undefined;
    let failure: string | undefined;
    const outcome = handle.result().then(
      (r) => (result = r),
      (e: unknown) => (failure = e instanceof WorkflowFailedError ? (e.cause?.message ?? e.message) : String(e))
    );
    let last = '';
    while (result === undefined && failure === undefined) {
      const p = await handle.query(progressQuery).catch(() => undefined);
      if (p) {
        const line = `${progressBar(p.exportedCollections, p.totalCollections)} ${p.state ?? p.phase} ${p.exportedCollections ?? '-'}/${p.totalCollections ?? '-'} collections, ${p.polls} status reads, ${Math.round((Date.now() - started) / 1000)} s`;
        if (line !== last) console.log(line);
        last = line;
      }
      await Promise.race([outcome, new Promise((r) => setTimeout(r, 1_000)), stopped]);
      if (stopping) break;
    }
    if (result) {
      console.log(
        `Export ${result.exportJobId}: ${result.state}, ${result.exportedCollections}/${result.totalCollections} collections, prefix ${result.prefix ?? '-'}`
      );
    } else if (failure) {
      console.log(`Export failed: ${failure}`);
    }
    if (!values.once && !stopping) {
      console.log(`The stack stays up: browse ${server.uiUrl} . Press Ctrl-C to stop.`);
      await stopped;
    }
    return result?.state === 'Successful' ? 0 : 1;
  } finally {
    await cleanup();
  }
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
