import type { Client } from '@temporalio/client';
import { SCHEDULED_EXPORT_SUMMARY_QUERY, type ScheduledExportSummary } from '../shared/scheduled-export-contract';

/** The per-target summary of a `scheduledExport` run (the `summary` query; it also answers once the run closed). */
export function getScheduledExportSummary(client: Client, workflowId: string): Promise<ScheduledExportSummary> {
  return client.workflow.getHandle(workflowId).query<ScheduledExportSummary>(SCHEDULED_EXPORT_SUMMARY_QUERY);
}
