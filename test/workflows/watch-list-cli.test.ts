import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useExportSuite } from '../helpers/export-harness';
import { runCli } from '../helpers/run-cli';

const suite = useExportSuite();
const ROOT = resolve(__dirname, '..', '..');

function env(): Record<string, string> {
  return { TEMPORAL_ADDRESS: suite.temporal.address, TEMPORAL_TASK_QUEUE: suite.worker.taskQueue };
}

/** An export that stays InProgress for ~6 s of real time with 10 collections, so progress is seen rising. */
async function slowExport(totalCollections = 10, outcome: 'Successful' | 'Failed' = 'Successful') {
  const { h, atlas } = suite;
  const snapshotId = h.freshSnapshot();
  atlas.sim.setExportPlan({ queuedMs: 60_000, inProgressMs: 3_600_000, totalCollections, outcome }, { snapshotId });
  return h.start(
    h.input({ snapshotId, polling: { ...h.input().polling, reportInterval: '1s', maximumInterval: '10s' } })
  );
}

/** The starter under a pseudo-terminal (Python's pty module), as a person runs it in a terminal. */
function runInPty(args: string[]): Promise<{ code: number; output: string }> {
  const spawnInPty = 'import pty, sys; sys.exit(pty.spawn(sys.argv[1:]) >> 8)';
  return new Promise((done) => {
    const child = execFile(
      'python3',
      ['-c', spawnInPty, process.execPath, '--import', 'tsx', resolve(ROOT, 'src/starter.ts'), ...args],
      { cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env() }, timeout: 120_000 },
      (err, stdout) => done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, output: stdout })
    );
    child.stdin?.end();
  });
}

