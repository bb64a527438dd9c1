import { Command } from 'commander';
import { OVERLAP_POLICIES, triggerScheduledExport } from '../../../client/schedules';
import { action, outputOf, type CliRun } from '../../action';
import { ExitCode } from '../../common';
import { withClient } from '../../connect';
import { addScheduleId, overlapOption, scheduleIdOf } from './options';

/** `schedule trigger ID`: run now, and say which run started (or that the overlap policy skipped it). */
export function triggerCommand(run: CliRun): Command {
  return addScheduleId(new Command('trigger'))
    .summary('run it now')
    .description('Start a run now; prints the run it started, or that it was skipped.')
    .option('--overlap <policy>', `for this run: ${OVERLAP_POLICIES.join(', ')}`)
    .action(
      action(run, (cmd: Command, id: string | undefined) => {
        const o = cmd.opts<{ scheduleId?: string; overlap?: string }>();
        const scheduleId = scheduleIdOf('trigger', id, o.scheduleId);
        const overlap = overlapOption(o.overlap);
        const out = outputOf(cmd);
        return withClient(async (client) => {
          const { workflowId, skipped } = await triggerScheduledExport(client, scheduleId, overlap);
          if (workflowId) out.line(`Triggered schedule ${scheduleId}: started workflow ${workflowId}`);
          else if (skipped)
            out.line(`Triggered schedule ${scheduleId}: skipped by the overlap policy (a run is still going)`);
          else out.line(`Triggered schedule ${scheduleId}; no run recorded yet`);
          out.result({ scheduleId, triggered: true, workflowId, skipped });
          return ExitCode.Ok;
        });
      })
    );
}
