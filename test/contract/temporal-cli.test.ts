import { execFile } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { resolveTemporalCli } from '../../src/dev/temporal-cli';
import type { ExportProgress } from '../../src/shared/contract/export-contract';
import { EXPORT_PROGRESS_QUERY, EXPORT_SNAPSHOT_WORKFLOW } from '../../src/shared/contract/export-contract';
import { FailureType } from '../../src/shared/contract/failure-types';
import { SEARCH_ATTRIBUTES } from '../../src/shared/observability/search-attributes';
import { exportWorkflowId } from '../../src/shared/contract/workflow-ids';
import { useExportSuite } from '../helpers/export-harness';

/**
 * The Temporal CLI as a client of `exportSnapshot`, as an operator or a shell script uses it: JSON input by name,
 * the `progress` query, visibility queries on the search attributes, and the completion from `result`/`describe`,
 * all with `--output json`. Against the test's dev server, with the real worker and activities on the simulator.
 */

const suite = useExportSuite();
const cli = resolveTemporalCli();
const TIME_SCALE = 600;

async function temporal(args: string[], expectedCode = 0): Promise<unknown> {
  const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((done) => {
    execFile(
      cli,
      [...args, '--address', suite.temporal.address, '--namespace', 'default', '--output', 'json'],
      { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' }, timeout: 60_000 },
      (err, out, errOut) =>
        done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout: out, stderr: errOut })
    );
  });
  expect(code, `temporal ${args.join(' ')}\n${stderr}`).toBe(expectedCode);
  return JSON.parse(stdout) as unknown;
}

/** Retries `attempt` until it returns a value; visibility and progress are eventually there. */
async function eventually<T>(what: string, attempt: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await attempt();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

interface Payload {
  data: string;
}
interface Execution {
  execution: { workflowId: string; runId: string };
  status: string;
  searchAttributes: { indexedFields: Record<string, Payload> };
}

/** Search attribute payloads as the CLI prints them (base64 JSON), decoded. */
function searchAttributes(execution: Execution): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(execution.searchAttributes.indexedFields).map(([name, p]) => [
      name,
      JSON.parse(Buffer.from(p.data, 'base64').toString('utf8')) as unknown,
    ])
  );
}

