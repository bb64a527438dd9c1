import { Command } from 'commander';
import { scheduleView, type ScheduleView } from '../../../client/schedules';
import { action, outputOf, type CliRun } from '../../action';
import { ExitCode } from '../../common';
import { withClient } from '../../connect';
import { addScheduleId, scheduleIdOf } from './options';

/** `schedule describe ID`: spec, policies, state, targets and recent runs. */
export function describeCommand(run: CliRun): Command {
  return addScheduleId(new Command('describe'))
    .summary('spec, policies, state, targets and recent runs')
    .description('Print a schedule: spec, policies, state, targets and recent runs.')
    .action(
      action(run, (cmd: Command, id: string | undefined) => {
        const scheduleId = scheduleIdOf('describe', id, cmd.opts<{ scheduleId?: string }>().scheduleId);
        const out = outputOf(cmd);
        return withClient(async (client) => {
          const view = scheduleView(await client.schedule.getHandle(scheduleId).describe());
          out.line(describeText(view));
          out.result(view);
          return ExitCode.Ok;
        });
      })
    );
}

/** A schedule for a person: one line per aspect. */
export function describeText(v: ScheduleView): string {
  const when = [
    ...v.spec.calendars.map((c) => `calendar "${c}"`),
    ...v.spec.intervals.map((i) => `every ${i.everyMs / 1000}s${i.offsetMs ? ` (offset ${i.offsetMs / 1000}s)` : ''}`),
  ].join(', ');
  const targets = v.input?.targets.length ?? 0;
  return [
    `Schedule ${v.scheduleId}: ${v.workflowType} on task queue ${v.taskQueue}`,
    `  When:     ${when || '-'} in ${v.spec.timezone}${v.spec.jitterMs ? `, jitter ${v.spec.jitterMs / 1000}s` : ''}`,
    `  Policies: overlap ${v.policies.overlap}, catch-up window ${v.policies.catchupWindowMs / 1000}s`,
    `  State:    ${v.state.paused ? 'paused' : 'active'}${v.state.note ? ` (${v.state.note})` : ''}`,
    `  Targets:  ${targets} (concurrency ${v.input?.concurrency ?? 'default'})`,
    `  Next:     ${v.info.nextActionTimes.slice(0, 3).join(', ') || '-'}`,
    `  Recent:   ${v.info.recentActions.map((a) => `${a.workflowId}`).join(', ') || '-'}`,
    `  Running:  ${v.info.runningWorkflowIds.join(', ') || '-'}`,
  ].join('\n');
}
