import { Command } from 'commander';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { startExport } from '../../client/exports';
import { durationSchema } from '../../shared/contract/durations';
import {
  EXPORT_PROGRESS_QUERY,
  exportSnapshotInputSchema,
  type ExportProgress,
  type ExportSnapshotInput,
} from '../../shared/contract/export-contract';
import type { ExportIds } from '../../shared/contract/workflow-ids';
import { collect, ExitCode, MAX_CLI_INTERVAL_MS, UsageError, type Output } from '../common';
import { withClient } from '../connect';
import { describeProgress, printOutcome } from '../outcome';
import { addPollingOptions, pollingFromOptions, type PollingOptions } from '../polling-options';
import { action, outputOf, type CliRun } from '../action';

/** `export`: start one export (idempotently), and with `--wait` follow it to its outcome. */

export interface ExportOptions extends PollingOptions {
  groupId?: string;
  cluster?: string;
  snapshotId?: string;
  bucketId?: string;
  customData?: string[];
  notifyWorkflowId?: string;
  workflowId?: string;
  wait?: boolean;
  progressInterval?: string;
}

const FLAG_OF_FIELD: Record<keyof ExportIds | 'customData' | 'notify' | 'polling', string> = {
  groupId: '--group-id',
  clusterName: '--cluster',
  snapshotId: '--snapshot-id',
  exportBucketId: '--bucket-id',
  customData: '--custom-data',
  notify: '--notify-workflow-id',
  polling: '--poll-*/--timeout',
};

export function exportCommand(run: CliRun): Command {
  const command = new Command('export')
    .summary('start an export of one snapshot into one bucket')
    .description('Start an export of one snapshot into one bucket (a second start attaches).')
    .option('--group-id <id>', 'Atlas project id (24 hex characters)')
    .option('--cluster <name>', 'cluster name')
    .option('--snapshot-id <id>', 'snapshot id (24 hex characters)')
    .option('--bucket-id <id>', 'export bucket id (24 hex characters)')
    .option('--custom-data <key=value,…>', "labels for the bucket's .complete file (repeatable)", collect)
    .option('--notify-workflow-id <id>', 'workflow to receive the exportCompleted signal')
    .option('--workflow-id <id>', 'default: atlas-export-<group>-<cluster>-<snapshot>-…');
  addPollingOptions(command)
    .option('--wait', 'follow progress; exit 0 on Successful, 1 otherwise')
    .option('--progress-interval <duration>', 'how often --wait asks (default 10s; 0: only wait)')
    .action(
      action(run, async (cmd: Command) => {
        const options = cmd.opts<ExportOptions>();
        // Everything is validated before connecting: an export started is not undone by a later bad flag.
        const input = exportInputFromOptions(options);
        const workflowId = workflowIdOption(options.workflowId);
        const intervalMs =
          options.progressInterval === undefined ? 10_000 : parseIntervalFlag(options.progressInterval);
        const out = outputOf(cmd);
        return withClient((client, taskQueue) =>
          runExport(client, { taskQueue, input, workflowId, wait: options.wait === true, intervalMs }, out)
        );
      })
    );
  return command;
}

/** `--custom-data`, repeatable, each `KEY=VALUE` or the Atlas CLI's `KEY=VALUE,KEY=VALUE`. */
export function customDataOption(values: readonly string[]): { key: string; value: string }[] {
  return values.flatMap((given) =>
    given.split(',').map((pair) => {
      const eq = pair.indexOf('=');
      if (eq <= 0) {
        const hint = given.includes(',') ? ' (items are separated by commas; a value cannot hold a comma)' : '';
        throw new UsageError(`--custom-data "${given}": "${pair}" is not KEY=VALUE${hint}`);
      }
      return { key: pair.slice(0, eq), value: pair.slice(eq + 1) };
    })
  );
}

