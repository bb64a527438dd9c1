import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import {
  ATLAS_EVENT_HINT_SIGNAL,
  EXPORT_SNAPSHOT_WORKFLOW,
  type AtlasEventHint,
} from '../shared/contract/export-contract';
import { SEARCH_ATTRIBUTES } from '../shared/observability/search-attributes';
import type { AtlasAlert } from './atlas-alert';

/**
 * The visibility query for a project's running exports. `groupId` is 24 hexadecimal digits (the alert schema
 * checked it), so it cannot break out of the quotes.
 */
export function openExportsQuery(groupId: string): string {
  if (!/^[a-f0-9]{24}$/.test(groupId)) throw new Error('groupId must be 24 hexadecimal digits');
  return `${SEARCH_ATTRIBUTES.groupId.name} = '${groupId}' AND ExecutionStatus = 'Running' AND WorkflowType = '${EXPORT_SNAPSHOT_WORKFLOW}'`;
}

/**
 * Signals `atlasEventHint` to every running `exportSnapshot` of the alert's project (the alert names the project,
 * not the job), and resolves to how many were signalled. A run that ended meanwhile is skipped; any other failure
 * rejects, so the delivery is answered 503 and Atlas sends it again.
 */
export async function wakeProjectExports(client: Client, alert: AtlasAlert): Promise<number> {
  const hint: AtlasEventHint = { eventTypeName: alert.eventTypeName, alertId: alert.id };
  let signalled = 0;
  for await (const run of client.workflow.list({ query: openExportsQuery(alert.groupId) })) {
    try {
      await client.workflow
        .getHandle(run.workflowId, run.runId)
        .signal<[AtlasEventHint]>(ATLAS_EVENT_HINT_SIGNAL, hint);
      signalled += 1;
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
  }
  return signalled;
}
