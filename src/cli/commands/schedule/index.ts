import { Command } from 'commander';
import type { CliRun } from '../../action';
import { backfillCommand } from './backfill';
import { createCommand } from './create';
import { deleteCommand } from './delete';
import { describeCommand } from './describe';
import { listCommand } from './list';
import { pauseCommand } from './pause';
import { triggerCommand } from './trigger';
import { updateCommand } from './update';

/** `schedule …`: Temporal Schedules of `scheduledExport`, one file per subcommand. */
export function scheduleCommand(run: CliRun): Command {
  return new Command('schedule')
    .summary('create and manage schedules of exports')
    .description('Temporal Schedules whose runs export a list of targets (scheduledExport).')
    .addCommand(createCommand(run))
    .addCommand(updateCommand(run))
    .addCommand(describeCommand(run))
    .addCommand(listCommand(run))
    .addCommand(pauseCommand(run, 'pause'))
    .addCommand(pauseCommand(run, 'unpause'))
    .addCommand(triggerCommand(run))
    .addCommand(backfillCommand(run))
    .addCommand(deleteCommand(run));
}
