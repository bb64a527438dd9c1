import type { Client } from '@temporalio/client';
import {
  SCHEDULED_EXPORT_SUMMARY_QUERY,
  SCHEDULED_EXPORT_WORKFLOW,
  type ScheduledExportSummary,
} from '../shared/contract/scheduled-export-contract';
import { WrongWorkflowTypeError } from './errors';

/** The per-target summary of a `scheduledExport` run (the `summary` query; it also answers once the run closed). */
export function getScheduledExportSummary(client: Client, workflowId: string): Promise<ScheduledExportSummary> {
  return client.workflow.getHandle(workflowId).query<ScheduledExportSummary>(SCHEDULED_EXPORT_SUMMARY_QUERY);
}

export interface ScheduledRunReport {
  summary: ScheduledExportSummary;
  /** Temporal's execution status of the run (`RUNNING`, `COMPLETED`, `FAILED`, `TERMINATED`, …). */
  status: string;
  /** No target failed, and the run is going or completed (not failed, terminated, cancelled or timed out). */
  healthy: boolean;
}

/**
 * A scheduled run's summary with its execution status. Throws `WrongWorkflowTypeError` when the id names another
 * workflow (an export's id, say), and `WorkflowNotFoundError` when it names none.
 */
export async function getScheduledRunReport(client: Client, workflowId: string): Promise<ScheduledRunReport> {
  const handle = client.workflow.getHandle(workflowId);
  const { type } = await handle.describe();
  if (type !== SCHEDULED_EXPORT_WORKFLOW) throw new WrongWorkflowTypeError(workflowId, SCHEDULED_EXPORT_WORKFLOW, type);
  const summary = await handle.query<ScheduledExportSummary>(SCHEDULED_EXPORT_SUMMARY_QUERY);
  // Failed targets are not the only way a run goes wrong: it may have failed validation, been terminated or
  // timed out. Only a run that completed with no failed target (or is still running without one) is healthy.
  const { status } = await handle.describe();
  const going = status.name === 'COMPLETED' || status.name === 'RUNNING' || status.name === 'CONTINUED_AS_NEW';
  return { summary, status: status.name, healthy: going && summary.counts.failed === 0 };
}
