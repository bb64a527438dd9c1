import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { ExportCompletion, ExportProgress } from '../shared/contract/export-contract';
import { collectionCount } from '../shared/observability/progress-text';
import { ExitCode, type Output } from './common';

/** How an export ended, as `result`, `watch`, `export --wait` and `progress` (of a closed export) print it. */
export interface Outcome {
  exitCode: number;
  line: string;
  doc: Record<string, unknown>;
}

/** Waits for the result of an export workflow; exit code 0 only on `Successful`. */
export async function outcomeOf(handle: WorkflowHandle): Promise<Outcome> {
  try {
    const completion = (await handle.result()) as ExportCompletion;
    return {
      exitCode: completion.state === 'Successful' ? ExitCode.Ok : ExitCode.ExportNotSuccessful,
      line: `Export ${completion.exportJobId} ${completion.state}: ${completion.exportedCollections ?? '?'}/${completion.totalCollections ?? '?'} collections, prefix ${completion.prefix ?? '-'}`,
      doc: { workflowId: handle.workflowId, status: 'completed', result: completion },
    };
  } catch (err) {
    if (!(err instanceof WorkflowFailedError)) throw err;
    const cause = err.cause;
    const type = (cause instanceof ApplicationFailure ? cause.type : cause?.name) ?? null;
    const message = cause?.message ?? err.message;
    const detailsCause: unknown = cause instanceof ApplicationFailure ? cause.details?.[0] : undefined;
    return {
      exitCode: ExitCode.ExportNotSuccessful,
      line: `Export failed (${type ?? 'unknown'}): ${message}`,
      doc: {
        workflowId: handle.workflowId,
        status: 'failed',
        failure: { type, message },
        result: detailsCause ?? null,
      },
    };
  }
}

/** Waits for the result and prints it (or the typed failure); exit code 0 only on `Successful`. */
export async function printOutcome(handle: WorkflowHandle, out: Output): Promise<number> {
  const outcome = await outcomeOf(handle);
  out.line(outcome.line);
  out.result(outcome.doc);
  return outcome.exitCode;
}

/** One line of an export's progress: phase, state, counts, job and reads. */
export function describeProgress(p: ExportProgress): string {
  const counted = collectionCount(p);
  const count = counted ? ` ${counted}` : '';
  return `${p.phase}: ${p.state ?? 'no job yet'}${count} (job ${p.exportJobId ?? '-'}, ${p.polls} status reads)`;
}
