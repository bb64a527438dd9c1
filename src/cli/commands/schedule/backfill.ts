import { Command } from 'commander';
import { OVERLAP_POLICIES } from '../../../client/schedules';
import { action, outputOf, type CliRun } from '../../action';
import { ExitCode, UsageError } from '../../common';
import { withClient } from '../../connect';
import { addScheduleId, overlapOption, scheduleIdOf } from './options';

interface BackfillOptions {
  scheduleId?: string;
  start?: string;
  end?: string;
  overlap?: string;
}

/** `schedule backfill ID --start ISO --end ISO`: run the actions of a past range. */
export function backfillCommand(run: CliRun): Command {
  return addScheduleId(new Command('backfill'))
    .summary('run the actions of a past range')
    .description('Run the actions the schedule would have taken from --start to --end.')
    .option('--start <iso>', 'start of the range, e.g. 2025-01-31T00:00:00Z')
    .option('--end <iso>', 'end of the range (after --start)')
    .option('--overlap <policy>', `for these runs: ${OVERLAP_POLICIES.join(', ')}`)
    .action(
      action(run, (cmd: Command, id: string | undefined) => {
        const { scheduleId, start, end, overlap } = backfillRequest(id, cmd.opts<BackfillOptions>());
        const out = outputOf(cmd);
        return withClient(async (client) => {
          const handle = client.schedule.getHandle(scheduleId);
          await handle.describe();
          await handle.backfill({ start, end, ...(overlap ? { overlap } : {}) });
          out.line(`Backfill of schedule ${scheduleId} requested for ${start.toISOString()} – ${end.toISOString()}`);
          out.result({ scheduleId, backfill: { start, end, overlap: overlap ?? null } });
          return ExitCode.Ok;
        });
      })
    );
}

/** The validated range, before connecting; exported for the property tests. */
export function backfillRequest(id: string | undefined, o: BackfillOptions) {
  const scheduleId = scheduleIdOf('backfill', id, o.scheduleId);
  const overlap = overlapOption(o.overlap);
  const start = dateOption('start', o.start);
  const end = dateOption('end', o.end);
  if (end.getTime() <= start.getTime()) throw new UsageError('--end must be after --start');
  return { scheduleId, start, end, overlap };
}

function dateOption(name: string, v: string | undefined): Date {
  if (v === undefined) throw new UsageError(`schedule backfill: --${name} ISO-8601 time is required`);
  const ms = Date.parse(v);
  if (Number.isNaN(ms)) throw new UsageError(`--${name} "${v}": expected an ISO-8601 time, e.g. 2025-01-31T02:00:00Z`);
  return new Date(ms);
}
