import { setTimeout as delay } from 'node:timers/promises';
import type { Client, WorkflowExecutionDescription } from '@temporalio/client';
import { optionalTsToMs } from '@temporalio/common/lib/time';
import { z } from 'zod';
import { atlasIdSchema, clusterNameSchema } from '../shared/atlas-vocabulary';
import { durationSchema } from '../shared/durations';
import { EXPORT_PROGRESS_QUERY, EXPORT_SNAPSHOT_WORKFLOW, type ExportProgress } from '../shared/export-contract';
import { SEARCH_ATTRIBUTES } from '../shared/search-attributes';
import { ExitCode, MAX_CLI_INTERVAL_MS, UsageError, stringFlag, type FlagValues, type Output } from './common';
import { printOutcome } from './export-commands';
import { formatDuration, renderLine, viewKey, type ProgressView } from './progress-view';

/** `watch` and `list`: following one export live, and finding exports through a visibility query. */

export const WATCH_USAGE = `  starter watch WORKFLOW_ID      live progress until the export ends (a bar in a terminal, plain lines otherwise);
      --refresh DURATION          how often to look (default 1s in a terminal, 5s otherwise)
                                  exit 0 on Successful, 1 otherwise; --json prints one JSON line per change
  starter list [filters]          recent exports with state and progress (a visibility query)
      --state STATE               AtlasExportState, e.g. Failed, InProgress, Successful, DeadlineExceeded
      --group-id ID  --cluster NAME  --since DURATION (e.g. 7d; default 7d)  --limit N (default 20)
      --query QUERY               extra visibility query ANDed to the filters`;

/** Resolves after `ms`, or at once when `signal` aborts. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return delay(ms, undefined, signal ? { signal } : {}).catch(() => undefined);
}

async function snapshotView(client: Client, workflowId: string, known: Known): Promise<ProgressView> {
  const handle = client.workflow.getHandle(workflowId);
  const d = await handle.describe();
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

interface Known {
  key: string;
  progress: ExportProgress | null;
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

export interface WatchOptions {
  /** Draw a live line (TTY) instead of printing plain lines on change; default: whether stdout is a TTY. */
  tty?: boolean;
  write?: (text: string) => void;
  /** Stops watching (e.g. Ctrl-C in `npm start`); the outcome is then not printed. */
  signal?: AbortSignal;
}

/**
 * Follows one export until its workflow closes: in a terminal a single redrawn line (bar, counts, state, elapsed,
 * next poll); otherwise one plain line per change; with `--json` one JSON object per change. Then prints the
 * outcome as `result` does and returns its exit code.
 */
export async function commandWatch(
  client: Client,
  workflowId: string,
  values: FlagValues,
  out: Output,
  options: WatchOptions = {}
): Promise<number> {
  const tty = (options.tty ?? process.stdout.isTTY === true) && !out.json;
  const write = options.write ?? ((text: string) => void process.stdout.write(text));
  const refresh = stringFlag(values, 'refresh');
  const refreshMs = refresh === undefined ? (tty ? 1_000 : 5_000) : parseRefresh(refresh);
  const known: Known = { key: '', progress: null };
  let lastKey = '';
  for (;;) {
    const view = await snapshotView(client, workflowId, known);
    const now = Date.now();
    const key = viewKey(view);
    if (tty) {
      write(`\r\x1b[2K${renderLine(view, now, true)}`);
    } else if (key !== lastKey) {
      if (out.json) write(`${JSON.stringify({ type: 'progress', at: new Date(now).toISOString(), ...view })}\n`);
      else write(`${new Date(now).toISOString()} ${renderLine(view, now, false)}\n`);
    }
    lastKey = key;
    if (view.status !== 'RUNNING') break;
    await sleep(refreshMs, options.signal);
    if (options.signal?.aborted) break;
  }
  if (tty) write('\n');
  if (options.signal?.aborted) return ExitCode.ExportNotSuccessful;
  return printOutcome(client.workflow.getHandle(workflowId), out);
}

/** `--refresh`: 200 ms to an hour (a longer timer would overflow and fire at once, polling in a tight loop). */
export function parseRefresh(value: string): number {
  const parsed = durationSchema.safeParse(/^\d+$/.test(value.trim()) ? Number(value) : value);
  if (!parsed.success || parsed.data < 200 || parsed.data > MAX_CLI_INTERVAL_MS) {
    throw new UsageError(`--refresh "${value}": expected a duration from 200ms to 1h, such as 2s`);
  }
  return parsed.data;
}

