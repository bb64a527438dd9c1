import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScheduleNotFoundError } from '@temporalio/client';
import { afterAll, describe, expect, it } from 'vitest';
import type { ScheduledExportSummary } from '../../src/shared/contract/scheduled-export-contract';
import { FAST_POLLING, useExportSuite } from '../helpers/export-harness';
import { createFleet, jobsBySnapshotAndBucket } from '../helpers/fleet';
import { runCli } from '../helpers/run-cli';
import { uniqueId } from '../helpers/temporal';

const suite = useExportSuite();
const dir = mkdtempSync(join(tmpdir(), 'aeo-schedule-cli-'));
const created: string[] = [];

afterAll(async () => {
  for (const id of created) {
    await suite.temporal.client.schedule
      .getHandle(id)
      .delete()
      .catch((err: unknown) => {
        if (!(err instanceof ScheduleNotFoundError)) throw err;
      });
  }
  rmSync(dir, { recursive: true, force: true });
});

function env(): Record<string, string> {
  return { TEMPORAL_ADDRESS: suite.temporal.address, TEMPORAL_TASK_QUEUE: suite.worker.taskQueue };
}

async function cli(...args: string[]) {
  return runCli('src/starter.ts', args, env());
}

function json<T>(stdout: string): T {
  return JSON.parse(stdout.trim().split('\n').pop()!) as T;
}

interface ScheduleView {
  taskQueue: string;
  spec: { calendars: string[]; timezone: string; jitterMs: number };
  policies: { overlap: string; catchupWindowMs: number };
  state: { paused: boolean; note: string | null };
  input: { targets: unknown[]; concurrency?: number };
  info: { recentActions: { workflowId: string }[] };
}

async function scheduledRun(workflowId: string): Promise<ScheduledExportSummary> {
  return (await suite.temporal.client.workflow.getHandle(workflowId).result()) as ScheduledExportSummary;
}

