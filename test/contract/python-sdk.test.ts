import { describe, expect, it } from 'vitest';
import {
  DEFAULT_TASK_QUEUE,
  EXPORT_COMPLETED_SIGNAL,
  EXPORT_PROGRESS_QUERY,
  EXPORT_SNAPSHOT_WORKFLOW,
} from '../../src/shared/contract/export-contract';
import { FailureType } from '../../src/shared/contract/failure-types';
import { exportWorkflowId } from '../../src/shared/contract/workflow-ids';
import { useExportSuite } from '../helpers/export-harness';
import { pythonPeers, readSchema, runPython } from '../helpers/python-peers';
import { uniqueId } from '../helpers/temporal';

/**
 * Temporal's Python SDK as an outside caller of `exportSnapshot` (test/python/contract_peer.py): it starts exports
 * by name with plain dicts, reads `progress` and receives `exportCompleted` in a Python listener workflow whose
 * signal parameter is a dataclass built from schemas/export-completion.schema.json. The SDK drops a signal that
 * does not decode into it, so a completion that misses a documented field never reaches the listener.
 */

const peers = pythonPeers();
const CI = process.env.CI === 'true';
if (peers.reason !== undefined && !CI) {
  console.warn(`[python-sdk.test] SKIPPED: ${peers.reason}`);
}

/** Atlas runs 600× real time in the simulator; the workflow's cadence is told so. */
const TIME_SCALE = 600;
/** An Atlas job that runs for 20 simulated hours (2 min real): still InProgress when a test cancels or gives up on it. */
const LONG_PLAN = { queuedMs: 30_000, inProgressMs: 72_000_000, totalCollections: 20 };
const REFUSED_CLUSTER = 'python-refused';

interface Typed {
  ok: boolean;
  value?: Record<string, unknown>;
  error?: string;
}
interface ExportReport {
  workflowId: string;
  progress: { seen: [string, string | null][]; atCancel: Record<string, unknown> | null; errors: string[] };
  outcome: {
    status: 'completed' | 'failed';
    cancelled: boolean;
    cause?: string;
    failureType?: string;
    message?: string;
    rawCompletion: Record<string, unknown> | null;
    typedCompletion?: Typed;
    schemaErrors?: string[];
  };
  finalProgress: Typed & { raw?: Record<string, unknown>; schemaErrors?: string[] };
  listener: { completed: boolean; received: { type: string; value: Record<string, unknown> }[] };
}
interface PeerReport {
  sdkVersion: string;
  constants: Record<string, string>;
  completionFields: { name: string; required: boolean; type: string }[];
  progressFields: { name: string; required: boolean; type: string }[];
  detachedFromCheck: { with: Typed; without: Typed } | null;
  exports: Record<string, ExportReport>;
}

/** Under CI=true the suite runs without the peers, and fails here saying why. */
function requirePeers(): void {
  if (peers.reason !== undefined) throw new Error(`CI=true needs the Python peers: ${peers.reason}`);
}

