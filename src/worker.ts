import type { MetricMeter } from '@temporalio/common';
import { NativeConnection, type DefaultLogger, type Worker } from '@temporalio/worker';
import { AtlasClient } from './atlas';
import { payloadDataConverter } from './codec';
import {
  clearSecretVariables,
  ConfigError,
  configSecrets,
  parseWorkerConfig,
  redactedWorkerConfig,
  type WorkerConfig,
  workerPolicy,
} from './config';
import { createLogger, secretRedactor } from './observability/json-logger';
import { followExportsInFlight } from './observability/exports-in-flight';
import { startHealthServer } from './observability/health-server';
import {
  installWorkerRuntime,
  precreateExportCounters,
  recordAtlasRequestMetrics,
} from './observability/worker-runtime';
import { connectionOptions, rotateApiKeyFromFile } from './temporal/connection';
import { applyAtlasRateLimit, AtlasRateLimitError } from './temporal/atlas-rate-limit';
import { createExportWorker } from './temporal/create-worker';
import { ensureSearchAttributes, SearchAttributesError } from './temporal/search-attributes';
import { followPolling, WorkerReadiness } from './temporal/worker-readiness';
import {
  classifyStartupError,
  StartupAbortedError,
  startupRetry,
  StartupUnavailableError,
} from './temporal/startup-retry';

/** Exit codes a supervisor can act on: 78 a person must fix the configuration (do not restart), 69 try later. */
const EX_UNAVAILABLE = 69;
const EX_CONFIG = 78;

/** Every secret the redactor masks: the configured ones, and a Temporal API key rotated while running. */
const secrets = new Set<string>();
/** What start-up errors pass through on their way to stderr: credential forms until the secrets are known. */
const redact = secretRedactor(secrets);
const printError = (line: string) => console.error(redact(line));

/**
 * Worker entry point (`npm run worker`). Reads the environment once, installs the runtime (JSON logs,
 * Prometheus metrics), connects to Temporal, makes sure the namespace has the search attributes the workflows
 * upsert and the task queue has the per-project rate limit (each step retrying a server that is down or
 * answering with a transient error, for `WORKER_STARTUP_RETRY_TIMEOUT` in all), and runs until SIGINT/SIGTERM,
 * on which the SDK's runtime drains in-flight tasks.
 */
async function main(): Promise<number> {
  const config = parseWorkerConfig(process.env);
  const { address, namespace, taskQueue } = config.temporal;
  const logger = secureLogger(config);
  const runtime = installWorkerRuntime({ logger, metricsBindAddress: config.metricsAddress });
  const atlas = new AtlasClient({
    baseUrl: config.atlas.baseUrl,
    credentials: config.atlas.credentials,
    timeoutMs: config.atlas.requestTimeoutMs,
    maxResponseBytes: config.atlasMaxResponseBytes,
  });
  recordAtlasRequestMetrics(atlas, runtime);
  precreateExportCounters(runtime, { namespace, taskQueue });
  const readiness = new WorkerReadiness();
  const health = config.healthAddress
    ? await startHealthServer(config.healthAddress, () => readiness.current())
    : undefined;
  const policy = workerPolicy(config);
  if (policy.allowedTargets === undefined) warnOpenTargets(logger);
  // The runtime's own signal handlers only drain workers, and there is none yet: stop waiting instead.
  const stopping = new AbortController();
  const stop = () => stopping.abort();
  for (const signal of runtime.options.shutdownSignals) process.once(signal, stop);
  const step = startupRetry({
    maxWaitMs: config.startupRetryTimeoutMs,
    address,
    signal: stopping.signal,
    onRetry: (e) => {
      readiness.notReady(`starting: could not ${e.step} (${e.reason}); retrying`);
      logger.warn(`Temporal not ready at start: could not ${e.step}; retrying`, {
        address,
        step: e.step,
        attempt: e.attempt,
        retryInMs: e.delayMs,
        giveUpInMs: e.remainingMs,
        reason: e.reason,
      });
    },
  });
  let connection: NativeConnection | undefined;
  try {
    connection = await step('connect to Temporal', () => NativeConnection.connect(connectionOptions(config.temporal)));
    // Follows TEMPORAL_API_KEY_FILE (an unref'd timer, never keeping the process up); the redactor learns a new key first.
    rotateApiKeyFromFile(config.temporal, connection, logger, (key) => secrets.add(key));
    const { operatorService, workflowService } = connection;
    const withDeadline = connection.withDeadline.bind(connection);
    if (config.searchAttributes !== 'skip') {
      const register = config.searchAttributes === 'register';
      const check = await step('check the search attributes', (deadline) =>
        withDeadline(deadline, () => ensureSearchAttributes(operatorService, namespace, { register }))
      );
      if (check.added.length > 0) logger.info('Registered search attributes', { namespace, added: check.added });
      if (!check.verified) {
        // Without them every export's first workflow task fails and the export stalls: refuse to start blind.
        throw new SearchAttributesError(
          `Could not list the search attributes of namespace ${namespace} (${check.note}). ` +
            'Add them (README: "Watching exports"), then set WORKER_REGISTER_SEARCH_ATTRIBUTES=skip to start without checking.'
        );
      }
    }
    const applied = await step('set the task queue rate limit', (deadline) =>
      withDeadline(deadline, () =>
        applyAtlasRateLimit(workflowService, { namespace, taskQueue, setting: config.atlasProjectRateLimit })
      )
    );
    if (applied) {
      logger.info(
        applied.updated
          ? 'Applied the per-project Atlas rate limit to the activity task queue'
          : 'The activity task queue already has the per-project Atlas rate limit',
        { activitiesPerSecond: applied.activitiesPerSecond }
      );
    }
  } catch (err) {
    await connection?.close();
    await atlas.close();
    await health?.close();
    return startupFailed(err, address);
  } finally {
    for (const signal of runtime.options.shutdownSignals) process.off(signal, stop);
  }
  try {
    if (stopping.signal.aborted) return 0;
    const worker = await createExportWorker({
      connection,
      namespace,
      taskQueue,
      atlas,
      policy,
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
      metrics: config.metricsAddress ? `http://${config.metricsAddress}/metrics` : 'off',
      probes: health ? `${health.url}/readyz` : 'off',
    });
    readiness.notReady('starting: worker created, not polling yet');
    await worker
      .run()
      .finally(followWorker({ config, connection, worker, readiness, meter: runtime.metricMeter, logger }));
    return 0;
  } finally {
    await connection.close();
    await atlas.close();
    await health?.close();
  }
}

