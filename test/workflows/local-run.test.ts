import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../src/dev/dev-server';

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
  it('runs an export to Successful with the Web UI on loopback, and Ctrl-C leaves no process behind', async () => {
    const [port, uiPort] = [await freePort(), await freePort()];
    const stateDir = mkdtempSync(join(tmpdir(), 'aeo-local-run-'));
    const run = startLocalRun([
      '--port',
      String(port),
      '--ui-port',
      String(uiPort),
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

    await run.waitFor(/Export [a-f0-9]{24}: Successful/);
    expect(run.output()).toMatch(/InProgress \d+\/\d+ collections/);
    await run.waitFor(/Press Ctrl-C to stop/);
    expect(processesOnPort(port)).not.toBe('');

    run.child.kill('SIGINT');
    const [code] = (await once(run.child, 'exit')) as [number | null];
    expect(code).toBe(0);
    expect(processesOnPort(port)).toBe('');
    await expect(fetch(uiUrl!)).rejects.toThrow();
    rmSync(stateDir, { recursive: true, force: true });
  }, 120_000);
});