describe('starter watch', () => {
  it('prints plain lines when not a terminal, with progress rising to the final state, and exits 0', async () => {
    const handle = await slowExport();
    const r = await runCli('src/starter.ts', ['watch', handle.workflowId, '--refresh', '300ms'], env());
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.join('\n')).not.toContain('\r');
    expect(lines.join('\n')).not.toContain('\x1b[');
    // One line per change: counts rise through InProgress, the last progress line is the final state.
    const counts = lines.flatMap((l) =>
      [...l.matchAll(/InProgress {2}(\d+)\/10 collections/g)].map((m) => Number(m[1]))
    );
    expect(counts.length).toBeGreaterThanOrEqual(2);
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
    expect(lines.some((l) => /Successful {2}10\/10 collections {2}elapsed \d+s/.test(l))).toBe(true);
    expect(lines.at(-1)).toMatch(/^Export [0-9a-f]{24} Successful: 10\/10 collections/);
  }, 90_000);

  it('draws one live line with a progress bar under a terminal and ends on the final state', async () => {
    const handle = await slowExport(8);
    const r = await runInPty(['watch', handle.workflowId, '--refresh', '300ms']);
    expect(r.code, r.output).toBe(0);
    // Redrawn in place: carriage return + erase line, many times, and a full bar at the end.
    expect(r.output.split('\r\x1b[2K').length).toBeGreaterThan(3);
    expect(r.output).toMatch(/\[#{24}\] {2}Successful {2}8\/8 collections/);
    // One redrawn frame (between two erase sequences) carries bar, state, count, elapsed and the next read.
    const frames = r.output.split('\r\x1b[2K');
    // Each frame fits the 80-column terminal (it never wraps, so no stale rows), and elapsed never goes back.
    for (const f of frames) expect(f.split('\n')[0]!.length, f).toBeLessThan(80);
    const elapsed = frames.flatMap((f) => [...f.matchAll(/elapsed (\d+)s/g)].map((m) => Number(m[1])));
    expect(elapsed.length).toBeGreaterThan(3);
    expect(elapsed).toEqual([...elapsed].sort((a, b) => a - b));
    const live = /^\[[#.]*\] {2}InProgress {2}\d\/8 collections {2}elapsed \d+s[^\r\n]*(next poll in \d+s|polling)$/;
    expect(frames.some((f) => live.test(f))).toBe(true);
    expect(r.output).toMatch(/Export [0-9a-f]{24} Successful: 8\/8 collections/);
  }, 90_000);

  it('with --json prints one JSON object per change, then the result, and exits 1 when the export fails', async () => {
    const handle = await slowExport(4, 'Failed');
    const r = await runCli('src/starter.ts', ['watch', handle.workflowId, '--refresh', '300ms', '--json'], env());
    expect(r.code).toBe(1);
    const docs = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const progress = docs.filter((d) => d.type === 'progress');
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(progress[0]).toMatchObject({ workflowId: handle.workflowId, status: 'RUNNING' });
    expect(docs.at(-1)).toMatchObject({ status: 'failed', failure: { type: 'ExportFailed' } });
  }, 90_000);

  it('exits 4 for an unknown workflow id', async () => {
    const r = await runCli('src/starter.ts', ['watch', 'no-such-export-workflow'], env());
    expect(r.code).toBe(4);
    expect(r.stderr).toContain('no-such-export-workflow does not exist');
  });
});

describe('starter list', () => {
  it('lists recent exports with state and progress through a visibility query, filtered', async () => {
    const ok = await slowExport(3);
    const bad = await slowExport(3, 'Failed');
    await ok.result();
    await bad.result().catch(() => undefined);
    const cluster = suite.atlas.fixtures.clusterName;
    type Listed = { query: string; exports: { workflowId: string; state: string; progressPercent: number }[] };
    let listed: Listed | undefined;
    // Visibility is eventually consistent: wait for both closed runs to be indexed.
    for (let i = 0; i < 20; i++) {
      // Other test files export the same cluster names: --query scopes the list to this suite's task queue.
      const r = await runCli(
        'src/starter.ts',
        ['list', '--cluster', cluster, '--query', `TaskQueue = '${suite.h.taskQueue}'`, '--limit', '200', '--json'],
        env()
      );
      expect(r.code, r.stderr).toBe(0);
      listed = JSON.parse(r.stdout) as Listed;
      const ids = listed.exports.map((e) => e.workflowId);
      const closed = listed.exports
        .filter((e) => e.state === 'Successful' || e.state === 'Failed')
        .map((e) => e.workflowId);
      if (ids.includes(ok.workflowId) && closed.includes(bad.workflowId) && closed.includes(ok.workflowId)) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(listed!.query).toContain(`AtlasClusterName = '${cluster}'`);
    expect(listed!.query).toContain(`(TaskQueue = '${suite.h.taskQueue}')`);
    expect(listed!.exports.find((e) => e.workflowId === ok.workflowId)).toMatchObject({
      state: 'Successful',
      progressPercent: 100,
    });
    expect(listed!.exports.find((e) => e.workflowId === bad.workflowId)).toMatchObject({ state: 'Failed' });

    // --state in any case; a table with headers and aligned columns within 80 columns.
    const scope = ['--since', '1h', '--query', `TaskQueue = '${suite.h.taskQueue}'`];
    const failed = await runCli('src/starter.ts', ['list', '--state', 'failed', ...scope], env());
    expect(failed.code, failed.stderr).toBe(0);
    const lines = failed.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^WORKFLOW ID\s+STATE\s+PROGRESS\s+STARTED\s+DURATION$/);
    for (const line of lines) expect(line.length, line).toBeLessThanOrEqual(80);
    const row = lines.find((l) => l.startsWith(bad.workflowId))!;
    expect(row.indexOf('Failed')).toBe(lines[0]!.indexOf('STATE'));
    expect(failed.stdout).not.toContain(ok.workflowId);
    // --wide: every column, full ids.
    const wide = await runCli('src/starter.ts', ['list', '--state', 'FAILED', '--wide', ...scope], env());
    expect(wide.stdout.split('\n')[0]).toMatch(/^WORKFLOW ID\s+STATUS\s+STATE\s+PROGRESS\s+CLUSTER\s+EXPORT JOB/);
    expect(wide.stdout).toContain(bad.workflowId);
  }, 90_000);

  it("shows Temporal's reason for a query it refuses, with exit 2", async () => {
    const r = await runCli('src/starter.ts', ['list', '--query', 'NoSuchAttribute = 1'], env());
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/^Temporal refused the query: .*NoSuchAttribute/);
    expect(r.stderr).not.toContain('Failed to list workflows');
  });

  it('rejects bad filters with exit 2 naming the flag, before connecting', async () => {
    const r = await runCli('src/starter.ts', ['list', '--group-id', 'nope', '--limit', '0'], {
      TEMPORAL_ADDRESS: '127.0.0.1:1',
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--group-id');
    expect(r.stderr).toContain('--limit');
  });
});