const listFlagsSchema = z.object({
  state: z
    .string()
    .regex(/^[A-Za-z]{1,40}$/, 'expected a state word such as Failed, InProgress or Successful')
    .optional(),
  'group-id': atlasIdSchema.optional(),
  cluster: clusterNameSchema.optional(),
  since: durationSchema.default(7 * 24 * 3_600_000),
  limit: z.coerce.number().int().min(1).max(1_000).default(20),
  query: z.string().min(1).max(2_000).optional(),
});

/** The visibility query `list` runs; exported for README examples and tests. */
export function listQuery(values: FlagValues, nowMs: number): { query: string; limit: number } {
  const parsed = listFlagsSchema.safeParse({
    state: stringFlag(values, 'state'),
    'group-id': stringFlag(values, 'group-id'),
    cluster: stringFlag(values, 'cluster'),
    since: stringFlag(values, 'since'),
    limit: stringFlag(values, 'limit'),
    query: stringFlag(values, 'query'),
  });
  if (!parsed.success) {
    throw new UsageError(parsed.error.issues.map((i) => `--${String(i.path[0])}: ${i.message}`).join('\n'));
  }
  const f = parsed.data;
  const clauses = [
    `WorkflowType = '${EXPORT_SNAPSHOT_WORKFLOW}'`,
    // A long export continues as new: its earlier runs stay in visibility with their last values.
    `ExecutionStatus != 'ContinuedAsNew'`,
    `StartTime >= '${new Date(nowMs - f.since).toISOString()}'`,
    ...(f.state ? [`${SEARCH_ATTRIBUTES.state.name} = '${f.state}'`] : []),
    ...(f['group-id'] ? [`${SEARCH_ATTRIBUTES.groupId.name} = '${f['group-id']}'`] : []),
    ...(f.cluster ? [`${SEARCH_ATTRIBUTES.clusterName.name} = '${f.cluster}'`] : []),
    ...(f.query ? [`(${f.query})`] : []),
  ];
  return { query: clauses.join(' AND '), limit: f.limit };
}

export interface ListedExport {
  workflowId: string;
  runId: string;
  status: string;
  state: string | null;
  progressPercent: number | null;
  groupId: string | null;
  clusterName: string | null;
  snapshotId: string | null;
  exportJobId: string | null;
  startTime: string;
  closeTime: string | null;
}

export async function commandList(client: Client, values: FlagValues, out: Output): Promise<number> {
  const { query, limit } = listQuery(values, Date.now());
  const rows: ListedExport[] = [];
  for await (const w of client.workflow.list({ query, pageSize: Math.min(limit, 100) })) {
    const sa = w.typedSearchAttributes;
    rows.push({
      workflowId: w.workflowId,
      runId: w.runId,
      status: w.status.name,
      state: sa.get(SEARCH_ATTRIBUTES.state) ?? null,
      progressPercent: sa.get(SEARCH_ATTRIBUTES.progressPercent) ?? null,
      groupId: sa.get(SEARCH_ATTRIBUTES.groupId) ?? null,
      clusterName: sa.get(SEARCH_ATTRIBUTES.clusterName) ?? null,
      snapshotId: sa.get(SEARCH_ATTRIBUTES.snapshotId) ?? null,
      exportJobId: sa.get(SEARCH_ATTRIBUTES.exportJobId) ?? null,
      startTime: w.startTime.toISOString(),
      closeTime: w.closeTime?.toISOString() ?? null,
    });
    if (rows.length >= limit) break;
  }
  out.result({ query, exports: rows });
  if (!out.json) {
    if (rows.length === 0) {
      out.line(`No exports match: ${query}`);
    } else {
      const now = Date.now();
      const table = [
        ['WORKFLOW ID', 'STATUS', 'STATE', 'PROGRESS', 'CLUSTER', 'EXPORT JOB', 'STARTED', 'DURATION'],
        ...rows.map((r) => [
          r.workflowId,
          r.status,
          r.state ?? '-',
          r.progressPercent === null ? '-' : `${r.progressPercent}%`,
          r.clusterName ?? '-',
          r.exportJobId ?? '-',
          r.startTime.replace(/\.\d+Z$/, 'Z'),
          formatDuration((r.closeTime ? Date.parse(r.closeTime) : now) - Date.parse(r.startTime)),
        ]),
      ];
      const widths = table[0]!.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
      for (const row of table)
        out.line(
          row
            .map((cell, i) => cell.padEnd(widths[i]!))
            .join('  ')
            .trimEnd()
        );
    }
  }
  return ExitCode.Ok;
}