/**
 * Starts what follows the running worker: the readiness check and, when metrics are served, the exports-in-flight
 * counts; returns the function that stops both.
 */
function followWorker(options: {
  config: WorkerConfig;
  connection: NativeConnection;
  worker: Worker;
  readiness: WorkerReadiness;
  meter: MetricMeter;
  logger: DefaultLogger;
}): () => void {
  const { config, connection, worker, readiness, meter, logger } = options;
  const { namespace, taskQueue } = config.temporal;
  const stopChecks = followPolling(readiness, { connection, worker, namespace, taskQueue });
  const intervalMs = config.metricsAddress ? config.inFlightMetricsIntervalMs : undefined;
  const stopCounts = intervalMs
    ? followExportsInFlight({ connection, meter, namespace, taskQueue, intervalMs, logger })
    : undefined;
  return () => {
    stopChecks();
    stopCounts?.();
  };
}

/** Refusing to start without an allow-list would stop every existing deployment at upgrade: warn at each start. */
function warnOpenTargets(logger: ReturnType<typeof createLogger>): void {
  logger.warn(
    'WORKER_ALLOWED_TARGETS is unset: anyone who can start a workflow on this task queue can use this worker\'s Atlas identity to export any project it reaches to any bucket it reaches. Set WORKER_ALLOWED_TARGETS (docs/security.md, "Allow-list").',
    { risk: 'any-project-any-bucket' }
  );
}

/**
 * The worker's logger, masking every configured secret; start-up error lines are masked the same way from now
 * on. The secret variables leave `process.env` here: read once, no library or child process finds them later.
 */
function secureLogger(config: WorkerConfig): DefaultLogger {
  clearSecretVariables(process.env);
  configSecrets(config).forEach((secret) => secrets.add(secret));
  const logger = createLogger({ level: config.logLevel, format: config.logFormat, secrets });
  if (config.temporal.transport === 'plaintext') {
    logger.warn('Temporal connection without TLS to a non-loopback address (TEMPORAL_ALLOW_PLAINTEXT=true)', {
      address: config.temporal.address,
    });
  }
  return logger;
}

/** Prints why the worker did not start and returns its exit code. */
function startupFailed(err: unknown, address: string): number {
  if (err instanceof StartupAbortedError) {
    printError(`Worker stopped while starting: ${err.message}`);
    return 0;
  }
  if (err instanceof StartupUnavailableError) {
    printError(
      `${err.message}. Giving up (WORKER_STARTUP_RETRY_TIMEOUT); exiting ${EX_UNAVAILABLE} so the supervisor restarts the worker.`
    );
    return EX_UNAVAILABLE;
  }
  if (err instanceof ConfigError || err instanceof SearchAttributesError || err instanceof AtlasRateLimitError) {
    printError(err.message);
    return EX_CONFIG;
  }
  const message = err instanceof Error ? err.message : String(err);
  if (classifyStartupError(err) === 'configuration') {
    printError(`Temporal at ${address} refused the worker: ${message}`);
    return EX_CONFIG;
  }
  printError(`Worker failed to start (Temporal at ${address}): ${message}`);
  return 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof ConfigError) {
      printError(err.message);
      process.exit(EX_CONFIG);
    }
    printError(err instanceof Error ? `Worker failed: ${err.message}` : String(err));
    process.exit(1);
  }
);
