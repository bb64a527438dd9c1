import { Command } from 'commander';
import { createScheduledExport, scheduleView, type CreateScheduledExportOptions } from '../../../client/schedules';
import { action, outputOf, type CliRun } from '../../action';
import { ExitCode, UsageError } from '../../common';
import { withClient } from '../../connect';
import { describeText } from './describe';
import {
  addScheduleId,
  addSpecOptions,
  readTargets,
  refusedAsUsage,
  scheduleIdOf,
  specChanges,
  withOverrides,
  type SpecOptions,
} from './options';

interface CreateOptions extends SpecOptions {
  paused?: boolean;
  note?: string;
  updateIfExists?: boolean;
}

/** `schedule create`: a Temporal Schedule whose runs start `scheduledExport` over a targets file. */
export function createCommand(run: CliRun): Command {
  const command = addScheduleId(new Command('create'))
    .summary('create a schedule of exports from a targets file')
    .description(
      'Create a schedule whose runs start scheduledExport over the targets file, on\n' +
        'TEMPORAL_TASK_QUEUE (default atlas-exports). Give --targets and --cron or --interval.'
    );
  addSpecOptions(command)
    .option('--paused', 'create it paused')
    .option('--note <text>', 'note kept with the paused/unpaused state')
    .option('--update-if-exists', 'if it exists, replace its spec, policies and targets')
    .action(
      action(run, (cmd: Command, id: string | undefined) => {
        const request = createRequest(id, cmd.opts<CreateOptions>());
        const out = outputOf(cmd);
        return withClient(async (client, taskQueue) => {
          const { created, description } = await refusedAsUsage('create', () =>
            createScheduledExport(client, { ...request, taskQueue })
          );
          const view = scheduleView(description);
          const head = created ? 'Created schedule' : 'Schedule';
          out.line(
            `${head} ${request.scheduleId}${created ? '' : ' already existed; updated it'}\n${describeText(view)}`
          );
          out.result({ scheduleId: request.scheduleId, created, updated: !created, schedule: view });
          return ExitCode.Ok;
        });
      })
    );
  return command;
}

/** A validated create request (targets file read), before connecting; exported for the property tests. */
export function createRequest(
  id: string | undefined,
  o: CreateOptions
): Omit<CreateScheduledExportOptions, 'taskQueue'> & { scheduleId: string } {
  const scheduleId = scheduleIdOf('create', id, o.scheduleId);
  const { when, timezone, jitterMs, ...policies } = specChanges(o);
  if (!when) throw new UsageError('schedule create: give --cron EXPR or --interval EVERY[/OFFSET]');
  if (o.targets === undefined) throw new UsageError('schedule create: --targets FILE is required');
  return {
    scheduleId,
    spec: {
      ...when,
      ...(timezone !== undefined ? { timezone } : {}),
      ...(jitterMs !== undefined ? { jitter: jitterMs } : {}),
    },
    input: withOverrides(readTargets(o.targets), o),
    ...policies,
    paused: o.paused === true,
    note: o.note,
    updateIfExists: o.updateIfExists === true,
  };
}
