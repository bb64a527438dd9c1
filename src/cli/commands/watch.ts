import { setTimeout as delay } from 'node:timers/promises';
import { Command } from 'commander';
import type { Client, WorkflowExecutionDescription } from '@temporalio/client';
import { optionalTsToMs } from '@temporalio/common/lib/time';
import { WrongWorkflowTypeError } from '../../client/errors';
import { durationSchema } from '../../shared/contract/durations';
import {
  EXPORT_PROGRESS_QUERY,
  EXPORT_SNAPSHOT_WORKFLOW,
  type ExportProgress,
} from '../../shared/contract/export-contract';
import { SEARCH_ATTRIBUTES } from '../../shared/observability/search-attributes';
import { action, outputOf, type CliRun } from '../action';
import { ExitCode, MAX_CLI_INTERVAL_MS, terminalWidth, UsageError, type Output } from '../common';
import { withClient } from '../connect';
import { printOutcome } from '../outcome';
import { elapsedMs, renderLine, viewKey, type ProgressView } from '../progress-view';

/** `watch WORKFLOW_ID`: follow one export live until it ends. */
export function watchCommand(run: CliRun): Command {
  return new Command('watch')
    .summary('follow an export live until it ends')
    .description(
      'Follow an export until it ends: a live line in a terminal, plain lines\n' +
        'otherwise, one JSON line per change with --json. Exit 0 on Successful.'
    )
    .argument('<workflow-id>', "the export's workflow id")
    .option('--refresh <duration>', 'how often to look (1s in a terminal, 5s otherwise)')
    .action(
      action(run, (cmd: Command, workflowId: string) => {
        const { refresh } = cmd.opts<{ refresh?: string }>();
        if (refresh !== undefined) parseRefresh(refresh);
        const out = outputOf(cmd);
        return withClient((client) => commandWatch(client, workflowId, { refresh }, out));
      })
    );
}

/** `--refresh`: 200 ms to an hour (a longer timer would overflow and fire at once, polling in a tight loop). */
export function parseRefresh(value: string): number {
  const parsed = durationSchema.safeParse(/^\d+$/.test(value.trim()) ? Number(value) : value);
  if (!parsed.success || parsed.data < 200 || parsed.data > MAX_CLI_INTERVAL_MS) {
    throw new UsageError(`--refresh "${value}": expected a duration from 200ms to 1h, such as 2s`);
  }
  return parsed.data;
}

export interface WatchOptions {
  /** Draw a live line (TTY) instead of printing plain lines on change; default: whether stdout is a TTY. */
  tty?: boolean;
  write?: (text: string) => void;
  /** Columns the live line must fit in; default: the terminal's, read at every redraw (80 if unknown). */
  width?: () => number;
  /** Stops watching (e.g. Ctrl-C in `npm start`); the outcome is then not printed. */
  signal?: AbortSignal;
}

/**
 * Follows one export until its workflow closes: in a terminal a single redrawn line (bar, counts, state, elapsed,
 * next poll) that fits the terminal's width; otherwise one plain line per change; with `--json` one JSON object
 * per change. Then prints the outcome as `result` does and returns its exit code.
 */
export async function commandWatch(
  client: Client,
  workflowId: string,
  values: { refresh?: string | undefined },
  out: Output,
  options: WatchOptions = {}
): Promise<number> {
  const tty = (options.tty ?? process.stdout.isTTY === true) && !out.json;
  const write = options.write ?? ((text: string) => void process.stdout.write(text));
  const width = options.width ?? terminalWidth;
  const refreshMs = values.refresh === undefined ? (tty ? 1_000 : 5_000) : parseRefresh(values.refresh);
  const known: Known = { key: '', progress: null };
  let lastKey = '';
  // The start time may move later once the progress query answers, and the local clock may be ahead of the
  // server's close time: the elapsed time shown never goes back.
  let shownElapsedMs = 0;
  for (;;) {
    const view = await snapshotView(client, workflowId, known);
    const now = Date.now();
    shownElapsedMs = Math.max(shownElapsedMs, elapsedMs(view, now));
    const key = viewKey(view);
    if (tty) {
      write(`\r\x1b[2K${renderLine(view, now, { bar: true, width: width(), elapsedMs: shownElapsedMs })}`);
    } else if (key !== lastKey) {
      if (out.json) write(`${JSON.stringify({ type: 'progress', at: new Date(now).toISOString(), ...view })}\n`);
      else
        write(`${new Date(now).toISOString()} ${renderLine(view, now, { bar: false, elapsedMs: shownElapsedMs })}\n`);
    }
    lastKey = key;
    if (view.status !== 'RUNNING') break;
    await delay(refreshMs, undefined, options.signal ? { signal: options.signal } : {}).catch(() => undefined);
    if (options.signal?.aborted) break;
  }
  if (tty) write('\n');
  if (options.signal?.aborted) return ExitCode.ExportNotSuccessful;
  return printOutcome(client.workflow.getHandle(workflowId), out);
}

interface Known {
  key: string;
  progress: ExportProgress | null;
}

async function snapshotView(client: Client, workflowId: string, known: Known): Promise<ProgressView> {
  const handle = client.workflow.getHandle(workflowId);
  const d = await handle.describe();
  if (d.type !== EXPORT_SNAPSHOT_WORKFLOW)
    throw new WrongWorkflowTypeError(workflowId, EXPORT_SNAPSHOT_WORKFLOW, d.type);
  // describe() is free; the progress query is a billed action on Temporal Cloud. Ask it only when the history
  // grew (the workflow's progress changes only in a workflow task) or the run changed.
  const key = `${d.runId}:${d.historyLength}`;
  if (key !== known.key) {
    const progress = await handle.query<ExportProgress>(EXPORT_PROGRESS_QUERY).catch(() => null);
    if (progress) {
      known.progress = progress;
      known.key = key;
    }
  }
  return toView(workflowId, d, known.progress);
}

function toView(workflowId: string, d: WorkflowExecutionDescription, progress: ExportProgress | null): ProgressView {
  const pending = d.raw.pendingActivities ?? [];
  const nextAttempts = pending
    .map((a) => optionalTsToMs(a.nextAttemptScheduleTime))
    .filter((t): t is number => t !== undefined);
  // PENDING_ACTIVITY_STATE_STARTED = 2: an attempt is running right now.
  const running = pending.some((a) => Number(a.state) === 2);
  const sa = d.typedSearchAttributes;
  return {
    workflowId,
    status: d.status.name,
    phase: progress?.phase ?? null,
    // Once closed, the search attribute has the final word (DeadlineExceeded, Detached, …), not the job state.
    state:
      (d.status.name !== 'RUNNING' ? sa.get(SEARCH_ATTRIBUTES.state) : undefined) ??
      progress?.state ??
      sa.get(SEARCH_ATTRIBUTES.state) ??
      null,
    exportJobId: progress?.exportJobId ?? sa.get(SEARCH_ATTRIBUTES.exportJobId) ?? null,
    exportedCollections: progress?.exportedCollections ?? null,
    totalCollections: progress?.totalCollections ?? null,
    components: progress?.components ?? [],
    progressPercent: sa.get(SEARCH_ATTRIBUTES.progressPercent) ?? null,
    polls: progress?.polls ?? null,
    nextPollAtMs: running || nextAttempts.length === 0 ? null : Math.min(...nextAttempts),
    polling: running,
    startedAtMs: progress ? Date.parse(progress.startedAt) : d.startTime.getTime(),
    closedAtMs: d.closeTime ? d.closeTime.getTime() : null,
  };
}
