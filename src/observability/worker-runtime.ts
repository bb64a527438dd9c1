import { makeTelemetryFilterString, Runtime, type Logger } from '@temporalio/worker';
import type { AtlasClient } from '../atlas';
import { ATLAS_OPERATIONS } from '../atlas/operations';
import {
  ATLAS_REQUEST_METRICS,
  EXPORT_METRICS,
  FAILED_OUTCOMES,
  HISTOGRAM_BUCKETS,
} from '../shared/observability/metric-names';

export interface WorkerRuntimeOptions {
  logger: Logger;
  /** `host:port` of the Prometheus `/metrics` endpoint; undefined serves none. */
  metricsBindAddress: string | undefined;
}

/**
 * Installs the SDK runtime once per process, before any connection or worker exists: the project's logger
 * (the SDK's own and the Rust core's logs are forwarded to it, so every line has one format) and the
 * Prometheus endpoint carrying the SDK's `temporal_*` metrics and the project's `atlas_*` ones.
 */
export function installWorkerRuntime(options: WorkerRuntimeOptions): Runtime {
  return Runtime.install({
    logger: options.logger,
    telemetryOptions: {
      logging: { forward: {}, filter: makeTelemetryFilterString({ core: 'WARN', other: 'ERROR' }) },
      ...(options.metricsBindAddress
        ? {
            metrics: {
              prometheus: { bindAddress: options.metricsBindAddress, histogramBucketOverrides: HISTOGRAM_BUCKETS },
            },
          }
        : {}),
    },
  });
}

/**
 * Counts every Atlas request by operation, method and HTTP status (`network-error` when none came back), and
 * records its latency, on the runtime's metric meter; counts odd but readable answers (a skipped list item,
 * contradicting counts) by operation and kind. The Atlas client stays free of Temporal: it only calls the
 * observers. The series the alerts and the dashboard count (429s, refused credentials) exist at 0 from the start.
 */
export function recordAtlasRequestMetrics(atlas: AtlasClient, runtime: Runtime): void {
  const meter = runtime.metricMeter;
  const requests = meter.createCounter(
    ATLAS_REQUEST_METRICS.requests.name,
    'requests',
    ATLAS_REQUEST_METRICS.requests.help
  );
  const latency = meter.createHistogram(
    ATLAS_REQUEST_METRICS.duration.name,
    'float',
    's',
    ATLAS_REQUEST_METRICS.duration.help
  );
  atlas.onRequest((event) => {
    const tags = { operation: event.operation, method: event.method, status: String(event.status) };
    requests.add(1, tags);
    latency.record(event.durationMs / 1000, tags);
  });
  const anomalies = meter.createCounter(
    ATLAS_REQUEST_METRICS.anomalies.name,
    'answers',
    ATLAS_REQUEST_METRICS.anomalies.help
  );
  atlas.onResponseAnomaly(({ operation, anomaly }) => anomalies.add(1, { operation, kind: anomaly.kind }));
  const authFailures = meter.createCounter(
    ATLAS_REQUEST_METRICS.authFailures.name,
    'requests',
    ATLAS_REQUEST_METRICS.authFailures.help
  );
  atlas.onAuthFailure(({ operation, method, status }) =>
    authFailures.add(1, { operation, method, status: String(status) })
  );
  // The series the alerts and the dashboard count, at 0 from the start, so increase() sees their first event.
  for (const [operation, method] of Object.entries(ATLAS_OPERATIONS)) {
    requests.add(0, { operation, method, status: '429' });
    for (const status of ['401', '403']) authFailures.add(0, { operation, method, status });
  }
}

/**
 * Creates the export counters the workflows increment at 0 for this worker's task queue, with the labels the
 * workflow meter gives them. Prometheus's `increase()` cannot see the first increment of a series that is born
 * at 1: with every series present from the worker's start, the first failure after a deploy shows and alerts.
 */
export function precreateExportCounters(runtime: Runtime, labels: { namespace: string; taskQueue: string }): void {
  const meter = runtime.metricMeter;
  const tags = { ...labels, workflowType: 'exportSnapshot' };
  for (const m of [EXPORT_METRICS.started, EXPORT_METRICS.succeeded, EXPORT_METRICS.stalled]) {
    meter.createCounter(m.name, 'exports', m.help).add(0, tags);
  }
  const failed = meter.createCounter(EXPORT_METRICS.failed.name, 'exports', EXPORT_METRICS.failed.help);
  for (const outcome of FAILED_OUTCOMES) failed.add(0, { ...tags, outcome });
}
