import { tsToMs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import type { NativeConnection, State as WorkerState } from '@temporalio/worker';

/** What `/readyz` and `/livez` answer: ready only while this worker polls its task queue. */
export interface ReadinessView {
  ready: boolean;
  /** Why it is (not) ready, for a person reading the probe's body or the log. */
  reason: string;
  /** When the last poller check ran (ISO), if one has. */
  checkedAt?: string;
}

/** How often the poller check runs, and how old the server's record of this worker's last poll may be. */
export const READINESS_CHECK_INTERVAL_MS = 10_000;
/**
 * A worker keeps a long poll open on each of its queues at all times (the server answers an empty one after about
 * a minute, and the worker polls again at once), so the server's `lastAccessTime` for a polling worker is never
 * much older than that.
 */
export const POLLER_MAX_AGE_MS = 120_000;

type DescribeService = Pick<NativeConnection['workflowService'], 'describeTaskQueue'>;

/** The part of a worker the check reads. */
export interface PollingWorker {
  getState(): WorkerState;
  readonly options: { readonly identity: string };
}

/** The worker's readiness, as the start-up steps and the poller check last set it. */
export class WorkerReadiness {
  private view: ReadinessView = { ready: false, reason: 'starting: connecting to Temporal' };
  private worker: PollingWorker | undefined;
  /** When a check last found this worker polling both queues. */
  private lastSeenPollingMs: number | undefined;

  /** The last check's answer, unless the worker stopped running since (SIGTERM): that shows at once. */
  current(): ReadinessView {
    const state = this.worker?.getState();
    if (this.view.ready && state !== undefined && state !== 'RUNNING') {
      return { ready: false, reason: `worker ${state.toLowerCase()}`, checkedAt: new Date().toISOString() };
    }
    return this.view;
  }

  /** The worker whose state {@link current} consults between checks. */
  attach(worker: PollingWorker): void {
    this.worker = worker;
  }

  /** Not ready: a start-up step is under way, or the worker is stopping. */
  notReady(reason: string): void {
    this.view = { ready: false, reason };
  }

  /**
   * Asks the server, for the workflow and the activity task queue, whether this worker (by identity) polled it in
   * the last {@link POLLER_MAX_AGE_MS}. The server's own record is the proof: a worker whose polls fail (the
   * server unreachable, its credentials refused) is not listed, even while its process runs.
   */
  async check(options: {
    service: DescribeService;
    worker: PollingWorker;
    namespace: string;
    taskQueue: string;
    nowMs: number;
  }): Promise<ReadinessView> {
    const { service, worker, namespace, taskQueue, nowMs } = options;
    const checkedAt = new Date(nowMs).toISOString();
    const state = worker.getState();
    if (state !== 'RUNNING') {
      this.view = { ready: false, reason: `worker ${state.toLowerCase()}`, checkedAt };
      return this.view;
    }
    const { TASK_QUEUE_TYPE_WORKFLOW, TASK_QUEUE_TYPE_ACTIVITY } = temporal.api.enums.v1.TaskQueueType;
    const queues = [
      ['workflow', TASK_QUEUE_TYPE_WORKFLOW],
      ['activity', TASK_QUEUE_TYPE_ACTIVITY],
    ] as const;
    try {
      for (const [kind, taskQueueType] of queues) {
        const { pollers } = await service.describeTaskQueue({
          namespace,
          taskQueue: { name: taskQueue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
          taskQueueType,
        });
        const mine = (pollers ?? []).find((p) => p.identity === worker.options.identity);
        const age = mine?.lastAccessTime ? nowMs - tsToMs(mine.lastAccessTime) : undefined;
        if (age === undefined || age > POLLER_MAX_AGE_MS) {
          this.view = {
            ready: false,
            reason: `not polling the ${kind} task queue ${taskQueue} (the server last saw it ${age === undefined ? 'never' : `${Math.round(age / 1000)} s ago`})`,
            checkedAt,
          };
          return this.view;
        }
      }
      this.view = { ready: true, reason: `polling ${taskQueue} in namespace ${namespace}`, checkedAt };
      this.lastSeenPollingMs = nowMs;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      // One failed check (a slow or busy frontend) does not make a polling worker unready: the server's record
      // of its polls stays valid for POLLER_MAX_AGE_MS, and so does the last check that read it.
      const seen = this.lastSeenPollingMs;
      if (seen !== undefined && nowMs - seen <= POLLER_MAX_AGE_MS) {
        this.view = {
          ready: true,
          reason: `polling ${taskQueue} in namespace ${namespace} (as of ${new Date(seen).toISOString()}; the last check failed: ${message})`,
          checkedAt,
        };
      } else {
        this.view = { ready: false, reason: `Temporal did not answer the poller check: ${message}`, checkedAt };
      }
    }
    return this.view;
  }
}

/**
 * Runs {@link WorkerReadiness.check} now and every {@link READINESS_CHECK_INTERVAL_MS} on an unref'd timer (it never
 * keeps the process up), each call bounded by the interval; returns the function that stops it.
 */
export function followPolling(
  readiness: WorkerReadiness,
  options: { connection: NativeConnection; worker: PollingWorker; namespace: string; taskQueue: string }
): () => void {
  const { connection, ...rest } = options;
  readiness.attach(options.worker);
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const run = async () => {
    const deadline = new Date(Date.now() + READINESS_CHECK_INTERVAL_MS);
    await connection.withDeadline(deadline, () =>
      readiness.check({ service: connection.workflowService, ...rest, nowMs: Date.now() })
    );
    if (!stopped) timer = setTimeout(() => void run(), READINESS_CHECK_INTERVAL_MS).unref();
  };
  // The first check waits a moment: the worker registers its polls just after it starts running.
  timer = setTimeout(() => void run(), 1_000).unref();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
