import { ApplicationFailure, CancellationScope, sleep } from '@temporalio/workflow';
import type { ExportJobStatus } from '../shared/contract/export-contract';
import { FailureType } from '../shared/contract/failure-types';
import { collectionCount } from '../shared/observability/progress-text';
import { iso, workflowNow } from './clock';

export interface StallAlarmOptions {
  /** `polling.stallAfter`; null: no alarm. */
  stallAfterMs: number | null;
  /** `polling.failOnStall`: a raised alarm cancels the poll and fails the wait with `ExportStalled`. */
  failOnStall: boolean;
  /** When the job's state or collection count last moved. */
  lastChangeAtMs: number;
  /** When the job stalled, while the alarm is raised (carried across continue-as-new). */
  stalledSince: string | null;
  /** Hears the alarm go off (`stalledSince` set) and clear (null). */
  onChange: (stalledSince: string | null, stallAfterMs: number) => void;
}

/**
 * The stall alarm of one export: with `polling.stallAfter`, it goes off when the job's state and collection count
 * stayed put for that long (one timer per wait, cancelled when the poll returns first) and clears when the job
 * moves again. With `failOnStall` the poll is cancelled and the wait fails with `ExportStalled` (the Atlas job
 * keeps running).
 */
export class StallAlarm {
  private lastChangeAt: number;
  private since: string | null;

  constructor(private readonly options: StallAlarmOptions) {
    this.lastChangeAt = options.lastChangeAtMs;
    this.since = options.stalledSince;
  }

  get lastChangeAtMs(): number {
    return this.lastChangeAt;
  }

  /** Waits for `poll` (run in `pollScope`), raising the alarm when it is due first; `status` is what the poll started from. */
  async watch<T>({
    poll,
    pollScope,
    status,
  }: {
    poll: Promise<T>;
    pollScope: CancellationScope;
    status: ExportJobStatus;
  }): Promise<T> {
    const stallAfterMs = this.options.stallAfterMs;
    if (stallAfterMs === null) return poll;
    for (;;) {
      if (this.since !== null) return poll;
      const dueInMs = this.lastChangeAt + stallAfterMs - workflowNow();
      if (dueInMs <= 0) {
        this.since = iso(this.lastChangeAt + stallAfterMs);
        this.options.onChange(this.since, stallAfterMs);
        if (!this.options.failOnStall) return poll;
        pollScope.cancel();
        await poll.catch(() => undefined);
        throw ApplicationFailure.create({
          type: FailureType.ExportStalled,
          message: `Export job ${status.exportJobId} made no progress for ${stallAfterMs} ms (still ${status.state}, ${collectionCount(status) ?? 'no collection count'}); the workflow stopped following it, the Atlas job may still be running`,
          nonRetryable: true,
        });
      }
      if ((await firstOf(poll, dueInMs)) === 'poll') return poll;
    }
  }

  /** A poll returned: when the job moved, the stall clock restarts and a raised alarm clears. */
  polled(moved: boolean): void {
    if (!moved) return;
    this.lastChangeAt = workflowNow();
    if (this.since !== null) {
      this.since = null;
      this.options.onChange(null, this.options.stallAfterMs ?? 0);
    }
  }
}

/** Whichever comes first: the poll settling, or a timer of `dueInMs` (cancelled when the poll wins). */
async function firstOf(poll: Promise<unknown>, dueInMs: number): Promise<'poll' | 'timer'> {
  const timerScope = new CancellationScope();
  const timer = timerScope.run(() => sleep(dueInMs, { summary: `Stall alarm at ${iso(workflowNow() + dueInMs)}` }));
  const first = await Promise.race([
    poll.then(
      () => 'poll' as const,
      () => 'poll' as const
    ),
    timer.then(() => 'timer' as const),
  ]);
  if (first === 'poll') {
    timerScope.cancel();
    await timer.catch(() => undefined);
  }
  return first;
}
