import { CancelledFailure } from '@temporalio/common';
import { WorkflowFailedError } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { SEARCH_ATTRIBUTES } from '../../src/shared/observability/search-attributes';
import { pollingInProgress, useExportSuite, waitForProgress } from '../helpers/export-harness';

const suite = useExportSuite();

describe('cancelling an export workflow (Atlas has no cancel API)', () => {
  it('stops polling, signals Detached with the last Atlas state, and leaves the Atlas job running', async () => {
    const { h, atlas, temporal } = suite;
    const snapshotId = h.freshSnapshot();
    // Two simulated hours in progress: it is still running long after the cancellation.
    atlas.sim.setExportPlan({ queuedMs: 30_000, inProgressMs: 7_200_000, totalCollections: 20 }, { snapshotId });
    const listener = await h.startListener(1);
    const handle = await h.start(h.input({ snapshotId, notify: { workflowId: listener.workflowId } }));
    await waitForProgress(handle, pollingInProgress);

    await handle.cancel();
    const err: unknown = await handle.result().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    expect((await handle.describe()).status.name).toBe('CANCELLED');

    const [completion] = await listener.result();
    expect(completion).toMatchObject({
      workflowId: handle.workflowId,
      state: 'Detached',
      detachedFrom: 'InProgress',
      terminal: false,
    });
    const [job] = h.jobsOf(handle.workflowId);
    expect(completion!.exportJobId).toBe(job!.id);
    // Atlas still runs it: nothing was (or could be) cancelled there.
    expect(job!.state).toBe('InProgress');
    expect((await handle.describe()).typedSearchAttributes.get(SEARCH_ATTRIBUTES.state)).toBe('Detached');
    // The UI's current details say so (served by the worker, as the Web UI asks for them).
    const metadata = await temporal.client.workflow
      .getHandle(handle.workflowId)
      .query<{ currentDetails?: string }>('__temporal_workflow_metadata');
    expect(JSON.stringify(metadata)).toContain('Detached');
    // No further status reads once cancelled.
    const readsAtEnd = h.requestsFor(job!.id, 'getExportJob').length;
    await new Promise((r) => setTimeout(r, 2_500));
    expect(h.requestsFor(job!.id, 'getExportJob').length).toBe(readsAtEnd);
  }, 60_000);
});
