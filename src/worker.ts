import { NativeConnection } from '@temporalio/worker';
import { AtlasClient } from './atlas';
import { payloadDataConverter } from './codec';
import { ConfigError, configSecrets, parseWorkerConfig, redactedWorkerConfig } from './config';
import { createLogger } from './observability/json-logger';
import { installWorkerRuntime, recordAtlasRequestMetrics } from './observability/worker-runtime';
import { temporalTls } from './temporal/connection';
import { applyAtlasRateLimit, AtlasRateLimitError } from './temporal/atlas-rate-limit';
import { createExportWorker } from './temporal/create-worker';
import { ensureSearchAttributes, SearchAttributesError } from './temporal/search-attributes';

/**
 * Worker entry point (`npm run worker`). Reads the environment once, installs the runtime (JSON logs,
 * Prometheus metrics), makes sure the namespace has the search attributes the workflows upsert, connects to
 * Temporal and Atlas, and runs until SIGINT/SIGTERM, on which the SDK's runtime drains in-flight tasks.
 */
async function main(): Promise<void> {
  const config = parseWorkerConfig(process.env);
  const logger = createLogger({
    level: config.observability.logLevel,
    format: config.observability.logFormat,
    secrets: configSecrets(config),
  });
  const runtime = installWorkerRuntime({ logger, metricsBindAddress: config.observability.metricsAddress });
  const atlas = new AtlasClient({
    baseUrl: config.atlas.baseUrl,
    credentials: config.atlas.credentials,
    timeoutMs: config.atlas.requestTimeoutMs,
  });
  recordAtlasRequestMetrics(atlas, runtime);
  const connection = await NativeConnection.connect({
    address: config.temporal.address,
    tls: temporalTls(config.temporal),
    apiKey: config.temporal.apiKey,
  });
  try {
    if (config.observability.searchAttributes !== 'skip') {
      const check = await ensureSearchAttributes(connection.operatorService, config.temporal.namespace, {
        register: config.observability.searchAttributes === 'register',
      });
      if (check.added.length > 0) {
        logger.info('Registered search attributes', { namespace: config.temporal.namespace, added: check.added });
      }
      if (!check.verified) {
        // Without them every export's first workflow task fails and the export stalls: refuse to start blind.
        throw new SearchAttributesError(
          `Could not list the search attributes of namespace ${config.temporal.namespace} (${check.note}). ` +
            'Add them (README: "Watching exports"), then set WORKER_REGISTER_SEARCH_ATTRIBUTES=skip to start without checking.'
        );
      }
    }
    const applied = await applyAtlasRateLimit(connection.workflowService, {
      namespace: config.temporal.namespace,
      taskQueue: config.temporal.taskQueue,
      setting: config.atlasProjectRateLimit,
    });
    if (applied) logger.info('Applied the per-project Atlas rate limit to the activity task queue', applied);
    const worker = await createExportWorker({
      connection,
      namespace: config.temporal.namespace,
      taskQueue: config.temporal.taskQueue,
      atlas,
      dataConverter: payloadDataConverter(config.temporal.payloadEncryption),
      workflowBundle: config.workflowBundlePath ? { codePath: config.workflowBundlePath } : undefined,
      tuning: {
        maxCachedWorkflows: config.maxCachedWorkflows,
        maxConcurrentActivityTaskExecutions: config.maxConcurrentActivityTaskExecutions,
        maxConcurrentWorkflowTaskExecutions: config.maxConcurrentWorkflowTaskExecutions,
        maxConcurrentWorkflowTaskPolls: config.maxConcurrentWorkflowTaskPolls,
        maxConcurrentActivityTaskPolls: config.maxConcurrentActivityTaskPolls,
        stickyQueueScheduleToStartTimeout: config.stickyQueueScheduleToStartTimeoutMs,
        workflowThreadPoolSize: config.workflowThreadPoolSize,
      },
    });
    logger.info('Worker starting', {
      config: redactedWorkerConfig(config),
      metrics: config.observability.metricsAddress ? `http://${config.observability.metricsAddress}/metrics` : 'off',
    });
    await worker.run();
  } finally {
    await connection.close();
    await atlas.close();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    if (err instanceof ConfigError || err instanceof SearchAttributesError || err instanceof AtlasRateLimitError) {
      console.error(err.message);
      process.exit(78); // EX_CONFIG
    }
    console.error(err instanceof Error ? `Worker failed: ${err.message}` : err);
    process.exit(1);
  }
);
