import { parseArgs } from 'node:util';
import { WorkflowNotFoundError } from '@temporalio/common';
import { CliError, ExitCode, output, UsageError } from './cli/common';
import {
  commandExport,
  commandProgress,
  commandResult,
  EXPORT_USAGE,
  exportInputFromFlags,
  parseIntervalFlag,
  workflowIdFromFlags,
} from './cli/export-commands';
import { commandSummary, parseScheduleCommand, runScheduleCommand, SCHEDULE_USAGE } from './cli/schedule-commands';
import { commandList, commandWatch, listQuery, parseRefresh, WATCH_USAGE } from './cli/watch-commands';
import { ConfigError, parseTemporalConfig } from './config';
import { exportWorkflowId } from './shared/workflow-ids';
import { connectClient } from './temporal/connection';

export { ExitCode } from './cli/common';
export { exportInputFromFlags } from './cli/export-commands';
/** The default workflow id of an export (kept here for existing importers; see `src/shared/workflow-ids.ts`). */
export const defaultWorkflowId = exportWorkflowId;

const USAGE = `Usage:
${EXPORT_USAGE}
${WATCH_USAGE}
${SCHEDULE_USAGE}
Options for every command:
      --json                       machine-readable output (one JSON document on stdout)
      --help
Exit codes: 0 ok, 1 export not Successful, 2 bad arguments or targets file, 3 schedule exists, 4 not found,
            69 Temporal unavailable, 78 bad configuration
Environment: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_TASK_QUEUE, TEMPORAL_API_KEY, TEMPORAL_TLS*`;

const COMMANDS = ['export', 'progress', 'result', 'watch', 'list', 'summary', 'schedule'];

export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      'group-id': { type: 'string' },
      cluster: { type: 'string' },
      'snapshot-id': { type: 'string' },
      'bucket-id': { type: 'string' },
      'custom-data': { type: 'string', multiple: true },
      'notify-workflow-id': { type: 'string' },
      'workflow-id': { type: 'string' },
      'poll-mode': { type: 'string' },
      'poll-min': { type: 'string' },
      'poll-interval': { type: 'string' },
      'poll-initial': { type: 'string' },
      'poll-max': { type: 'string' },
      'poll-backoff': { type: 'string' },
      timeout: { type: 'string' },
      wait: { type: 'boolean' },
      'progress-interval': { type: 'string' },
      // watch, list
      refresh: { type: 'string' },
      state: { type: 'string' },
      since: { type: 'string' },
      limit: { type: 'string' },
      query: { type: 'string' },
      // schedule
      'schedule-id': { type: 'string' },
      targets: { type: 'string' },
      cron: { type: 'string', multiple: true },
      interval: { type: 'string', multiple: true },
      'time-zone': { type: 'string' },
      jitter: { type: 'string' },
      overlap: { type: 'string' },
      'catchup-window': { type: 'string' },
      concurrency: { type: 'string' },
      paused: { type: 'boolean' },
      note: { type: 'string' },
      'update-if-exists': { type: 'boolean' },
      start: { type: 'string' },
      end: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return ExitCode.Ok;
  }
  const out = output(values.json === true);
  const [command = 'export', ...rest] = positionals;
  if (!COMMANDS.includes(command)) throw new UsageError(`unknown command "${command}"`);
  if (['progress', 'result', 'watch', 'summary'].includes(command) && rest.length !== 1) {
    throw new UsageError(`${command} takes one WORKFLOW_ID`);
  }
  // Validate everything (flags, targets files) before connecting.
  const schedule = command === 'schedule' ? parseScheduleCommand(rest, values) : undefined;
  if (command === 'export') {
    exportInputFromFlags(values);
    workflowIdFromFlags(values);
  }
  // Before connecting: `export` parses it only after starting the workflow.
  if (command === 'export' && values['progress-interval'] !== undefined) parseIntervalFlag(values['progress-interval']);
  if (command === 'watch' && values.refresh !== undefined) parseRefresh(values.refresh);
  if (command === 'list') listQuery(values, Date.now());

  const config = parseTemporalConfig(process.env);
  const client = await connectClient(config);
  try {
    if (schedule) return await runScheduleCommand(client, config.taskQueue, schedule, out);
    if (command === 'export') return await commandExport(client, config.taskQueue, values, out);
    if (command === 'progress') return await commandProgress(client, rest[0]!, out);
    if (command === 'summary') return await commandSummary(client, rest[0]!, out);
    if (command === 'watch') return await commandWatch(client, rest[0]!, values, out);
    if (command === 'list') return await commandList(client, values, out);
    return await commandResult(client, rest[0]!, out);
  } finally {
    await client.connection.close();
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      const json = process.argv.includes('--json');
      const report = (code: number, kind: string, message: string) => {
        if (json) console.log(JSON.stringify({ status: 'error', error: { kind, message } }));
        else console.error(message);
        process.exit(code);
      };
      if (
        err instanceof UsageError ||
        (err instanceof TypeError && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS'))
      ) {
        report(ExitCode.Usage, 'usage', `${err.message}\n\n${USAGE}`);
      }
      if (err instanceof CliError) report(err.exitCode, err.kind, err.message);
      if (err instanceof WorkflowNotFoundError) {
        report(ExitCode.NotFound, 'not-found', `Workflow ${err.workflowId} does not exist`);
      }
      if (err instanceof ConfigError) report(ExitCode.Config, 'config', err.message);
      report(ExitCode.Unavailable, 'error', err instanceof Error ? err.message : String(err));
    }
  );
}