describe('starter schedule', () => {
  it('creates a schedule from a YAML file once, and its triggered and backfilled runs export every target once', async () => {
    const sim = suite.atlas.sim;
    const fleet = createFleet(sim, 3, 'Nightly');
    const [latest, explicit, onDemand] = fleet.clusters;
    const file = join(dir, 'nightly.yaml');
    writeFileSync(
      file,
      [
        '# nightly exports',
        'concurrency: 2',
        `polling: { initialInterval: ${FAST_POLLING.initialInterval}, maximumInterval: ${FAST_POLLING.maximumInterval}, timeout: 2m }`,
        'onDemand: { initialInterval: 100, maximumInterval: 400 }',
        'targets:',
        `  - { groupId: ${fleet.groupId}, clusterName: ${latest!.clusterName}, exportBucketId: ${fleet.exportBucketId} }`,
        `  - groupId: ${fleet.groupId}`,
        `    clusterName: ${explicit!.clusterName}`,
        `    exportBucketId: ${fleet.exportBucketId}`,
        `    snapshot: { snapshotId: ${explicit!.snapshotId} }`,
        '    customData: [{ key: team, value: sre }]',
        `  - { groupId: ${fleet.groupId}, clusterName: ${onDemand!.clusterName}, exportBucketId: ${fleet.exportBucketId}, snapshot: on-demand }`,
        '',
      ].join('\n')
    );
    const id = uniqueId('nightly');
    created.push(id);
    const createArgs = ['schedule', 'create', '--schedule-id', id, '--targets', file, '--cron', '0 2 * * *'];
    const first = await cli(...createArgs, '--time-zone', 'Europe/Berlin', '--paused', '--note', 'test', '--json');
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const doc = json<{ created: boolean; schedule: ScheduleView }>(first.stdout);
    expect(doc.created).toBe(true);
    expect(doc.schedule).toMatchObject({
      taskQueue: suite.worker.taskQueue,
      spec: { calendars: ['0 2 * * *'], timezone: 'Europe/Berlin', jitterMs: 0 },
      policies: { overlap: 'SKIP', catchupWindowMs: 3_600_000 },
      state: { paused: true, note: 'test' },
      input: { concurrency: 2 },
    });
    expect(doc.schedule.input.targets).toHaveLength(3);

    // A second create never makes a second schedule: it refuses (exit 3), or updates with --update-if-exists.
    const again = await cli(...createArgs);
    expect(again.code).toBe(3);
    expect(again.stderr).toContain(`Schedule ${id} already exists; nothing was changed`);
    const replaced = await cli(
      ...createArgs,
      '--jitter',
      '5m',
      '--overlap',
      'buffer-one',
      '--update-if-exists',
      '--json'
    );
    expect(replaced.code).toBe(0);
    expect(json<{ created: boolean; updated: boolean; schedule: ScheduleView }>(replaced.stdout)).toMatchObject({
      created: false,
      updated: true,
      schedule: {
        spec: { jitterMs: 300_000, timezone: 'UTC' },
        policies: { overlap: 'BUFFER_ONE' },
        state: { paused: true },
      },
    });
    const updated = await cli('schedule', 'update', id, '--overlap', 'SKIP', '--catchup-window', '2h');
    expect(updated.code).toBe(0);
    const described = await cli('schedule', 'describe', id);
    expect(described.stdout).toContain('calendar "0 2 * * *" in UTC, jitter 300s');
    expect(described.stdout).toContain('overlap SKIP, catch-up window 7200s');
    expect(described.stdout).toContain('Targets:  3 (concurrency 2)');

    // Triggered (also while paused), the run exports each target once.
    const triggered = await cli('schedule', 'trigger', id, '--json');
    expect(triggered.code).toBe(0);
    const { workflowId } = json<{ workflowId: string }>(triggered.stdout);
    expect(workflowId.startsWith(`atlas-scheduled-export-${id}-`)).toBe(true);
    const run = await scheduledRun(workflowId);
    expect(run.counts).toMatchObject({ total: 3, successful: 3 });
    expect(run.targets.map((t) => t.policy)).toEqual(['latest', 'snapshotId', 'on-demand']);
    expect(run.targets[0]!.snapshotId).toBe(latest!.snapshotId);
    const printed = await cli('summary', workflowId);
    expect(printed.code).toBe(0);
    expect(printed.stdout).toContain(`${workflowId}: 3 successful, 0 failed, 0 skipped, 0 running, 0 pending of 3`);
    expect(printed.stdout).toContain(`[0] ${latest!.clusterName} latest Successful`);
    expect(sim.exportJobs(fleet.groupId).find((j) => j.snapshotId === explicit!.snapshotId)?.customData).toContainEqual(
      {
        key: 'team',
        value: 'sre',
      }
    );

    // A backfill over the last day is one more (past) run: it re-exports nothing, and takes a fresh on-demand snapshot.
    const now = Date.now();
    const backfill = await cli(
      'schedule',
      'backfill',
      id,
      '--start',
      new Date(now - 25 * 3600_000).toISOString(),
      '--end',
      new Date(now).toISOString()
    );
    expect(backfill.code).toBe(0);
    let backfilled: string | undefined;
    for (let i = 0; i < 50 && !backfilled; i++) {
      const d = json<ScheduleView>((await cli('schedule', 'describe', id, '--json')).stdout);
      backfilled = d.info.recentActions.map((a) => a.workflowId).find((w) => w !== workflowId);
      if (!backfilled) await new Promise((r) => setTimeout(r, 200));
    }
    expect(backfilled).toBeDefined();
    const rerun = await scheduledRun(backfilled!);
    expect(rerun.counts).toMatchObject({ successful: 3 });
    expect(rerun.targets.slice(0, 2).map((t) => [t.attached, t.exportJobId])).toEqual(
      run.targets.slice(0, 2).map((t) => [true, t.exportJobId])
    );
    expect(rerun.targets[2]!.snapshotId).not.toBe(run.targets[2]!.snapshotId);
    const jobs = jobsBySnapshotAndBucket(sim, fleet.groupId);
    expect(jobs.size).toBe(4);
    expect([...jobs.values()].every((n) => n === 1)).toBe(true);

    expect((await cli('schedule', 'unpause', id, '--note', 'live')).code).toBe(0);
    expect((await cli('schedule', 'pause', id, '--json')).stdout).toContain('"paused":true');
    let listed = false;
    for (let i = 0; i < 30 && !listed; i++) {
      const list = json<{ schedules: { scheduleId: string; workflowType: string }[] }>(
        (await cli('schedule', 'list', '--json')).stdout
      );
      listed = list.schedules.some((s) => s.scheduleId === id && s.workflowType === 'scheduledExport');
      if (!listed) await new Promise((r) => setTimeout(r, 300));
    }
    expect(listed).toBe(true);

    expect((await cli('schedule', 'delete', id)).code).toBe(0);
    const gone = await cli('schedule', 'describe', id, '--json');
    expect(gone.code).toBe(4);
    expect(json<{ error: { kind: string; message: string } }>(gone.stdout).error).toEqual({
      kind: 'not-found',
      message: `Schedule ${id} does not exist`,
    });
  });

  it('summary exits 1 for a run that failed without failed targets (invalid input)', async () => {
    const handle = await suite.temporal.client.workflow.start('scheduledExport', {
      taskQueue: suite.worker.taskQueue,
      workflowId: uniqueId('scheduled-invalid'),
      args: [{ targets: [{ groupId: 'nope' }] }],
    });
    await handle.result().catch(() => undefined);
    const r = await cli('summary', handle.workflowId, '--json');
    expect(r.code).toBe(1);

    // A scheduled run's id where an export's is expected is named as such (exit 2), not "Export undefined".
    for (const command of ['result', 'watch', 'progress']) {
      const wrong = await cli(command, handle.workflowId);
      expect(wrong.code, `${command}: ${wrong.stderr}`).toBe(2);
      expect(wrong.stdout).toBe('');
      expect(wrong.stderr).toBe(
        `${handle.workflowId} is a scheduled run (scheduledExport), not an export; try 'atlas-export summary ${handle.workflowId}'\n`
      );
    }
  });

  it("summary given an export's id says so with exit 2, not 69", async () => {
    const exportRun = await suite.h.start(suite.h.input({ snapshotId: suite.h.freshSnapshot() }));
    await exportRun.result();
    const r = await cli('summary', exportRun.workflowId, '--json');
    expect(r.code).toBe(2);
    expect(json<{ error: { kind: string; message: string } }>(r.stdout).error).toEqual({
      kind: 'wrong-workflow-type',
      message: `${exportRun.workflowId} is an export (exportSnapshot), not a scheduled run; try 'atlas-export result ${exportRun.workflowId}' (or watch, progress)`,
    });
  });

  it('refuses a bad targets file or spec with exit 2, naming the file, line and field, and creates nothing', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, ['targets:', '  - groupId: 5f00', '    clusterName: Cluster0', ''].join('\n'));
    const id = uniqueId('bad');
    created.push(id);
    const bad = await cli('schedule', 'create', '--schedule-id', id, '--targets', file, '--interval', '24h');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`${file}:2: targets[0].groupId: must be 24 lowercase hex characters`);
    expect(bad.stderr).toContain(`${file}:2: targets[0].exportBucketId: is required`);

    const noSpec = await cli('schedule', 'create', '--schedule-id', id, '--targets', file);
    expect(noSpec.code).toBe(2);
    expect(noSpec.stderr).toContain('schedule create: give --cron EXPR or --interval EVERY[/OFFSET]');
    const badOverlap = await cli('schedule', 'trigger', id, '--overlap', 'sometimes');
    expect(badOverlap.code).toBe(2);
    expect(badOverlap.stderr).toContain('--overlap "sometimes": expected one of SKIP, BUFFER_ONE');

    // What only the server can check is still a usage error, and creates nothing.
    const good = join(dir, 'good.json');
    writeFileSync(
      good,
      JSON.stringify([{ groupId: 'a'.repeat(24), clusterName: 'C0', exportBucketId: 'b'.repeat(24) }])
    );
    const badCron = await cli('schedule', 'create', '--schedule-id', id, '--targets', good, '--cron', '61 * * * *');
    expect(badCron.code).toBe(2);
    expect(badCron.stderr).toContain('Temporal refused the schedule create: Minute is not in range');

    expect((await cli('schedule', 'describe', id)).code).toBe(4);
  });
});
