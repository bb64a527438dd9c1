import { Command } from 'commander';
import type { Client } from '@temporalio/client';
import { z } from 'zod';
import { atlasIdSchema, clusterNameSchema, EXPORT_JOB_STATES } from '../../shared/atlas/vocabulary';
import { durationSchema } from '../../shared/contract/durations';
import { EXPORT_SNAPSHOT_WORKFLOW } from '../../shared/contract/export-contract';
import { SEARCH_ATTRIBUTES, WORKFLOW_EXPORT_STATES } from '../../shared/observability/search-attributes';
import type { ExportIds } from '../../shared/contract/workflow-ids';
import { action, outputOf, type CliRun } from '../action';
import { CliError, ExitCode, terminalWidth, UsageError, type Output } from '../common';
import { withClient } from '../connect';
import { invalidArgumentDetail } from '../errors';
import { formatDuration } from '../progress-view';
import { elideShared, renderTable, shortTime, wrapList, type Column } from '../table';

/** `list`: recent exports through a visibility query, as a table that fits the terminal (or JSON). */

export interface ListOptions {
  state?: string;
  groupId?: string;
  cluster?: string;
  since?: string;
  limit?: string;
  query?: string;
  wide?: boolean;
}

/** Every value `AtlasExportState` takes: Atlas job states and the workflow's own. */
export const EXPORT_STATES: readonly string[] = [...EXPORT_JOB_STATES, ...Object.values(WORKFLOW_EXPORT_STATES)];

export function listCommand(run: CliRun): Command {
  return new Command('list')
    .summary('recent exports with state and progress')
    .description('Recent exports with state and progress (a visibility query).')
    .option('--state <state>', `e.g. failed, InProgress (any case; --help lists all)`)
    .option('--group-id <id>', 'only this Atlas project')
    .option('--cluster <name>', 'only this cluster')
    .option('--since <duration>', 'started at most this long ago (default 7d)')
    .option('--limit <n>', 'at most this many rows (default 20, at most 1000)')
    .option('--query <query>', 'extra visibility query ANDed to the filters')
    .option('--wide', 'every column and full ids (the table may be wider)')
    .addHelpText('after', `\n${wrapList('States (any case):', EXPORT_STATES)}`)
    .action(
      action(run, (cmd: Command) => {
        const { query, limit } = listQuery(cmd.opts<ListOptions>(), Date.now());
        const out = outputOf(cmd);
        const wide = cmd.opts<ListOptions>().wide === true;
        return withClient((client) => listExports(client, { query, limit, wide }, out));
      })
    );
}

/** `--state`, matched case-insensitively to a known state; unknown values are refused with the list. */
export function stateOption(given: string): string {
  const state = EXPORT_STATES.find((s) => s.toLowerCase() === given.trim().toLowerCase());
  if (state === undefined)
    throw new UsageError(`--state: "${given}" is not a state; one of ${EXPORT_STATES.join(', ')}`);
  return state;
}

const listOptionsSchema = z.object({
  state: z.string().optional(),
  groupId: atlasIdSchema.optional(),
  cluster: clusterNameSchema.optional(),
  since: durationSchema.default(7 * 24 * 3_600_000),
  limit: z.coerce.number().int().min(1).max(1_000).default(20),
  query: z.string().min(1).max(2_000).optional(),
});
const FLAG_OF_OPTION: Record<string, string> = { groupId: 'group-id' };

/** The visibility query `list` runs; exported for README examples and tests. */
export function listQuery(options: ListOptions, nowMs: number): { query: string; limit: number } {
  const { wide: _wide, state, ...filters } = options;
  const parsed = listOptionsSchema.safeParse({
    ...filters,
    ...(state !== undefined ? { state: stateOption(state) } : {}),
  });
  if (!parsed.success) {
    throw new UsageError(
      parsed.error.issues
        .map((i) => `--${FLAG_OF_OPTION[String(i.path[0])] ?? String(i.path[0])}: ${i.message}`)
        .join('\n')
    );
  }
  const f = parsed.data;
  const clauses = [
    `WorkflowType = '${EXPORT_SNAPSHOT_WORKFLOW}'`,
    // A long export continues as new: its earlier runs stay in visibility with their last values.
    `ExecutionStatus != 'ContinuedAsNew'`,
    `StartTime >= '${new Date(nowMs - f.since).toISOString()}'`,
    ...(f.state ? [`${SEARCH_ATTRIBUTES.state.name} = '${f.state}'`] : []),
    ...(f.groupId ? [`${SEARCH_ATTRIBUTES.groupId.name} = '${f.groupId}'`] : []),
    ...(f.cluster ? [`${SEARCH_ATTRIBUTES.clusterName.name} = '${f.cluster}'`] : []),
    ...(f.query ? [`(${f.query})`] : []),
  ];
  return { query: clauses.join(' AND '), limit: f.limit };
}

