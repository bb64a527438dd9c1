import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import { freePort } from '../../src/dev/dev-server';
import type { ScheduledExportSummary } from '../../src/shared/contract/scheduled-export-contract';
import { SEARCH_ATTRIBUTES } from '../../src/shared/observability/search-attributes';

const ROOT = resolve(__dirname, '..', '..');

/** `npm start`'s program (src/local-run.ts): dev server + Web UI, simulator, worker, one export. */
function startLocalRun(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(ROOT, 'src/local-run.ts'), ...args], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      TEMPORAL_CLI_PATH: process.env.TEMPORAL_CLI_PATH ?? '',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, like a command in a terminal, so Ctrl-C can be sent to the whole group.
    detached: true,
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const waitFor = async (pattern: RegExp) => {
    const deadline = Date.now() + 90_000;
    while (!pattern.test(output)) {
      if (child.exitCode !== null) throw new Error(`local run exited ${child.exitCode}:\n${output}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}:\n${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    return pattern.exec(output)!;
  };
  return { child, output: () => output, waitFor };
}

function processesOnPort(port: number): string {
  try {
    return execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l.includes('start-dev') && l.includes(`--port ${port}`))
      .join('\n');
  } catch {
    return '';
  }
}

describe('local run (npm start)', () => {
  it('runs an export and a demo schedule with the Web UI, metrics and search attributes; Ctrl-C leaves no process behind', async () => {
    const [port, uiPort, metricsPort] = [await freePort(), await freePort(), await freePort()];
    const stateDir = mkdtempSync(join(tmpdir(), 'aeo-local-run-'));
    const run = startLocalRun([
      '--port',
      String(port),
      '--ui-port',
      String(uiPort),
      '--metrics-port',
      String(metricsPort),
      '--time-scale',
      '120',
      '--state-dir',
      stateDir,
    ]);
    const [, uiUrl] = await run.waitFor(/Web UI: (http:\/\/127\.0\.0\.1:\d+)/);
    expect(uiUrl).toBe(`http://127.0.0.1:${uiPort}`);
    const ui = await fetch(uiUrl!);
    expect(ui.status).toBe(200);
    expect(await ui.text()).toMatch(/<html/i);

    const [, workflowId] = await run.waitFor(/Started export (atlas-export-\S+)/);
    await run.waitFor(/Demo schedule atlas-export-demo/);
    await run.waitFor(/Export [a-f0-9]{24} Successful: 8\/8 collections/);
    expect(run.output()).toMatch(/InProgress {2}\d+\/8 collections {2}elapsed \d+s/);
    await run.waitFor(/Press Ctrl-C to stop/);
    expect(processesOnPort(port)).not.toBe('');

    // The worker's log lines go to a file the stack names, not to the window.
    const [, logFile] = await run.waitFor(/Worker log: (\S+)/);
    expect(logFile).toBe(join(stateDir, 'worker.log'));
    expect(existsSync(logFile!)).toBe(true);

    // The simulated ids are printed, and a command that exports another snapshot on this stack.
    const [, groupId] = await run.waitFor(/\n {2}project {3}([a-f0-9]{24})\n/);
    const [, bucketId] = await run.waitFor(/\n {2}bucket {4}([a-f0-9]{24})\n/);
    const [, exported, older] = await run.waitFor(
      /\n {2}cluster {3}Cluster0\n {4}snapshot {2}([a-f0-9]{24}) {2}\(exported by this run\)\n {4}snapshot {2}([a-f0-9]{24})\n/
    );
    await run.waitFor(/\n {2}cluster {3}ShardedCluster0 \(sharded\)\n {4}snapshot {2}[a-f0-9]{24}\n/);
    expect(workflowId).toBe(`atlas-export-${groupId}-Cluster0-${exported}-${bucketId}`);
    const [, command] = await run.waitFor(
      /Another export at this stack's speed \(120× time\):\n((?: .*\\\n)* .*[^\\]\n)/
    );
    // Several lines within 80 columns, continued with backslashes: one command.
    expect(command!.split('\n').every((line) => line.length <= 80)).toBe(true);
    expect(command!.replace(/\s*\\\n\s*/g, ' ').trim()).toBe(
      `TEMPORAL_ADDRESS=127.0.0.1:${port} npm run starter -- export --group-id ${groupId} --cluster Cluster0 ` +
        `--snapshot-id ${older} --bucket-id ${bucketId} --time-scale 120 --report-interval 1s --wait ` +
        '--progress-interval 1s'
    );
    // Copied as printed into a shell, it exports that snapshot on this stack.
    const another = spawn('bash', ['-c', command!], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let anotherOutput = '';
    another.stdout.on('data', (c: Buffer) => (anotherOutput += c.toString()));
    another.stderr.on('data', (c: Buffer) => (anotherOutput += c.toString()));
    const [anotherCode] = (await once(another, 'exit')) as [number | null];
    expect(anotherOutput).toMatch(/Successful/);
    expect(anotherCode).toBe(0);

    // The stack is usable from outside: search attributes registered and set, the demo schedule's run
    // attached to the running export instead of exporting the snapshot twice, metrics served.
    const connection = await Connection.connect({ address: `127.0.0.1:${port}` });
    try {
      const client = new Client({ connection, namespace: 'default' });
      const described = await client.workflow.getHandle(workflowId!).describe();
      expect(described.typedSearchAttributes.get(SEARCH_ATTRIBUTES.state)).toBe('Successful');
      const schedule = await client.schedule.getHandle('atlas-export-demo').describe();
      const runId = schedule.info.recentActions[0]?.action.workflow.workflowId;
      expect(runId).toBeDefined();
      const summary = (await client.workflow.getHandle(runId!).result()) as ScheduledExportSummary;
      const target = summary.targets.find((t) => t.childWorkflowId === workflowId);
      expect(target).toMatchObject({ state: 'Successful', attached: true });
    } finally {
      await connection.close();
    }
    const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    expect(metrics).toMatch(/^atlas_exports_succeeded\{[^}]*\} [1-9]/m);

    // Ctrl-C in a terminal signals the foreground process group, not one process.
    process.kill(-run.child.pid!, 'SIGINT');
    const [code] = (await once(run.child, 'exit')) as [number | null];
    expect(code).toBe(0);
    expect(processesOnPort(port)).toBe('');
    await expect(fetch(uiUrl!)).rejects.toThrow();
    rmSync(stateDir, { recursive: true, force: true });
  }, 180_000);
});