describe('Temporal CLI as a client (temporal workflow start/query/list/result/describe)', () => {
  it('starts exportSnapshot with JSON input, queries progress, finds it by search attributes, and reads the completion', async () => {
    const { h, atlas } = suite;
    const f = atlas.fixtures;
    const snapshotId = h.freshSnapshot();
    // About 5 s real in progress, so the query and the visibility list see it running.
    atlas.sim.setExportPlan({ queuedMs: 30_000, inProgressMs: 3_000_000, totalCollections: 20 }, { snapshotId });
    const ids = { groupId: f.groupId, clusterName: f.clusterName, snapshotId, exportBucketId: f.exportBucketId };
    const workflowId = exportWorkflowId(ids);
    // JSON written by hand says null for what it leaves out; the input accepts that for every optional field.
    const input = { ...ids, customData: null, notify: null, polling: { timeScale: TIME_SCALE, timeout: '2m' } };

    const started = await temporal([
      ...['workflow', 'start', '--type', EXPORT_SNAPSHOT_WORKFLOW, '--task-queue', suite.worker.taskQueue],
      ...['--workflow-id', workflowId, '--input', JSON.stringify(input)],
    ]);
    expect(started).toMatchObject({ workflowId, type: EXPORT_SNAPSHOT_WORKFLOW, taskQueue: suite.worker.taskQueue });

    const progress = await eventually('progress shows the job InProgress', async () => {
      const out = (await temporal([
        ...['workflow', 'query', '--workflow-id', workflowId, '--name', EXPORT_PROGRESS_QUERY],
      ])) as { queryResult: ExportProgress[] };
      const p = out.queryResult[0];
      return p?.phase === 'polling' && p.state === 'InProgress' ? p : undefined;
    });
    expect(progress).toMatchObject({
      totalCollections: 20,
      attached: false,
      notify: null,
      finishedAt: null,
      continuedAsNew: 0,
    });
    expect(progress.exportJobId).toBe(h.jobsOf(workflowId)[0]?.id);
    expect(Date.parse(String(progress.deadlineAt))).toBe(Date.parse(progress.startedAt) + 120_000);

    const runningQuery =
      `WorkflowType = '${EXPORT_SNAPSHOT_WORKFLOW}' AND ExecutionStatus = 'Running' AND ` +
      `${SEARCH_ATTRIBUTES.groupId.name} = '${f.groupId}' AND ${SEARCH_ATTRIBUTES.snapshotId.name} = '${snapshotId}' AND ` +
      `${SEARCH_ATTRIBUTES.state.name} = 'InProgress'`;
    const running = await eventually('the running export in the visibility list', async () => {
      const list = (await temporal(['workflow', 'list', '--query', runningQuery])) as Execution[];
      return list.find((e) => e.execution.workflowId === workflowId);
    });
    expect(searchAttributes(running)).toMatchObject({
      [SEARCH_ATTRIBUTES.state.name]: 'InProgress',
      [SEARCH_ATTRIBUTES.clusterName.name]: f.clusterName,
      [SEARCH_ATTRIBUTES.exportBucketId.name]: f.exportBucketId,
      [SEARCH_ATTRIBUTES.exportJobId.name]: progress.exportJobId,
    });

    const result = (await temporal(['workflow', 'result', '--workflow-id', workflowId])) as {
      status: string;
      result: Record<string, unknown>;
    };
    expect(result.status).toBe('COMPLETED');
    expect(result.result).toMatchObject({
      workflowId,
      ...ids,
      exportJobId: progress.exportJobId,
      state: 'Successful',
      exportedCollections: 20,
      totalCollections: 20,
      stateReason: null,
      terminal: true,
      attached: false,
      detachedFrom: null,
    });
    // The CLI's JSON shorthand prints the empty `components` array as null; the payload itself holds [].
    const raw = (await temporal([
      'workflow',
      'result',
      '--workflow-id',
      workflowId,
      '--no-json-shorthand-payloads',
    ])) as {
      closeEvent: { workflowExecutionCompletedEventAttributes: { result: { payloads: Payload[] } } };
    };
    const [payload] = raw.closeEvent.workflowExecutionCompletedEventAttributes.result.payloads;
    const completion = JSON.parse(Buffer.from(payload!.data, 'base64').toString('utf8')) as Record<string, unknown>;
    expect(completion).toEqual({ ...result.result, components: [] });

    const finishedQuery =
      `${SEARCH_ATTRIBUTES.state.name} = 'Successful' AND ` +
      `${SEARCH_ATTRIBUTES.exportJobId.name} = '${String(progress.exportJobId)}'`;
    await eventually('the finished export in the visibility list', async () => {
      const list = (await temporal(['workflow', 'list', '--query', finishedQuery])) as Execution[];
      return list.find((e) => e.execution.workflowId === workflowId && e.status.endsWith('COMPLETED'));
    });

    const described = (await temporal(['workflow', 'describe', '--workflow-id', workflowId])) as {
      result: Record<string, unknown>;
      workflowExecutionInfo: Execution;
    };
    expect(described.workflowExecutionInfo.status).toBe('WORKFLOW_EXECUTION_STATUS_COMPLETED');
    expect(described.result).toEqual(result.result);
    expect(searchAttributes(described.workflowExecutionInfo)).toMatchObject({
      [SEARCH_ATTRIBUTES.state.name]: 'Successful',
      [SEARCH_ATTRIBUTES.progressPercent.name]: 100,
    });
  }, 90_000);

  it('reads the completion of a failed export from the failure details of result and describe', async () => {
    const { h, atlas } = suite;
    const f = atlas.fixtures;
    const snapshotId = h.freshSnapshot();
    atlas.sim.setExportPlan(
      {
        queuedMs: 30_000,
        inProgressMs: 60_000,
        outcome: 'Failed',
        stateReason: { errorCode: 'E_S3', message: 'denied' },
      },
      { snapshotId }
    );
    const ids = { groupId: f.groupId, clusterName: f.clusterName, snapshotId, exportBucketId: f.exportBucketId };
    const workflowId = exportWorkflowId(ids);
    await temporal([
      ...['workflow', 'start', '--type', EXPORT_SNAPSHOT_WORKFLOW, '--task-queue', suite.worker.taskQueue],
      ...['--workflow-id', workflowId, '--input', JSON.stringify({ ...ids, polling: { timeScale: TIME_SCALE } })],
    ]);
    interface FailedClose {
      workflowExecutionFailedEventAttributes: {
        failure: { message: string; applicationFailureInfo: { type: string; details: Record<string, unknown>[] } };
      };
    }
    // `result` exits 1 for a failed workflow and still prints it.
    const result = (await temporal(['workflow', 'result', '--workflow-id', workflowId], 1)) as {
      status: string;
      closeEvent: FailedClose;
    };
    expect(result.status).toBe('FAILED');
    const failure = result.closeEvent.workflowExecutionFailedEventAttributes.failure;
    expect(failure.applicationFailureInfo.type).toBe(FailureType.ExportFailed);
    expect(failure.message).toContain('E_S3: denied');
    expect(failure.applicationFailureInfo.details[0]).toMatchObject({
      workflowId,
      state: 'Failed',
      terminal: true,
      stateReason: { errorCode: 'E_S3', message: 'denied' },
      exportJobId: h.jobsOf(workflowId)[0]?.id,
      detachedFrom: null,
    });
    const described = (await temporal(['workflow', 'describe', '--workflow-id', workflowId])) as {
      closeEvent: FailedClose;
      workflowExecutionInfo: Execution;
    };
    expect(described.workflowExecutionInfo.status).toBe('WORKFLOW_EXECUTION_STATUS_FAILED');
    expect(described.closeEvent.workflowExecutionFailedEventAttributes.failure).toEqual(failure);
  }, 60_000);
});
