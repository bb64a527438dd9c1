import { Command } from 'commander';
import { scheduleView, updateScheduledExport, type ScheduleChanges } from '../../../client/schedules';
import { action, outputOf, type CliRun } from '../../action';
import { ExitCode, UsageError } from '../../common';
import { pollingFromOptions } from '../../polling-options';
import { withClient } from '../../connect';
import {
  addScheduleId,
  addSpecOptions,
  concurrencyOption,
  readTargets,
  refusedAsUsage,
  scheduleIdOf,
  specChanges,
  withOverrides,
  type SpecOptions,
} from './options';

/** `schedule update ID [options]`: change only what is given. */
export function updateCommand(run: CliRun): Command {
  const command = addScheduleId(new Command('update'))
    .summary('change only the options given')
    .description('Change only what is given: spec, policies, targets, concurrency, polling.');
  addSpecOptions(command).action(
    action(run, (cmd: Command, id: string | undefined) => {
      const { scheduleId, changes } = updateRequest(id, cmd.opts<SpecOptions>());
      const out = outputOf(cmd);
      return withClient(async (client) => {
        const d = await refusedAsUsage('update', () => updateScheduledExport(client, scheduleId, changes));
        out.line(`Updated schedule ${scheduleId}`);
        out.result({ scheduleId, updated: true, schedule: scheduleView(d) });
        return ExitCode.Ok;
      });
    })
  );
  return command;
}

/** The validated changes (targets file read), before connecting; exported for the property tests. */
export function updateRequest(
  id: string | undefined,
  o: SpecOptions
): { scheduleId: string; changes: ScheduleChanges } {
  const scheduleId = scheduleIdOf('update', id, o.scheduleId);
  const changes: ScheduleChanges = specChanges(o);
  if (o.targets !== undefined) changes.input = withOverrides(readTargets(o.targets), o);
  else {
    const concurrency = concurrencyOption(o.concurrency);
    if (concurrency !== undefined) changes.concurrency = concurrency;
    const polling = pollingFromOptions(o);
    if (Object.keys(polling).length > 0) changes.polling = polling;
  }
  if (Object.keys(changes).length === 0)
    throw new UsageError('schedule update: nothing to change; give at least one option');
  return { scheduleId, changes };
}
