import { condition, isCancellation, setCurrentDetails, setHandler, workflowInfo } from '@temporalio/workflow';
import {
  countTargets,
  type ExportTargetParams,
  type ScheduledExportParams,
  type ScheduledExportSummary,
  type TargetSummary,
} from '../shared/contract/scheduled-export-contract';
import { iso, workflowNow } from './clock';
import { exportCompletedSignal, summaryQuery } from './messages';
import { historyFull } from './run-limits';
import { ChildReports, finishTarget, newTarget, type TargetExporter } from './target-exporter';

/** What a run hands to the next one when it continues as new: the finished targets, in input order. */
export interface ScheduledExportResumeState {
  finished: TargetSummary[];
  startedAt: string;
  continuedAsNew: number;
}

/**
 * One `scheduledExport` run's targets: those finished by earlier runs (before continue-as-new) and this run's
 * work, with the summary the `summary` query, the UI details and the result show. Answers the query and the
 * children's `exportCompleted` signals from the start.
 */
export class FleetRun {
  readonly children = new ChildReports();
  private readonly workflowId: string;
  private readonly startedAt: string;
  private readonly continuedAsNew: number;
  private readonly targets: TargetSummary[];
  private work: { target: ExportTargetParams; summary: TargetSummary }[] = [];
  /** Where this run's targets start in `targets` (after those earlier runs finished). */
  private offset = 0;
  private concurrency = 0;
  private finishedAt: string | null = null;

  constructor(resume: ScheduledExportResumeState | undefined) {
    const info = workflowInfo();
    this.workflowId = info.workflowId;
    this.targets = [...(resume?.finished ?? [])];
    this.startedAt = resume?.startedAt ?? iso(info.runStartTime.getTime());
    this.continuedAsNew = resume?.continuedAsNew ?? 0;
    setHandler(summaryQuery, () => this.summary());
    setHandler(exportCompletedSignal, (completion) => this.children.received(completion));
  }

  /** This run's targets, all pending. */
  get planned(): number {
    return this.work.length;
  }

  plan(params: ScheduledExportParams): void {
    this.concurrency = params.concurrency;
    this.offset = this.targets.length;
    this.work = params.targets.map((target, i) => ({ target, summary: newTarget(this.offset + i, target) }));
    this.targets.push(...this.work.map((w) => w.summary));
    this.showDetails();
  }

  /**
   * Exports this run's targets, at most `concurrency` at a time, and waits until every started one finished. Stops
   * starting targets once the history is full (every run exports at least one, so a tiny limit still makes
   * progress) or the run is cancelled. Returns how many it started.
   */
  async exportAll({ exporter, maxHistoryEvents }: { exporter: TargetExporter; maxHistoryEvents: number }) {
    let next = 0;
    let inFlight = 0;
    const running: Promise<void>[] = [];
    try {
      while (next < this.work.length) {
        await condition(() => inFlight < this.concurrency);
        if (next > 0 && historyFull(maxHistoryEvents)) break;
        const item = this.work[next++]!;
        inFlight++;
        running.push(
          exporter.run(item.target, item.summary).finally(() => {
            inFlight--;
            this.showDetails();
          })
        );
      }
    } catch (err) {
      if (!isCancellation(err)) throw err;
      exporter.cancellation ??= err;
    }
    await Promise.all(running);
    return next;
  }

  /** The run was cancelled: targets that had not started are `Cancelled`. */
  cancelPending(): void {
    for (const w of this.work) if (w.summary.state === 'Pending') finishTarget(w.summary, 'Cancelled', null);
    this.finish();
  }

  /** What the next run needs when this one continues as new after `started` of its targets. */
  resumeState(started: number): ScheduledExportResumeState {
    return {
      finished: this.targets.slice(0, this.offset + started),
      startedAt: this.startedAt,
      continuedAsNew: this.continuedAsNew + 1,
    };
  }

  /** The run is over: its summary, final. */
  finish(): ScheduledExportSummary {
    this.finishedAt = iso(workflowNow());
    const result = this.summary();
    showDetails(result);
    return result;
  }

  summary(): ScheduledExportSummary {
    return {
      workflowId: this.workflowId,
      startedAt: this.startedAt,
      finishedAt: this.finishedAt,
      concurrency: this.concurrency,
      continuedAsNew: this.continuedAsNew,
      counts: countTargets(this.targets),
      targets: this.targets,
    };
  }

  showDetails(): void {
    showDetails(this.summary());
  }
}

/** The UI's current details: the counts and the last 50 targets that started. */
function showDetails(s: ScheduledExportSummary): void {
  const c = s.counts;
  const lines = s.targets
    .filter((t) => t.state !== 'Pending')
    .slice(-50)
    .map(
      (t) =>
        `- [${t.index}] \`${t.clusterName}\` ${t.state}${t.snapshotId ? ` snapshot \`${t.snapshotId}\`` : ''}${t.error ? `: ${t.error.type}` : ''}`
    );
  setCurrentDetails(
    [
      `**${c.successful} successful, ${c.failed} failed, ${c.skipped} skipped, ${c.running} running, ${c.pending} pending** of ${c.total} targets (concurrency ${s.concurrency})`,
      '',
      ...lines,
    ].join('\n')
  );
}
