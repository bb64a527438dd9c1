import type { Command } from 'commander';
import { getScheduledRunReport } from '../../client/scheduled';
import { workflowIdCommand, type CliRun } from '../action';
import { ExitCode } from '../common';

/** `summary WORKFLOW_ID`: the per-target summary of a scheduled run (running or finished). */
export function summaryCommand(run: CliRun): Command {
  return workflowIdCommand(run, {
    name: 'summary',
    summary: 'per-target summary of a scheduled run',
    description: 'Per-target summary of a scheduled run; exit 1 when a target failed.',
    whose: "the scheduled run's",
    run: async (client, workflowId, out) => {
      const { summary: s, healthy } = await getScheduledRunReport(client, workflowId);
      const c = s.counts;
      out.line(
        `${s.workflowId}: ${c.successful} successful, ${c.failed} failed, ${c.skipped} skipped, ${c.running} running, ${c.pending} pending of ${c.total}${s.finishedAt ? ` (finished ${s.finishedAt})` : ''}`
      );
      for (const t of s.targets) {
        const progress =
          t.exportedCollections !== null && t.totalCollections !== null
            ? ` ${t.exportedCollections}/${t.totalCollections}`
            : '';
        out.line(
          `  [${t.index}] ${t.clusterName} ${t.policy} ${t.state}${progress} snapshot ${t.snapshotId ?? '-'} job ${t.exportJobId ?? '-'}${t.attached ? ' (attached)' : ''}${t.error ? ` ${t.error.type}: ${t.error.message}` : ''}${t.note ? ` — ${t.note}` : ''}`
        );
      }
      out.result(s);
      return healthy ? ExitCode.Ok : ExitCode.ExportNotSuccessful;
    },
  });
}
