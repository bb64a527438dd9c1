import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { pollDelayMs, type BackoffSettings } from '../../src/shared/polling/backoff';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** One run of a workflow (the first, or one started by continue-as-new). */
export interface RunHistory {
  runId: string;
  events: HistoryEvent[];
}

/**
 * The histories of every run of a workflow, following continue-as-new from the first run: each
 * `WorkflowExecutionContinuedAsNew` event names the next run.
 */
export async function fetchRunChain(client: Client, workflowId: string, firstRunId: string): Promise<RunHistory[]> {
  const runs: RunHistory[] = [];
  let runId: string | undefined = firstRunId;
  while (runId) {
    const history: temporal.api.history.v1.IHistory = await client.workflow.getHandle(workflowId, runId).fetchHistory();
    const events: HistoryEvent[] = history.events ?? [];
    runs.push({ runId, events });
    const next: string | null | undefined =
      events.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
    runId = next ?? undefined;
    if (runs.length > 1_000) throw new Error(`${workflowId}: more than 1000 runs; is the chain looping?`);
  }
  return runs;
}

/** What the histories of one workflow (all its runs) say it cost. */
export interface HistoryCost {
  runs: number;
  continuedAsNew: number;
  events: number;
  maxEventsPerRun: number;
  /** Per activity type: scheduled activities and attempts (sum of `ActivityTaskStarted.attempt`). */
  activities: Record<string, { scheduled: number; attempts: number }>;
  activityAttempts: number;
  timers: number;
  /** Signals sent (external) and received. */
  signals: number;
  /** Distinct `state:exportedCollections` values in activity results, i.e. progress that reached the workflow. */
  progressValues: string[];
}

export function historyCost(runs: RunHistory[]): HistoryCost {
  const cost: HistoryCost = {
    runs: runs.length,
    continuedAsNew: 0,
    events: 0,
    maxEventsPerRun: 0,
    activities: {},
    activityAttempts: 0,
    timers: 0,
    signals: 0,
    progressValues: [],
  };
  const progress = new Set<string>();
  for (const run of runs) {
    cost.events += run.events.length;
    cost.maxEventsPerRun = Math.max(cost.maxEventsPerRun, run.events.length);
    const typeOfScheduled = new Map<string, string>();
    for (const e of run.events) {
      const scheduled = e.activityTaskScheduledEventAttributes;
      if (scheduled) {
        const name = scheduled.activityType?.name ?? '?';
        typeOfScheduled.set(String(e.eventId), name);
        (cost.activities[name] ??= { scheduled: 0, attempts: 0 }).scheduled += 1;
      }
      const started = e.activityTaskStartedEventAttributes;
      if (started) {
        const name = typeOfScheduled.get(String(started.scheduledEventId)) ?? '?';
        const attempt = started.attempt ?? 1;
        (cost.activities[name] ??= { scheduled: 0, attempts: 0 }).attempts += attempt;
        cost.activityAttempts += attempt;
      }
      const completed = e.activityTaskCompletedEventAttributes;
      const payload = completed?.result?.payloads?.[0];
      if (payload) {
        const key = progressKey(defaultPayloadConverter.fromPayload<unknown>(payload));
        if (key) progress.add(key);
      }
      if (e.timerStartedEventAttributes) cost.timers += 1;
      if (e.signalExternalWorkflowExecutionInitiatedEventAttributes || e.workflowExecutionSignaledEventAttributes) {
        cost.signals += 1;
      }
      if (e.workflowExecutionContinuedAsNewEventAttributes) cost.continuedAsNew += 1;
    }
  }
  cost.progressValues = [...progress];
  return cost;
}

/** `state:exportedCollections` of an export job status, or of a result that carries one in `status`. */
export function progressKey(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as { status?: unknown; state?: unknown; exportedCollections?: unknown };
  if (v.status !== undefined) return progressKey(v.status);
  if (typeof v.state !== 'string') return undefined;
  return `${v.state}:${typeof v.exportedCollections === 'number' ? v.exportedCollections : '-'}`;
}

/**
 * Polls the backoff schedule makes for a job that finishes `durationMs` after it was created, and how long after
 * the finish the last (detecting) poll comes. All in the same unit as `settings`. `minDelayMs` stretches steps
 * shorter than it (a server that cannot fire timers sooner); `delays` are the steps as applied.
 */
export function expectedPolls(
  durationMs: number,
  settings: BackoffSettings,
  seed: string | undefined,
  minDelayMs = 0
): { polls: number; lagMs: number; delays: number[] } {
  const delays: number[] = [];
  if (!Number.isFinite(durationMs)) return { polls: NaN, lagMs: NaN, delays };
  let t = 0;
  for (let k = 0; ; k++) {
    const d = Math.max(minDelayMs, seed === undefined ? nominalDelayMs(k, settings) : pollDelayMs(k, settings, seed));
    delays.push(d);
    t += d;
    if (t >= durationMs) return { polls: k + 1, lagMs: t - durationMs, delays };
    if (k > 1_000_000) throw new Error('schedule does not reach the finish');
  }
}

/** The schedule without jitter. */
export function nominalDelayMs(k: number, s: BackoffSettings): number {
  return Math.min(s.initialIntervalMs * Math.pow(s.backoffCoefficient, k), s.maximumIntervalMs);
}

/**
 * Heartbeats that reach the server, estimated from the activity's `heartbeat()` call times: the SDK core sends
 * the first at once, then at most one per throttle interval (0.8 × heartbeatTimeout), sending the latest call
 * buffered during an interval when it ends, and going idle after an interval without calls. A call still buffered
 * when the activity completes (`endMs`) is not sent (the completion carries the result). Calibrated against the
 * dev server's `service_requests{operation="RecordActivityTaskHeartbeat",service_name="frontend"}`: equal counts
 * for calls every 100, 500, 1,000 and 1,500 ms with heartbeatTimeout 2 s.
 */
export function heartbeatsSent(callTimesMs: number[], throttleMs: number, endMs = Infinity): number {
  let sent = 0;
  let windowEnd: number | undefined;
  let pending = false;
  const advance = (until: number) => {
    while (windowEnd !== undefined && until >= windowEnd) {
      if (pending) {
        sent += 1;
        pending = false;
        windowEnd += throttleMs;
      } else {
        windowEnd = undefined;
      }
    }
  };
  for (const t of callTimesMs) {
    advance(t);
    if (windowEnd === undefined) {
      sent += 1;
      windowEnd = t + throttleMs;
    } else {
      pending = true;
    }
  }
  if (Number.isFinite(endMs)) advance(endMs);
  return sent;
}

/** Percentile (nearest rank) of unsorted values; NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export interface Spread {
  mean: number;
  min: number;
  max: number;
}

export function spread(values: number[]): Spread {
  if (values.length === 0) return { mean: NaN, min: NaN, max: NaN };
  return {
    mean: values.reduce((a, b) => a + b, 0) / values.length,
    min: Math.min(...values),
    max: Math.max(...values),
  };
}

/** `12`, `12.3`, or `12.3 [11–14]` when the repetitions differ. */
export function formatSpread(s: Spread, digits = 0): string {
  if (Number.isNaN(s.mean)) return '—';
  const f = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(digits));
  const mean = Number.isInteger(s.mean) ? String(s.mean) : s.mean.toFixed(Math.max(digits, 1));
  return s.min === s.max ? mean : `${mean} [${f(s.min)}–${f(s.max)}]`;
}
