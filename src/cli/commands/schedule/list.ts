import { Command } from 'commander';
import { listScheduledExports, type ListedSchedule } from '../../../client/schedules';
import { action, outputOf, type CliRun } from '../../action';
import { ExitCode, terminalWidth } from '../../common';
import { withClient } from '../../connect';
import { renderTable, shortTime, type Column } from '../../table';

/** `schedule list`: the namespace's schedules as a table that fits the terminal (or JSON). */
export function listCommand(run: CliRun): Command {
  return new Command('list')
    .summary("the namespace's schedules")
    .description("List the namespace's schedules (times in UTC).")
    .option('--wide', 'full ids and times, and the last run (the table may be wider)')
    .action(
      action(run, (cmd: Command) => {
        const wide = cmd.opts<{ wide?: boolean }>().wide === true;
        const out = outputOf(cmd);
        return withClient(async (client) => {
          const rows = await listScheduledExports(client);
          out.result({ schedules: rows });
          if (rows.length === 0) out.line('No schedules');
          else table(rows, wide).forEach((l) => out.line(l));
          return ExitCode.Ok;
        });
      })
    );
}

function table(rows: ListedSchedule[], wide: boolean): string[] {
  const columns: Column[] = [
    { header: 'SCHEDULE ID', flex: true, min: 16, rank: 2 },
    { header: 'WORKFLOW', flex: true, rank: 1 },
    { header: 'STATE' },
    { header: 'NEXT RUN' },
    ...(wide ? [{ header: 'LAST RUN' }] : [{ header: 'NOTE', flex: true, min: 4 }]),
  ];
  const time = (iso: string | undefined) => (iso === undefined ? '-' : wide ? iso : shortTime(iso));
  const cells = rows.map((r) => [
    r.scheduleId,
    r.workflowType ?? '-',
    r.paused ? 'paused' : 'active',
    time(r.nextActionTimes[0]),
    wide ? (r.recentActions.at(-1)?.workflowId ?? '-') : (r.note ?? ''),
  ]);
  const rendered = renderTable(columns, cells, wide ? undefined : terminalWidth());
  return rendered.truncated
    ? [...rendered.lines, '(cut to fit: --wide for full ids, --json for all fields)']
    : rendered.lines;
}
