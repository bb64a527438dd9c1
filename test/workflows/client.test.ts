import { describe, expect, it } from 'vitest';
import type { ExportCompletion, ExportProgress } from '../../src/shared/contract/export-contract';
import { FailureType } from '../../src/shared/contract/failure-types';
import { exportViaChild } from '../fixtures/caller-workflow';
import { useExportSuite } from '../helpers/export-harness';
import { runCli } from '../helpers/run-cli';
import { uniqueId } from '../helpers/temporal';

const suite = useExportSuite();

interface Started {
  workflowId: string;
  runId: string;
  started: boolean;
}

interface Report {
  first: Started;
  duplicate: Started;
  progress: ExportProgress | null;
  completion: ExportCompletion;
  afterwards: Started;
  parallel: Started[];
  failure: { error: string; failureType: string; completion: ExportCompletion | null; message: string };
  invalid: { error: string; failureType: string; message: string };
  workerOnlyModules: string[];
}

describe('typed client (src/client) used from another process', () => {
  it('starts idempotently by business key, reads progress, waits, and reports failures with their type', async () => {
    const { h, atlas } = suite;
    const snapshotId = h.freshSnapshot();
    const parallelSnapshotId = h.freshSnapshot();
    const failingSnapshotId = h.freshSnapshot();
    atlas.sim.setExportPlan(
      {
        queuedMs: 30_000,
        inProgressMs: 300_000,
        outcome: 'Failed',
        stateReason: { errorCode: 'E_S3', message: 'denied' },
      },
      { snapshotId: failingSnapshotId }
    );
    const businessKey = uniqueId('order');
    const parallelKey = uniqueId('order');
    const scenario = {
      taskQueue: suite.worker.taskQueue,
      businessKey,
      input: h.input({ snapshotId }),
      parallelKey,
      parallelInput: h.input({ snapshotId: parallelSnapshotId }),
      failingInput: h.input({ snapshotId: failingSnapshotId }),
    };
    const r = await runCli('test/fixtures/client-service.ts', [JSON.stringify(scenario)], {
      TEMPORAL_ADDRESS: suite.temporal.address,
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as Report;

    expect(report.first).toMatchObject({ workflowId: `atlas-export-key-${businessKey}`, started: true });
    // The duplicate start returned the same run, and said it did not start it.
    expect(report.duplicate).toEqual({ ...report.first, started: false });
    expect(report.progress?.phase).toMatch(/validating|creating|polling|notifying|done/);
    expect(report.completion).toMatchObject({ state: 'Successful', snapshotId, workflowId: report.first.workflowId });
    // Once it succeeded, a new start is not a new export either.
    expect(report.afterwards).toEqual({ ...report.first, started: false });
    // Two racing starts: one started it, both got the same run.
    expect(report.parallel.map((p) => p.started).sort()).toEqual([false, true]);
    expect(report.parallel[0]!.runId).toBe(report.parallel[1]!.runId);

    expect(report.failure).toMatchObject({
      error: 'ExportWorkflowError',
      failureType: FailureType.ExportFailed,
      completion: {
        state: 'Failed',
        snapshotId: failingSnapshotId,
        stateReason: { errorCode: 'E_S3', message: 'denied' },
      },
    });
    expect(report.invalid).toMatchObject({
      error: 'InvalidExportInputError',
      failureType: FailureType.InvalidExportInput,
    });
    expect(report.invalid.message).toContain('input.snapshotId: must be 24 lowercase hex characters');
    expect(report.workerOnlyModules).toEqual([]);

    for (const id of [snapshotId, parallelSnapshotId, failingSnapshotId]) {
      expect(atlas.sim.exportJobs().filter((j) => j.snapshotId === id)).toHaveLength(1);
    }
  });

  it('a caller workflow starts exportSnapshot as a child and receives its exportCompleted signal', async () => {
    const snapshotId = suite.h.freshSnapshot();
    const { polling, ...ids } = suite.h.input({ snapshotId });
    const completion = await suite.temporal.client.workflow.execute(exportViaChild, {
      taskQueue: suite.worker.taskQueue,
      workflowId: uniqueId('caller'),
      args: [{ ...ids, polling }],
    });
    expect(completion).toMatchObject({ state: 'Successful', snapshotId, terminal: true });
  });
});
