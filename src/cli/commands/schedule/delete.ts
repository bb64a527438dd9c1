import { Command } from 'commander';
import { action, outputOf, type CliRun } from '../../action';
import { ExitCode } from '../../common';
import { withClient } from '../../connect';
import { addScheduleId, scheduleIdOf } from './options';

/** `schedule delete ID`: the schedule goes; runs it started are left alone. */
export function deleteCommand(run: CliRun): Command {
  return addScheduleId(new Command('delete'))
    .summary('delete the schedule (its runs are left alone)')
    .description('Delete a schedule; runs it started are left alone.')
    .action(
      action(run, (cmd: Command, id: string | undefined) => {
        const scheduleId = scheduleIdOf('delete', id, cmd.opts<{ scheduleId?: string }>().scheduleId);
        const out = outputOf(cmd);
        return withClient(async (client) => {
          await client.schedule.getHandle(scheduleId).delete();
          out.line(`Deleted schedule ${scheduleId}`);
          out.result({ scheduleId, deleted: true });
          return ExitCode.Ok;
        });
      })
    );
}
