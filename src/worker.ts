import { NativeConnection } from '@temporalio/worker';
import { AtlasClient } from './atlas';
import { ConfigError, parseWorkerConfig, redactedWorkerConfig } from './config';
import { temporalTls } from './temporal/connection';
import { createExportWorker } from './temporal/create-worker';

/**
 * Worker entry point (`npm run worker`). Reads the environment once, connects to Temporal and Atlas, and
 * runs until SIGINT/SIGTERM, on which the SDK's runtime drains in-flight tasks before exiting.
 */
async function main(): Promise<void> {
  const config = parseWorkerConfig(process.env);
  const atlas = new AtlasClient({
    baseUrl: config.atlas.baseUrl,
    credentials: config.atlas.credentials,
    timeoutMs: config.atlas.requestTimeoutMs,
  });
  const connection = await NativeConnection.connect({
    address: config.temporal.address,
    tls: temporalTls(config.temporal),
    apiKey: config.temporal.apiKey,
  });
  try {
    const worker = await createExportWorker({
      connection,
      namespace: config.temporal.namespace,
      taskQueue: config.temporal.taskQueue,
      atlas,
      tuning: {
        maxCachedWorkflows: config.maxCachedWorkflows,
        maxConcurrentActivityTaskExecutions: config.maxConcurrentActivityTaskExecutions,
        maxConcurrentWorkflowTaskExecutions: config.maxConcurrentWorkflowTaskExecutions,
      },
    });
    console.error(JSON.stringify({ level: 'INFO', message: 'Worker starting', config: redactedWorkerConfig(config) }));
    await worker.run();
  } finally {
    await connection.close();
    await atlas.close();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(78); // EX_CONFIG
    }
    console.error(err instanceof Error ? `Worker failed: ${err.message}` : err);
    process.exit(1);
  }
);