describe.skipIf(peers.reason !== undefined && !CI)('Temporal Python SDK as a caller (temporalio 1.35.0)', () => {
  const suite = useExportSuite();

  it('starts exportSnapshot by name, reads progress, and its typed listener receives exportCompleted for every ending', async () => {
    requirePeers();
    const { h, atlas } = suite;
    const f = atlas.fixtures;
    const snapshot = (plan?: Parameters<typeof atlas.sim.setExportPlan>[0]) => {
      const snapshotId = h.freshSnapshot();
      if (plan) atlas.sim.setExportPlan(plan, { snapshotId });
      return snapshotId;
    };
    atlas.sim.addCluster(f.groupId, REFUSED_CLUSTER);
    const refusedSnapshot = atlas.sim.addSnapshot(f.groupId, REFUSED_CLUSTER, { status: 'completed' });
    // Atlas refuses the create of this cluster's export only, whichever scenario reaches Atlas first.
    atlas.sim.injectFaults({
      operation: 'createExportJob',
      pathIncludes: `/clusters/${REFUSED_CLUSTER}/`,
      kind: 'status',
      status: 404,
      errorCode: 'EXPORT_BUCKET_NOT_FOUND',
    });

    const polling = { timeScale: TIME_SCALE, timeout: '2m' };
    const ids = (snapshotId: string, clusterName = f.clusterName) => ({
      groupId: f.groupId,
      clusterName,
      snapshotId,
      exportBucketId: f.exportBucketId,
    });
    const spec = (name: string, input: Record<string, unknown>, extra: Record<string, unknown> = {}) => {
      const listenerId = uniqueId(`py-listener-${name}`);
      const valid = typeof input.snapshotId === 'string' && /^[0-9a-f]{24}$/.test(input.snapshotId);
      return {
        name,
        listenerId,
        workflowId: valid ? exportWorkflowId(input as ReturnType<typeof ids>) : uniqueId(`py-export-${name}`),
        input: { ...input, notify: { workflowId: listenerId } },
        ...extra,
      };
    };
    const failedSnapshot = snapshot({
      queuedMs: 30_000,
      inProgressMs: 300_000,
      outcome: 'Failed',
      stateReason: { errorCode: 'E_S3', message: 'denied' },
    });
    const exports = [
      spec('Successful', { ...ids(snapshot()), polling }),
      // Python callers write None for what they leave out; the input accepts null for every optional field.
      spec('SuccessfulWithNulls', { ...ids(snapshot()), customData: null, polling }),
      spec('Failed', { ...ids(failedSnapshot), polling }),
      spec('CreateFailed', { ...ids(refusedSnapshot, REFUSED_CLUSTER), polling }),
      spec('InvalidInput', { ...ids('not-a-snapshot-id'), polling }),
      spec(
        'Detached',
        { ...ids(snapshot(LONG_PLAN)), polling },
        { cancelWhen: { phase: 'polling', state: 'InProgress' } }
      ),
      // Long enough to create the job (the create needs the worker's Atlas request timeout, 5 s here, plus 1 s left).
      spec('DeadlineExceeded', { ...ids(snapshot(LONG_PLAN)), polling: { ...polling, timeout: '10s' } }),
    ];

    const run = await runPython(peers.python!, 'test/python/contract_peer.py', [], {
      stdin: JSON.stringify({
        temporalAddress: suite.temporal.address,
        namespace: 'default',
        exportTaskQueue: suite.worker.taskQueue,
        listenerTaskQueue: uniqueId('py-listeners'),
        exports,
        idsForConvention: [f.groupId, f.clusterName, f.snapshotId, f.exportBucketId],
      }),
    });
    expect(run.code, `Python peer failed:\n${run.stderr}`).toBe(0);
    const report = JSON.parse(run.stdout) as PeerReport;
    const pythonLog = `Python peer stderr:\n${run.stderr.slice(0, 3000)}`;

    // The Python side speaks the same names, and derives the same default workflow id.
    expect(report.sdkVersion).toBe('1.35.0');
    expect(report.constants).toEqual({
      workflow: EXPORT_SNAPSHOT_WORKFLOW,
      taskQueue: DEFAULT_TASK_QUEUE,
      signal: EXPORT_COMPLETED_SIGNAL,
      query: EXPORT_PROGRESS_QUERY,
      workflowId: exportWorkflowId(ids(f.snapshotId)),
    });
    // The dataclasses are the schemas: one field per property, required exactly when the schema says so.
    for (const [fields, file] of [
      [report.completionFields, 'export-completion.schema.json'],
      [report.progressFields, 'export-progress.schema.json'],
    ] as const) {
      const schema = readSchema(file);
      expect(fields.map((x) => x.name).sort()).toEqual(Object.keys(schema.properties).sort());
      expect(
        fields
          .filter((x) => x.required)
          .map((x) => x.name)
          .sort()
      ).toEqual([...(schema.required ?? [])].sort());
    }
    // Why the field matters: a real completion decodes with detachedFrom and not without it (the SDK would drop
    // such a signal), so the schema's required list is what a typed Python listener enforces.
    expect.soft(report.detachedFromCheck?.with).toMatchObject({ ok: true });
    expect.soft(report.detachedFromCheck?.without.ok).toBe(false);
    expect.soft(report.detachedFromCheck?.without.error).toContain('detachedFrom');

    const byName = report.exports;
    // What the Python listener decoded for an export ({} when no signal got through).
    const received = (name: string) => byName[name]!.listener.received[0]?.value ?? {};
    const jobOf = (name: string) => h.jobsOf(byName[name]!.workflowId);
    // The SDK logs each signal it could not decode into the dataclass, then drops it.
    expect.soft(run.stderr.match(/dropping the signal/g) ?? [], pythonLog).toEqual([]);

    for (const { name, workflowId, listenerId } of exports) {
      const r = byName[name]!;
      const about = (what: string, value: unknown) => `${name}: ${what} ${JSON.stringify(value)}`;
      expect.soft(r.workflowId, name).toBe(workflowId);
      // Every ending reached the typed listener once, decoded into the schema's dataclass.
      expect.soft(r.listener.completed, about('listener', r.listener)).toBe(true);
      expect
        .soft(
          r.listener.received.map((x) => x.type),
          name
        )
        .toEqual(['ExportCompletion']);
      expect.soft(received(name).workflowId, name).toBe(workflowId);
      // Each export created its own job: none followed another caller's.
      expect.soft(received(name).attached, name).toBe(false);
      // The progress query answered in the published shape, and it says the signal was delivered.
      expect.soft(r.progress.errors, name).toEqual([]);
      expect
        .soft(r.finalProgress, about('final progress', r.finalProgress))
        .toMatchObject({ ok: true, schemaErrors: [] });
      expect.soft(r.finalProgress.raw, name).toMatchObject({
        phase: 'done',
        notify: { workflowId: listenerId, delivered: true, error: null },
      });
      // The result, or the failure's details, is the same completion in the same shape.
      if (r.outcome.rawCompletion !== null) {
        expect.soft(r.outcome.typedCompletion, about('result', r.outcome)).toMatchObject({ ok: true });
        expect.soft(r.outcome.schemaErrors, name).toEqual([]);
        expect.soft(received(name), name).toEqual(r.outcome.rawCompletion);
      }
    }

    for (const name of ['Successful', 'SuccessfulWithNulls']) {
      expect.soft(byName[name]!.outcome, name).toMatchObject({ status: 'completed' });
      expect.soft(received(name), name).toMatchObject({ state: 'Successful', terminal: true, detachedFrom: null });
      expect.soft(received(name).exportJobId, name).toBe(jobOf(name)[0]?.id);
    }

    expect.soft(byName.Failed!.outcome).toMatchObject({ status: 'failed', failureType: FailureType.ExportFailed });
    expect.soft(received('Failed')).toMatchObject({
      state: 'Failed',
      terminal: true,
      stateReason: { errorCode: 'E_S3', message: 'denied' },
      detachedFrom: null,
    });

    expect
      .soft(byName.CreateFailed!.outcome)
      .toMatchObject({ status: 'failed', failureType: 'EXPORT_BUCKET_NOT_FOUND' });
    expect
      .soft(received('CreateFailed'))
      .toMatchObject({ state: 'CreateFailed', exportJobId: null, detachedFrom: null });
    expect.soft(jobOf('CreateFailed')).toHaveLength(0);

    expect
      .soft(byName.InvalidInput!.outcome)
      .toMatchObject({ status: 'failed', failureType: FailureType.InvalidExportInput });
    expect.soft(byName.InvalidInput!.outcome.message).toContain('input.snapshotId');
    expect
      .soft(received('InvalidInput'))
      .toMatchObject({ state: 'InvalidInput', exportJobId: null, detachedFrom: null });
    // Nothing was validated, so there is no deadline.
    expect.soft(byName.InvalidInput!.finalProgress.raw?.deadlineAt).toBeNull();

    const detached = byName.Detached!;
    expect.soft(detached.outcome).toMatchObject({ status: 'failed', cancelled: true, cause: 'CancelledError' });
    expect.soft(detached.progress.atCancel).toMatchObject({ phase: 'polling', state: 'InProgress' });
    expect.soft(received('Detached')).toMatchObject({ state: 'Detached', detachedFrom: 'InProgress', terminal: false });
    // Atlas has no cancel API: the job runs on.
    expect.soft(jobOf('Detached')[0]?.state).toBe('InProgress');

    expect.soft(byName.DeadlineExceeded!.outcome).toMatchObject({
      status: 'failed',
      failureType: FailureType.ExportDeadlineExceeded,
    });
    expect.soft(received('DeadlineExceeded')).toMatchObject({ terminal: false, detachedFrom: null });
    expect.soft(['Queued', 'InProgress']).toContain(received('DeadlineExceeded').state);
  }, 120_000);

  it('the Python example starts an export by the documented id, waits, and branches on the state', async () => {
    requirePeers();
    const { h, atlas } = suite;
    const f = atlas.fixtures;
    const example = (snapshotId: string) =>
      runPython(peers.python!, 'examples/python/start_export.py', [
        f.groupId,
        f.clusterName,
        snapshotId,
        f.exportBucketId,
        '--address',
        suite.temporal.address,
        '--task-queue',
        suite.worker.taskQueue,
        '--time-scale',
        String(TIME_SCALE),
      ]);

    const snapshotId = h.freshSnapshot();
    const workflowId = exportWorkflowId({ ...f, snapshotId });
    const first = await example(snapshotId);
    expect(first.code, first.stdout + first.stderr).toBe(0);
    const [job] = h.jobsOf(workflowId);
    expect(first.stdout).toMatch(new RegExp(`^Successful: job ${job!.id}, (\\d+)/\\1 collections in \\S+\\n$`));
    // Run again: the same workflow id, so the finished export is reported, not redone.
    const again = await example(snapshotId);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(again.stdout).toBe(first.stdout);
    expect(atlas.sim.exportJobs().filter((j) => j.snapshotId === snapshotId)).toHaveLength(1);

    const failing = h.freshSnapshot();
    atlas.sim.setExportPlan(
      {
        queuedMs: 30_000,
        inProgressMs: 60_000,
        outcome: 'Failed',
        stateReason: { errorCode: 'E_S3', message: 'denied' },
      },
      { snapshotId: failing }
    );
    const failed = await example(failing);
    expect(failed.code, failed.stdout + failed.stderr).toBe(1);
    expect(failed.stdout).toContain(`${exportWorkflowId({ ...f, snapshotId: failing })} failed (ExportFailed)`);
    expect(failed.stdout).toContain('Failed in Atlas: E_S3 denied');
  }, 120_000);
});
