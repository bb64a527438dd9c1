import type { Logger, NativeConnection } from '@temporalio/worker';
import type { MetricMeter } from '@temporalio/common';
import { IN_FLIGHT_METRICS } from '../shared/observability/metric-names';

/**
 * The Atlas states an export spends its time in, as the workflow upserts them into `AtlasExportState`; the gauge
 * reports the running exports in each, and the rest (`Other`: not yet labelled, or finished in Atlas and still
 * signalling or reporting) so the states add up to all running exports.
 */
export const IN_FLIGHT_STATES = ['Creating', 'Queued', 'InProgress'] as const;

type CountService = Pick<NativeConnection['workflowService'], 'countWorkflowExecutions'>;

/** One reading: running exports on this task queue by state, and how many of them have the stall alarm raised. */
export interface InFlightReading {
  byState: Record<(typeof IN_FLIGHT_STATES)[number] | 'Other', number>;
  stalled: number;
}

/**
 * A visibility query string literal. The parser unescapes `\'` but reads a backslash otherwise as itself, so a
 * value with a backslash cannot be written reliably: {@link followExportsInFlight} refuses such a task queue.
 */
const quote = (value: string) => `'${value.replace(/'/g, "\\'")}'`;

/**
 * Counts the running export workflows of one task queue in Temporal's visibility store (one count per state,
 * one for all, one for the stalled: five calls a reading, no history read, no action billed). Visibility is
 * eventually consistent, so a reading may lag the workflows by the store's delay (about a second on SQL stores).
 */
export async function readExportsInFlight(
  service: CountService,
  namespace: string,
  taskQueue: string
): Promise<InFlightReading> {
  const running = `WorkflowType = 'exportSnapshot' AND ExecutionStatus = 'Running' AND TaskQueue = ${quote(taskQueue)}`;
  const count = async (extra?: string) => {
    const { count: n } = await service.countWorkflowExecutions({
      namespace,
      query: extra === undefined ? running : `${running} AND ${extra}`,
    });
    return Number(n ?? 0);
  };
  const [all, stalled, ...states] = await Promise.all([
    count(),
    count('AtlasExportStalled = true'),
    ...IN_FLIGHT_STATES.map((s) => count(`AtlasExportState = ${quote(s)}`)),
  ]);
  const byState = Object.fromEntries(IN_FLIGHT_STATES.map((s, i) => [s, states[i]!])) as InFlightReading['byState'];
  // Each count is its own read of a store that moves: never report a negative remainder.
  byState.Other = Math.max(0, all - states.reduce((a, b) => a + b, 0));
  return { byState, stalled: stalled };
}

/**
 * Sets `atlas_exports_in_flight{state}` and `atlas_exports_stalled_in_flight` from {@link readExportsInFlight}
 * now and every `intervalMs` on an unref'd timer (never keeping the process up); returns the function that stops
 * it. Every worker of a task queue reports the same numbers: dashboards take `max` across instances. A failed
 * reading is logged and leaves the last values in place; `atlas_exports_in_flight_read_timestamp_seconds` says how old they are.
 */
export function followExportsInFlight(options: {
  connection: NativeConnection;
  meter: MetricMeter;
  namespace: string;
  taskQueue: string;
  intervalMs: number;
  logger: Logger;
}): () => void {
  const { connection, meter, namespace, taskQueue, intervalMs, logger } = options;
  if (taskQueue.includes('\\')) {
    logger.warn(
      'Not counting exports in flight: a task queue name with a backslash cannot be quoted in a visibility query',
      {
        taskQueue,
      }
    );
    return () => {};
  }
  const inFlight = meter.createGauge(
    IN_FLIGHT_METRICS.inFlight.name,
    'int',
    'exports',
    IN_FLIGHT_METRICS.inFlight.help
  );
  const stalled = meter.createGauge(IN_FLIGHT_METRICS.stalled.name, 'int', 'exports', IN_FLIGHT_METRICS.stalled.help);
  const readAt = meter.createGauge(IN_FLIGHT_METRICS.readAt.name, 'float', 's', IN_FLIGHT_METRICS.readAt.help);
  const tags = { namespace, taskQueue };
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let failing = false;
  const run = async () => {
    try {
      const reading = await connection.withDeadline(new Date(Date.now() + Math.min(intervalMs, 30_000)), () =>
        readExportsInFlight(connection.workflowService, namespace, taskQueue)
      );
      for (const [state, n] of Object.entries(reading.byState)) inFlight.set(n, { ...tags, state });
      stalled.set(reading.stalled, tags);
      readAt.set(Date.now() / 1000, tags);
      if (failing) logger.info('Counting exports in flight works again', { taskQueue });
      failing = false;
    } catch (err) {
      if (stopped) return; // the connection closed under a reading at shutdown
      // Logged once per failing streak: a visibility store that is down must not flood the log.
      if (!failing) {
        logger.warn('Could not count exports in flight; the gauges keep their last values', {
          taskQueue,
          reason: err instanceof Error ? err.message : String(err),
        });
      }
      failing = true;
    }
    if (!stopped) timer = setTimeout(() => void run(), intervalMs).unref();
  };
  timer = setTimeout(() => void run(), 0).unref();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