export type ListedExport = {
  workflowId: string;
  runId: string;
  status: string;
  state: string | null;
  progressPercent: number | null;
  exportJobId: string | null;
  startTime: string;
  closeTime: string | null;
} & { [K in Exclude<keyof ExportIds, 'exportBucketId'>]: string | null };

async function queryExports(client: Client, query: string, limit: number): Promise<ListedExport[]> {
  const rows: ListedExport[] = [];
  try {
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
  } catch (err) {
    const detail = invalidArgumentDetail(err);
    if (detail !== undefined)
      throw new CliError(ExitCode.Usage, 'invalid-query', `Temporal refused the query: ${detail}`);
    throw err;
  }
  return rows;
}

async function listExports(
  client: Client,
  o: { query: string; limit: number; wide: boolean },
  out: Output
): Promise<number> {
  const rows = await queryExports(client, o.query, o.limit);
  out.result({ query: o.query, exports: rows });
  if (out.json) return ExitCode.Ok;
  if (rows.length === 0) {
    out.line(`No exports match: ${o.query}`);
    return ExitCode.Ok;
  }
  exportsTable(rows, o.wide, Date.now()).forEach((l) => out.line(l));
  return ExitCode.Ok;
}

/** The rows as a table: within the terminal's width, or with `wide` every column and full ids. */
function exportsTable(rows: ListedExport[], wide: boolean, now: number): string[] {
  const took = (r: ListedExport) =>
    formatDuration((r.closeTime ? Date.parse(r.closeTime) : now) - Date.parse(r.startTime));
  const percent = (r: ListedExport) => (r.progressPercent === null ? '-' : `${r.progressPercent}%`);
  if (wide) {
    const columns = ['WORKFLOW ID', 'STATUS', 'STATE', 'PROGRESS', 'CLUSTER', 'EXPORT JOB', 'STARTED', 'DURATION'];
    const cells = rows.map((r) => [
      r.workflowId,
      r.status,
      r.state ?? '-',
      percent(r),
      r.clusterName ?? '-',
      r.exportJobId ?? '-',
      r.startTime.replace(/\.\d+Z$/, 'Z'),
      took(r),
    ]);
    return renderTable(
      columns.map((header) => ({ header })),
      cells
    ).lines;
  }
  // The cluster is part of the default workflow id; --wide has it as a column.
  const columns: Column[] = [
    { header: 'WORKFLOW ID', flex: true, min: 20 },
    { header: 'STATE', flex: true },
    { header: 'PROGRESS' },
    { header: 'STARTED' },
    { header: 'DURATION' },
  ];
  // The workflow's own status only where it says more than the state (terminated, cancelled, timed out).
  const stateOf = (r: ListedExport) =>
    ['RUNNING', 'COMPLETED', 'FAILED'].includes(r.status) ? (r.state ?? r.status) : r.status;
  const cellsWith = (ids: string[]) =>
    rows.map((r, i) => [ids[i]!, stateOf(r), percent(r), shortTime(r.startTime), took(r)]);
  const ids = rows.map((r) => r.workflowId);
  let table = renderTable(columns, cellsWith(ids), terminalWidth());
  if (!table.truncated) return table.lines;
  // Too wide: what all ids share (atlas-export-<group>-, -<bucket>) gives way first, so the rows differ.
  table = renderTable(columns, cellsWith(elideShared(ids)), terminalWidth());
  return [...table.lines, '(ids shortened: --wide for full ids and every column, --json for all fields)'];
}
