import { WorkflowFailedError } from '@temporalio/client';
import { CancelledFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { exportCompletionSchema, exportProgressSchema } from '../../src/shared/contract/export-contract';
import { FailureType } from '../../src/shared/contract/failure-types';
import { progressQuery, scheduledExport, summaryQuery } from '../../src/workflows';
import { failureOf, FAST_POLLING, pollingInProgress, useExportSuite, waitForProgress } from '../helpers/export-harness';
import { createFleet } from '../helpers/fleet';
import { uniqueId } from '../helpers/temporal';

/**
 * The workflow contract as other languages see it (issue 13, findings 5, 8 and 10): `null` for optional input
 * fields, every report field present, polling floors, no deadline before the input is valid, and a cancelled
 * scheduled run that ends cancelled with its running exports reported abandoned.
 */

// Exports take ~20 s of real time here: long enough to cancel a scheduled run while they run.
const suite = useExportSuite({ snapshotPlan: { queuedMs: 60_000, inProgressMs: 1_200_000 } });

describe('exportSnapshot contract for callers in any language', () => {
  it('accepts null for the optional fields and reports every documented field (detachedFrom: null)', async () => {
    const listener = await suite.h.startListener();
    const handle = await suite.h.start({
      ...suite.h.input({ snapshotId: suite.h.freshSnapshot(), notify: { workflowId: listener.workflowId } }),
      customData: null,
      ifAlreadyExported: null,
    });
    const result = await handle.result();
    expect(result.state).toBe('Successful');
    const [signalled] = await listener.result();
    // Present, not merely optional: a listener typed with every field gets all of them.
    for (const report of [result, signalled]) {
      expect(exportCompletionSchema.strict().parse(report)).toEqual(report);
      expect(report).toHaveProperty('detachedFrom', null);
      expect(report).toHaveProperty('attached', false);
    }
    const progress = await handle.query(progressQuery);
    expect(exportProgressSchema.strict().parse(progress)).toEqual(progress);
  });

  it('accepts notify: null and polling: null (the defaults)', async () => {
    const handle = await suite.h.start({ ...suite.h.input(), notify: null, polling: null });
    // The default cadence waits a minute before its first read: the start was accepted, the job created.
    const progress = await waitForProgress(handle, (p) => p.phase === 'polling');
    expect(progress.exportJobId).not.toBeNull();
    expect(progress.deadlineAt).not.toBeNull();
    await handle.terminate('test done');
  });

  it.each([
    ['attemptTimeout', 1],
    ['reportInterval', 1],
    ['initialInterval', 1],
  ])('refuses polling.%s of %j ms (below the 1 s floor) before any Atlas call', async (field, value) => {
    const snapshotId = suite.h.freshSnapshot();
    const listener = await suite.h.startListener();
    const handle = await suite.h.start(
      suite.h.input({ snapshotId, notify: { workflowId: listener.workflowId }, polling: { [field]: value } })
    );
    const failure = await failureOf(handle);
    expect(failure.type).toBe(FailureType.InvalidExportInput);
    expect(failure.message).toContain(`input.polling.${field}: must be at least 1s`);
    expect(suite.h.requestsFor(snapshotId, 'createExportJob')).toHaveLength(0);
    // No deadline is claimed for an input that was never valid; the listener still hears the ending.
    expect((await handle.query(progressQuery)).deadlineAt).toBeNull();
    const [signalled] = await listener.result();
    expect(signalled).toMatchObject({ state: 'InvalidInput', exportJobId: null, detachedFrom: null });
  });

  it('a cancelled export reports detachedFrom with the last Atlas state', async () => {
    const listener = await suite.h.startListener();
    const handle = await suite.h.start(
      suite.h.input({ snapshotId: suite.h.freshSnapshot(), notify: { workflowId: listener.workflowId } })
    );
    await waitForProgress(handle, pollingInProgress, 60_000);
    await handle.cancel();
    const [signalled] = await listener.result();
    expect(signalled).toMatchObject({ state: 'Detached', detachedFrom: 'InProgress' });
  });
});

describe('scheduledExport cancelled while its exports run', () => {
  it('ends cancelled (not ScheduledExportFailed) and reports the running exports abandoned, still exporting', async () => {
    const fleet = createFleet(suite.atlas.sim, 3);
    const handle = await suite.temporal.client.workflow.start(scheduledExport, {
      taskQueue: suite.worker.taskQueue,
      workflowId: uniqueId('scheduled-cancel'),
      args: [{ targets: fleet.targets, concurrency: 2, polling: FAST_POLLING }],
    });
    const deadline = Date.now() + 60_000;
    let exporting = 0;
    while (exporting < 2 && Date.now() < deadline) {
      const s = await handle.query(summaryQuery).catch(() => undefined);
      exporting = s?.targets.filter((t) => t.state === 'Exporting').length ?? 0;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(exporting).toBe(2);
    await handle.cancel();

    const err = await handle.result().then(
      () => undefined,
      (e: unknown) => e
    );
    expect(err).toBeInstanceOf(WorkflowFailedError);
    expect((err as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    const summary = await handle.query(summaryQuery);
    expect(summary.counts).toMatchObject({ abandoned: 2, cancelled: 1, failed: 0 });
    const abandoned = summary.targets.filter((t) => t.state === 'Abandoned');
    expect(abandoned).toHaveLength(2);
    // Abandoned means still exporting: their export workflows keep running.
    for (const t of abandoned) {
      expect(t.note).toContain('keeps running');
      const child = suite.temporal.client.workflow.getHandle(t.childWorkflowId!);
      expect((await child.describe()).status.name).toBe('RUNNING');
      await child.terminate('test done');
    }
  });
});