/** Turns `export` options into a validated workflow input, naming the flag of any bad value. */
export function exportInputFromOptions(o: ExportOptions): ExportSnapshotInput {
  const customData = customDataOption(o.customData ?? []);
  const polling = pollingFromOptions(o);
  const input = {
    groupId: o.groupId,
    clusterName: o.cluster,
    snapshotId: o.snapshotId,
    exportBucketId: o.bucketId,
    ...(customData.length ? { customData } : {}),
    ...(o.notifyWorkflowId ? { notify: { workflowId: o.notifyWorkflowId } } : {}),
    ...(Object.keys(polling).length ? { polling } : {}),
  };
  const parsed = exportSnapshotInputSchema.safeParse(input);
  if (!parsed.success) {
    throw new UsageError(
      parsed.error.issues
        .map((i) => {
          const field = String(i.path[0] ?? '');
          const flag = (FLAG_OF_FIELD as Record<string, string>)[field] ?? field;
          const sub = i.path.slice(1).join('.');
          return `${flag}${sub ? ` (${sub})` : ''}: ${i.code === 'invalid_type' && i.message.includes('undefined') ? 'is required' : i.message}`;
        })
        .join('\n')
    );
  }
  return input as ExportSnapshotInput;
}

/**
 * Longest workflow id, in UTF-8 bytes: the server's default `limit.maxIDLength`, which it counts in bytes
 * (measured on Server 1.32: 1000 ASCII characters start; 334 "€", 1002 bytes, are refused).
 */
export const MAX_WORKFLOW_ID_BYTES = 1000;

/**
 * `--workflow-id`, or undefined when not given; a `UsageError` naming the flag when it is empty, too long, or has
 * control characters or edge whitespace (the server takes those, but nobody can then type the id back).
 */
export function workflowIdOption(id: string | undefined): string | undefined {
  if (id === undefined) return undefined;
  const bytes = Buffer.byteLength(id, 'utf8');
  const problem =
    id === ''
      ? 'must not be empty'
      : bytes > MAX_WORKFLOW_ID_BYTES
        ? `must be at most ${MAX_WORKFLOW_ID_BYTES} bytes (UTF-8), not ${bytes}`
        : /\p{Cc}/u.test(id)
          ? 'must not contain control characters (tabs, newlines, escapes)'
          : id.trim() !== id
            ? 'must not start or end with whitespace'
            : undefined;
  if (problem) throw new UsageError(`--workflow-id: ${problem}`);
  return id;
}

/** `--progress-interval`: 0, or a duration up to an hour (a longer timer would overflow and fire at once). */
export function parseIntervalFlag(v: string): number {
  if (v.trim() === '0') return 0;
  const parsed = durationSchema.safeParse(v);
  if (!parsed.success || parsed.data > MAX_CLI_INTERVAL_MS) {
    throw new UsageError(`--progress-interval "${v}": expected a duration such as 10s (at most 1h), or 0`);
  }
  return parsed.data;
}

interface ExportRequest {
  taskQueue: string;
  input: ExportSnapshotInput;
  workflowId: string | undefined;
  wait: boolean;
  intervalMs: number;
}

async function runExport(client: Client, r: ExportRequest, out: Output): Promise<number> {
  // Idempotent: a second start of the same export attaches to the running one (started: false, exact even under
  // racing starts), and a finished success is not redone.
  const { workflowId, runId, started } = await startExport(client, r.input, {
    taskQueue: r.taskQueue,
    ...(r.workflowId !== undefined ? { workflowId: r.workflowId } : {}),
  });
  out.line(
    started ? `Started export workflow ${workflowId}` : `Export workflow ${workflowId} already exists; attaching to it`
  );
  if (!r.wait) {
    out.result({ workflowId, runId, started });
    return ExitCode.Ok;
  }
  return follow(client.workflow.getHandle(workflowId), out, r.intervalMs);
}

/** Waits for the result while printing progress when it changes. Exit code 0 only on `Successful`. */
async function follow(handle: WorkflowHandle, out: Output, progressIntervalMs: number): Promise<number> {
  let done = false;
  let last = '';
  // Wakes the progress watcher as soon as the result is in, instead of after a full interval.
  let wake: () => void = () => undefined;
  const woken = new Promise<void>((r) => (wake = r));
  const watcher = (async () => {
    while (!done && progressIntervalMs > 0) {
      try {
        const text = describeProgress(await handle.query<ExportProgress>(EXPORT_PROGRESS_QUERY));
        if (text !== last) out.line(`${new Date().toISOString()} ${text}`);
        last = text;
      } catch {
        // The workflow may have just closed, or no worker is polling yet; the result decides.
      }
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([woken, new Promise((r) => (timer = setTimeout(r, progressIntervalMs)))]);
      clearTimeout(timer);
    }
  })();
  // Stop the progress lines before the outcome is printed, so none comes after it.
  await handle.result().catch(() => undefined);
  done = true;
  wake();
  await watcher;
  return printOutcome(handle, out);
}
