import { createWriteStream, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Runtime } from '@temporalio/worker';
import type { TargetPolicy } from '../activities';
import { AtlasClient } from '../atlas';
import { ConfigError, parseTemporalConfig } from '../config';
import type { ExportTargetFlags } from '../config/export-target';
import { preferredPort } from '../net/listen';
import { createLogger } from '../observability/json-logger';
import { installWorkerRuntime, recordAtlasRequestMetrics } from '../observability/worker-runtime';
import { DEFAULT_ATLAS_PROJECT_ACTIVITIES_PER_SECOND } from '../shared/atlas/rate-limit';
import type { ExportIds } from '../shared/contract/workflow-ids';
import { applyAtlasRateLimit } from '../temporal/atlas-rate-limit';
import { createExportWorker } from '../temporal/create-worker';
import { startDevServer } from './dev-server';
import { stackPolicy, startStackAtlas, type StackAtlas } from './stack-atlas';

/**
 * The local stack as one unit: Atlas (the time-scaled simulator, or real Atlas when credentials are set), a
 * Temporal dev server with its Web UI on loopback and the project's search attributes, and the export worker
 * (Prometheus metrics on loopback, its log lines in a file). State (Temporal's SQLite, the simulator's file) is
 * kept in one directory, so a restart finds both as they were. `close()` stops everything, in reverse order.
 */
export interface LocalStack {
  temporal: { address: string; uiUrl: string; namespace: string; taskQueue: string };
  /** A client of the stack's namespace. */
  client: Client;
  atlas: StackAtlas;
  /** The stack's export, its snapshot resolved (the newest completed one when none was given). */
  target: ExportIds;
  metricsUrl: string;
  /** Where the worker's log lines go (SDK warnings with task tokens, …): not the interactive window. */
  logFile: string;
  close(): Promise<void>;
}

export interface LocalStackOptions {
  env: NodeJS.ProcessEnv;
  /** Temporal's and the simulator's state directory. */
  stateDir: string;
  /** Simulator speed-up (simulated ms per real ms). */
  timeScale: number;
  /** Temporal gRPC, Web UI and worker metrics ports; default 7233, 8233 and 9464, or free ones if taken. */
  port?: number | undefined;
  uiPort?: number | undefined;
  metricsPort?: number | undefined;
  /** Real Atlas: the ids to export, over the environment's. */
  targetFlags?: ExportTargetFlags;
  demoSchedule: boolean;
  /** Aborted while starting (Ctrl-C): what started is stopped and the promise resolves undefined. */
  signal?: AbortSignal;
  /** The worker stopped on its own (e.g. the server went away). */
  onWorkerStopped?: (err: unknown) => void;
}

/** Starts the stack; undefined when `signal` aborted the start. On an error, stops what started and throws. */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack | undefined> {
  const { namespace, taskQueue } = parseTemporalConfig(options.env);
  mkdirSync(options.stateDir, { recursive: true });
  const cleanups: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const fn of cleanups.splice(0).reverse()) await fn().catch(() => undefined);
  };
  try {
    const atlas = await startStackAtlas({ ...options, targetFlags: options.targetFlags ?? {} });
    cleanups.push(() => atlas.close());
    const { runtime, logFile, metricsUrl, closeLog } = await installStackRuntime(options, atlas.secrets);
    cleanups.push(closeLog);

    const port = options.port ?? (await preferredPort(7233));
    const uiPort = options.uiPort ?? (await preferredPort(port === 7233 ? 8233 : port + 1000));
    const server = await startDevServer({
      port,
      uiPort,
      namespace,
      dbFilename: resolve(options.stateDir, 'temporal.sqlite'),
      logLevel: 'error',
    });
    cleanups.push(() => server.stop());
    if (options.signal?.aborted) {
      await close();
      return undefined;
    }

    const atlasClient = new AtlasClient({ baseUrl: atlas.baseUrl, credentials: atlas.credentials });
    cleanups.push(() => atlasClient.close());
    recordAtlasRequestMetrics(atlasClient, runtime);
    const snapshotId = atlas.target.snapshotId ?? (await newestSnapshot(atlasClient, atlas.target));

    const { timeScale } = atlas;
    const onStopped = options.onWorkerStopped;
    const policy = stackPolicy(atlas);
    cleanups.push(
      await startWorker({
        address: server.address,
        namespace,
        taskQueue,
        atlas: atlasClient,
        policy,
        timeScale,
        onStopped,
      })
    );
    const connection = await Connection.connect({ address: server.address });
    cleanups.push(() => connection.close());
    if (options.signal?.aborted) {
      await close();
      return undefined;
    }
    return {
      temporal: { address: server.address, uiUrl: server.uiUrl ?? '', namespace, taskQueue },
      client: new Client({ connection, namespace }),
      atlas,
      target: { ...atlas.target, snapshotId },
      metricsUrl,
      logFile,
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/**
 * The worker runtime of the stack: its log lines (warnings and errors, secrets masked) appended to `worker.log` in
 * the state dir, and Prometheus metrics on loopback.
 */
async function installStackRuntime(
  options: { stateDir: string; metricsPort?: number | undefined },
  secrets: string[]
): Promise<{ runtime: Runtime; logFile: string; metricsUrl: string; closeLog: () => Promise<void> }> {
  const logFile = resolve(options.stateDir, 'worker.log');
  const log = createWriteStream(logFile, { flags: 'a' });
  const metricsAddress = `127.0.0.1:${options.metricsPort ?? (await preferredPort(9464))}`;
  const runtime = installWorkerRuntime({
    logger: createLogger({ level: 'WARN', format: 'text', secrets, write: (line) => log.write(`${line}\n`) }),
    metricsBindAddress: metricsAddress,
  });
  const closeLog = () => new Promise<void>((done) => log.end(done));
  return { runtime, logFile, metricsUrl: `http://${metricsAddress}/metrics`, closeLog };
}

/** Starts the export worker on the stack's server; resolves to what stops it (and closes its connection). */
async function startWorker(options: {
  address: string;
  namespace: string;
  taskQueue: string;
  atlas: AtlasClient;
  policy: TargetPolicy;
  timeScale: number;
  onStopped?: ((err: unknown) => void) | undefined;
}): Promise<() => Promise<void>> {
  const { namespace, taskQueue } = options;
  const connection = await NativeConnection.connect({ address: options.address });
  try {
    // The simulator's bucket refills on its own clock: the per-project pace scales with it.
    const setting = DEFAULT_ATLAS_PROJECT_ACTIVITIES_PER_SECOND * options.timeScale;
    await applyAtlasRateLimit(connection.workflowService, { namespace, taskQueue, setting });
    const worker = await createExportWorker({
      connection,
      namespace,
      taskQueue,
      atlas: options.atlas,
      policy: options.policy,
    });
    const running = worker.run();
    running.catch((err: unknown) => options.onStopped?.(err));
    return async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running.catch(() => undefined);
      await connection.close();
    };
  } catch (err) {
    await connection.close();
    throw err;
  }
}

/** The newest completed snapshot of the target cluster (real Atlas without `ATLAS_SNAPSHOT_ID`). */
async function newestSnapshot(atlas: AtlasClient, target: { groupId: string; clusterName: string }): Promise<string> {
  const snapshots = await atlas.listSnapshots(target.groupId, target.clusterName);
  const newest = snapshots
    .filter((s) => s.status?.toLowerCase() === 'completed' && s.createdAt)
    .sort((a, b) => (b.createdAt ?? '').localeCompare(a.createdAt ?? ''))[0];
  if (!newest) throw new ConfigError(`No completed snapshot of ${target.clusterName} to export`);
  return newest.id;
}
