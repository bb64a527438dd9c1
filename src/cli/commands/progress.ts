import type { Command } from 'commander';
import { describeExport } from '../../client/exports';
import { EXPORT_PROGRESS_QUERY, type ExportProgress } from '../../shared/contract/export-contract';
import { workflowIdCommand, type CliRun } from '../action';
import { ExitCode } from '../common';
import { describeProgress, outcomeOf } from '../outcome';

/**
 * `progress WORKFLOW_ID`: an export's progress once. Of a closed export it prints how it ended and exits as
 * `result` does (0 only on Successful), instead of a progress line that reads like success.
 */
export function progressCommand(run: CliRun): Command {
  return workflowIdCommand(run, {
    name: 'progress',
    summary: "print an export's progress once",
    description: "Print an export's live progress once; for a closed export, its outcome.",
    whose: "the export's",
    run: async (client, workflowId, out) => {
      const { status } = await describeExport(client, workflowId);
      const handle = client.workflow.getHandle(workflowId);
      if (status.name !== 'RUNNING') {
        const outcome = await outcomeOf(handle);
        out.line(`${workflowId} is closed (${status.name}): ${outcome.line}`);
        out.result({ ...outcome.doc, workflowStatus: status.name });
        return outcome.exitCode;
      }
      const progress = await handle.query<ExportProgress>(EXPORT_PROGRESS_QUERY);
      out.line(describeProgress(progress));
      const c = progress.cadence;
      if (c?.nextPollAt) out.line(`next status read ${c.nextPollAt} (${c.mode}, ${c.phase}): ${c.reason}`);
      out.result(progress);
      return ExitCode.Ok;
    },
  });
}
