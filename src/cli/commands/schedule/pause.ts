import { Command } from 'commander';
import { action, outputOf, type CliRun } from '../../action';
import { ExitCode } from '../../common';
import { withClient } from '../../connect';
import { addScheduleId, scheduleIdOf } from './options';

/** `schedule pause ID` and `schedule unpause ID`, with an optional note. */
export function pauseCommand(run: CliRun, sub: 'pause' | 'unpause'): Command {
  const pause = sub === 'pause';
  return addScheduleId(new Command(sub))
    .summary(pause ? 'stop starting runs' : 'start runs again')
    .description(pause ? 'Pause a schedule: it starts no runs until unpaused.' : 'Unpause a schedule.')
    .option('--note <text>', 'why (shown by describe)')
    .action(
      action(run, (cmd: Command, id: string | undefined) => {
        const o = cmd.opts<{ scheduleId?: string; note?: string }>();
        const scheduleId = scheduleIdOf(sub, id, o.scheduleId);
        const out = outputOf(cmd);
        return withClient(async (client) => {
          const handle = client.schedule.getHandle(scheduleId);
          await handle.describe(); // a clear "does not exist" instead of a server error
          if (pause) await handle.pause(o.note);
          else await handle.unpause(o.note);
          out.line(`${pause ? 'Paused' : 'Unpaused'} schedule ${scheduleId}`);
          out.result({ scheduleId, paused: pause });
          return ExitCode.Ok;
        });
      })
    );
}
