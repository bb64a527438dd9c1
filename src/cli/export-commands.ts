import { WorkflowFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import {
  EXPORT_PROGRESS_QUERY,
  exportSnapshotInputSchema,
  type ExportCompletion,
  type ExportProgress,
  type ExportSnapshotInput,
} from '../shared/export-contract';
import { durationSchema } from '../shared/durations';
import { collectionCount } from '../shared/progress-text';
import { startExport } from '../client/exports';
import { ExitCode, MAX_CLI_INTERVAL_MS, UsageError, type FlagValues, type Output } from './common';

/** `export`, `progress` and `result`: one export at a time. */

export const EXPORT_USAGE = `  starter export --group-id ID --cluster NAME --snapshot-id ID --bucket-id ID [options]
      --custom-data KEY=VALUE      label written to the bucket's .complete file (repeatable)
      --notify-workflow-id ID      workflow to receive the exportCompleted signal
      --workflow-id ID             default: atlas-export-<group>-<cluster>-<snapshot>-<bucket>; at most 1000 bytes
      --poll-mode MODE             adaptive (default), fixed or exponential
      --poll-min DURATION          adaptive: finest step near the estimated finish (default 10s)
      --poll-interval DURATION     fixed: the interval (default 60s)
      --poll-initial DURATION      fixed, exponential: first poll after creating the job (e.g. 30s)
      --poll-max DURATION          adaptive, exponential: longest wait between reads (e.g. 10m)
      --poll-backoff NUMBER        exponential: backoff coefficient (e.g. 1.5)
      --timeout DURATION           stop waiting after this long (e.g. 48h)
      --wait                       follow progress; exit 0 on Successful, 1 otherwise
      --progress-interval DURATION how often --wait asks for progress (default 10s; 0 to only wait)
  starter progress WORKFLOW_ID     print the live progress of an export
  starter result WORKFLOW_ID       wait for an export's result; exit 0 on Successful, 1 otherwise`;

const FLAG_OF_FIELD: Record<string, string> = {
  groupId: '--group-id',
  clusterName: '--cluster',
  snapshotId: '--snapshot-id',
  exportBucketId: '--bucket-id',
  customData: '--custom-data',
  notify: '--notify-workflow-id',
  polling: '--poll-*/--timeout',
};

/**
 * Longest workflow id, in UTF-8 bytes: the server's default `limit.maxIDLength`, which it counts in bytes
 * (measured on Server 1.32: 1000 ASCII characters start; 334 "€", 1002 bytes, are refused).
 */
export const MAX_WORKFLOW_ID_BYTES = 1000;

function workflowIdProblem(id: string): string | undefined {
  if (id === '') return 'must not be empty';
  const bytes = Buffer.byteLength(id, 'utf8');
  if (bytes > MAX_WORKFLOW_ID_BYTES) return `must be at most ${MAX_WORKFLOW_ID_BYTES} bytes (UTF-8), not ${bytes}`;
  if (/\p{Cc}/u.test(id)) return 'must not contain control characters (tabs, newlines, escapes)';
  if (id.trim() !== id) return 'must not start or end with whitespace';
  return undefined;
}

/**
 * `--workflow-id`, or undefined when not given; a `UsageError` naming the flag when it is empty, too long, or has
 * control characters or edge whitespace (the server takes those, but nobody can then type the id back).
 */
export function workflowIdFromFlags(values: FlagValues): string | undefined {
  const id = values['workflow-id'];
  if (typeof id !== 'string') return undefined;
  const problem = workflowIdProblem(id);
  if (problem) throw new UsageError(`--workflow-id: ${problem}`);
  return id;
}

/** `polling` input from the `--poll-*` flags and `--timeout` (only those given). */
export function pollingFromFlags(values: FlagValues): Record<string, string | number> {
  const str = (k: string) => (typeof values[k] === 'string' ? values[k] : undefined);
  const backoff = str('poll-backoff');
  if (backoff !== undefined && !/^\d+(\.\d+)?$/.test(backoff))
    throw new UsageError(`--poll-backoff "${backoff}": expected a number`);
  return Object.fromEntries(
    Object.entries({
      mode: str('poll-mode'),
      minimumInterval: str('poll-min'),
      interval: str('poll-interval'),
      initialInterval: str('poll-initial'),
      maximumInterval: str('poll-max'),
      backoffCoefficient: backoff === undefined ? undefined : Number(backoff),
      timeout: str('timeout'),
    }).filter((e): e is [string, string | number] => e[1] !== undefined)
  );
}

/** Turns `export` flags into a validated workflow input, naming the flag of any bad value. */
export function exportInputFromFlags(values: FlagValues): ExportSnapshotInput {
  const str = (k: string) => (typeof values[k] === 'string' ? values[k] : undefined);
  const customData = ((values['custom-data'] as string[] | undefined) ?? []).map((pair) => {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--custom-data "${pair}": expected KEY=VALUE`);
    return { key: pair.slice(0, eq), value: pair.slice(eq + 1) };
  });
  const polling = pollingFromFlags(values);
  const input = {
    groupId: str('group-id'),
    clusterName: str('cluster'),
    snapshotId: str('snapshot-id'),
    exportBucketId: str('bucket-id'),
    ...(customData.length ? { customData } : {}),
    ...(str('notify-workflow-id') ? { notify: { workflowId: str('notify-workflow-id') } } : {}),
    ...(Object.keys(polling).length ? { polling } : {}),
  };
  const parsed = exportSnapshotInputSchema.safeParse(input);
  if (!parsed.success) {
    throw new UsageError(
      parsed.error.issues
        .map((i) => {
          const field = String(i.path[0] ?? '');
          const flag = FLAG_OF_FIELD[field] ?? field;
          const sub = i.path.slice(1).join('.');
          return `${flag}${sub ? ` (${sub})` : ''}: ${i.code === 'invalid_type' && i.message.includes('undefined') ? 'is required' : i.message}`;
        })
        .join('\n')
    );
  }
  return input as ExportSnapshotInput;
}

function describeProgress(p: ExportProgress): string {
  const counted = collectionCount(p);
  const count = counted ? ` ${counted}` : '';
  return `${p.phase}: ${p.state ?? 'no job yet'}${count} (job ${p.exportJobId ?? '-'}, ${p.polls} status reads)`;
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

/** Waits for the result and prints it (or the typed failure); exit code 0 only on `Successful`. */
export async function printOutcome(handle: WorkflowHandle, out: Output): Promise<number> {
  try {
    const completion = (await handle.result()) as ExportCompletion;
    out.line(
      `Export ${completion.exportJobId} ${completion.state}: ${completion.exportedCollections ?? '?'}/${completion.totalCollections ?? '?'} collections, prefix ${completion.prefix ?? '-'}`
    );
    out.result({ workflowId: handle.workflowId, status: 'completed', result: completion });
    return completion.state === 'Successful' ? ExitCode.Ok : ExitCode.ExportNotSuccessful;
  } catch (err) {
    if (!(err instanceof WorkflowFailedError)) throw err;
    const cause = err.cause;
    const type = cause instanceof ApplicationFailure ? cause.type : cause?.name;
    const message = cause?.message ?? err.message;
    const detailsCause = cause instanceof ApplicationFailure ? cause.details?.[0] : undefined;
    out.line(`Export failed (${type ?? 'unknown'}): ${message}`);
    out.result({
      workflowId: handle.workflowId,
      status: 'failed',
      failure: { type: type ?? null, message },
      result: detailsCause ?? null,
    });
    return ExitCode.ExportNotSuccessful;
  }
}

export async function commandExport(
  client: Client,
  taskQueue: string,
  values: FlagValues,
  out: Output
): Promise<number> {
  const input = exportInputFromFlags(values);
  const chosenId = workflowIdFromFlags(values);
  // Idempotent: a second start of the same export attaches to the running one (started: false, exact even under
  // racing starts), and a finished success is not redone.
  const { workflowId, runId, started } = await startExport(client, input, {
    taskQueue,
    ...(chosenId !== undefined ? { workflowId: chosenId } : {}),
  });
  const handle = client.workflow.getHandle(workflowId);
  out.line(
    started ? `Started export workflow ${workflowId}` : `Export workflow ${workflowId} already exists; attaching to it`
  );
  if (!values.wait) {
    out.result({ workflowId, runId, started });
    return ExitCode.Ok;
  }
  return follow(
    handle,
    out,
    typeof values['progress-interval'] === 'string' ? parseIntervalFlag(values['progress-interval']) : 10_000
  );
}

export async function commandProgress(client: Client, workflowId: string, out: Output): Promise<number> {
  const progress = await client.workflow.getHandle(workflowId).query<ExportProgress>(EXPORT_PROGRESS_QUERY);
  out.line(describeProgress(progress));
  const c = progress.cadence;
  if (c?.nextPollAt) out.line(`next status read ${c.nextPollAt} (${c.mode}, ${c.phase}): ${c.reason}`);
  out.result(progress);
  return ExitCode.Ok;
}

export function commandResult(client: Client, workflowId: string, out: Output): Promise<number> {
  return follow(client.workflow.getHandle(workflowId), out, 0);
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
