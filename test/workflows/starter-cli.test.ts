import { WorkflowNotFoundError } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { useExportSuite } from '../helpers/export-harness';
import { runCli } from '../helpers/run-cli';
import { uniqueId } from '../helpers/temporal';

const suite = useExportSuite();

function env(): Record<string, string> {
  return { TEMPORAL_ADDRESS: suite.temporal.address, TEMPORAL_TASK_QUEUE: suite.worker.taskQueue };
}

function exportArgs(snapshotId: string, extra: string[] = []): string[] {
  const f = suite.atlas.fixtures;
  return [
    'export',
    '--group-id',
    f.groupId,
    '--cluster',
    f.clusterName,
    '--snapshot-id',
    snapshotId,
    '--bucket-id',
    f.exportBucketId,
    // The CLI has no time scale: the polling floors' 1 s is the fastest it reads.
    '--poll-initial',
    '1s',
    '--poll-max',
    '2s',
    '--timeout',
    '2m',
    ...extra,
  ];
}

describe('starter CLI', () => {
  it('rejects bad arguments with exit 2, naming the flags, before contacting anything', async () => {
    const r = await runCli('src/starter.ts', ['export', '--group-id', 'xyz', '--snapshot-id', '1'], {
      TEMPORAL_ADDRESS: '127.0.0.1:1',
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--group-id: must be 24 lowercase hex characters');
    expect(r.stderr).toContain('--cluster: is required');
    expect(r.stderr).toContain('--bucket-id: is required');
  });

  it('refuses a --workflow-id with edge whitespace with exit 2 and one line naming the flag; nothing is started', async () => {
    const workflowId = ` ${uniqueId('padded')}`;
    const r = await runCli('src/starter.ts', exportArgs(suite.h.freshSnapshot(), ['--workflow-id', workflowId]), env());
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.split('\n')[0]).toBe('--workflow-id: must not start or end with whitespace');
    await expect(suite.temporal.client.workflow.getHandle(workflowId).describe()).rejects.toBeInstanceOf(
      WorkflowNotFoundError
    );
  });

  it('checks --poll-* flags against the poll mode, naming the field', async () => {
    const f = suite.atlas.fixtures;
    const ids = ['--group-id', f.groupId, '--cluster', f.clusterName, '--snapshot-id', f.snapshotId];
    const r = await runCli(
      'src/starter.ts',
      ['export', ...ids, '--bucket-id', f.exportBucketId, '--poll-interval', '4s'],
      { TEMPORAL_ADDRESS: '127.0.0.1:1' }
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('(interval): is not a setting of mode "adaptive" (the default)');
  });

  it('starts an export, follows it with --wait --json, and exits 0 on Successful', async () => {
    const snapshotId = suite.h.freshSnapshot();
    const r = await runCli(
      'src/starter.ts',
      exportArgs(snapshotId, ['--wait', '--json', '--progress-interval', '0']),
      env()
    );
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
      status: string;
      result: { state: string; snapshotId: string };
    };
    expect(doc.status).toBe('completed');
    expect(doc.result.state).toBe('Successful');
    expect(doc.result.snapshotId).toBe(snapshotId);

    // The same export again attaches to the finished run instead of exporting twice.
    const again = await runCli(
      'src/starter.ts',
      exportArgs(snapshotId, ['--wait', '--json', '--progress-interval', '0']),
      env()
    );
    expect(again.code).toBe(0);
    expect((JSON.parse(again.stdout.trim().split('\n').pop()!) as { status: string }).status).toBe('completed');
    expect(suite.atlas.sim.exportJobs().filter((j) => j.snapshotId === snapshotId)).toHaveLength(1);
  });

  it('prints human progress lines and exits 1 when the export fails', async () => {
    const snapshotId = suite.h.freshSnapshot();
    suite.atlas.sim.setExportPlan(
      {
        queuedMs: 60_000,
        inProgressMs: 900_000,
        totalCollections: 4,
        outcome: 'Failed',
        stateReason: { errorCode: 'E', message: 'm' },
      },
      { snapshotId }
    );
    const r = await runCli(
      'src/starter.ts',
      exportArgs(snapshotId, ['--wait', '--progress-interval', '200ms', '--workflow-id', uniqueId('cli')]),
      env()
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/Started export workflow/);
    expect(r.stdout).toMatch(/polling: (Queued|InProgress)/);
    expect(r.stdout).toContain('Export failed (ExportFailed)');
  });

  it('reports whether this call started the export (a repeated start attaches: started false)', async () => {
    const snapshotId = suite.h.freshSnapshot();
    suite.atlas.sim.setExportPlan({ queuedMs: 60_000, inProgressMs: 30 * 3600_000 }, { snapshotId });
    const workflowId = uniqueId('cli');
    const first = await runCli(
      'src/starter.ts',
      exportArgs(snapshotId, ['--workflow-id', workflowId, '--json']),
      env()
    );
    const second = await runCli(
      'src/starter.ts',
      exportArgs(snapshotId, ['--workflow-id', workflowId, '--json']),
      env()
    );
    const a = JSON.parse(first.stdout) as { started: boolean; runId: string };
    const b = JSON.parse(second.stdout) as { started: boolean; runId: string };
    expect([a.started, b.started]).toEqual([true, false]);
    expect(b.runId).toBe(a.runId);
    await suite.temporal.client.workflow.getHandle(workflowId).terminate('test done');
  });

  it('exits 4 for a workflow id that does not exist', async () => {
    const r = await runCli('src/starter.ts', ['result', uniqueId('missing'), '--json'], env());
    expect(r.code).toBe(4);
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'error', error: { kind: 'not-found' } });
  });

  it('reads the progress of a running export (-o json), started with the Atlas CLI form of --custom-data', async () => {
    const snapshotId = suite.h.freshSnapshot();
    suite.atlas.sim.setExportPlan({ queuedMs: 60_000, inProgressMs: 30 * 3600_000 }, { snapshotId });
    const workflowId = uniqueId('cli');
    const labels = ['--custom-data', 'team=data,ticket=OPS-1'];
    const started = await runCli(
      'src/starter.ts',
      exportArgs(snapshotId, ['--workflow-id', workflowId, ...labels]),
      env()
    );
    expect(started.code, started.stderr).toBe(0);
    let progress: { phase?: string; exportJobId?: string | null } = {};
    for (let i = 0; i < 50 && progress.phase !== 'polling'; i++) {
      const r = await runCli('src/starter.ts', ['progress', workflowId, '-o', 'json'], env());
      if (r.code === 0) progress = JSON.parse(r.stdout) as typeof progress;
      else await new Promise((res) => setTimeout(res, 200));
    }
    expect(progress.phase).toBe('polling');
    expect(progress.exportJobId).toMatch(/^[a-f0-9]{24}$/);
    const job = suite.atlas.sim.exportJobs().find((j) => j.snapshotId === snapshotId);
    expect(job?.customData).toEqual(
      expect.arrayContaining([
        { key: 'team', value: 'data' },
        { key: 'ticket', value: 'OPS-1' },
      ])
    );
    await suite.temporal.client.workflow.getHandle(workflowId).terminate('test done');
  });

  it('progress of an export that failed says how it ended and exits 1, not "done: no job yet" and 0', async () => {
    const workflowId = uniqueId('cli-missing-snapshot');
    const missing = 'f'.repeat(24);
    await runCli(
      'src/starter.ts',
      exportArgs(missing, ['--workflow-id', workflowId, '--wait', '--progress-interval', '0']),
      env()
    );
    const r = await runCli('src/starter.ts', ['progress', workflowId], env());
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).not.toContain('no job yet');
    expect(r.stdout).toMatch(
      new RegExp(`^${workflowId} is closed \\(FAILED\\): Export failed \\(SNAPSHOT_NOT_FOUND\\)`)
    );
  });
});
