import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { type DefaultFixtures } from '../../src/simulator';
import { parseCli } from '../../src/simulator/main';
import { api, exportsPath, type JobBody } from './helpers';

const ROOT = join(__dirname, '..', '..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
const SECRET = 'cli-private-key-do-not-print';

describe('standalone simulator (main.ts)', () => {
  let child: ChildProcessWithoutNullStreams | undefined;
  afterEach(() => {
    if (child !== undefined && child.exitCode === null) child.kill('SIGKILL');
    child = undefined;
  });

  it('prints one JSON line with url and fixtures, serves requests, and stops on SIGTERM', async () => {
    // Queued for 10 simulated minutes: 1 s of real time at ×600, so the POST's answer is still `Queued` on a busy
    // machine (1,000 simulated ms was 1.7 ms real, and a loaded CI run once answered `InProgress`).
    const proc = spawn(TSX, ['src/simulator/main.ts', '--time-scale', '600', '--queued-ms', '600000'], {
      cwd: ROOT,
      env: {
        ...process.env,
        SIMULATOR_PUBLIC_KEY: 'clipublic',
        SIMULATOR_PRIVATE_KEY: SECRET,
        SIMULATOR_CLIENT_ID: 'mdb_sa_id_cli',
        SIMULATOR_CLIENT_SECRET: 'cli-client-secret-do-not-print',
      },
    });
    child = proc;
    let stderr = '';
    let stdout = '';
    proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    proc.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const lines = createInterface({ input: proc.stdout });
    const [line] = (await once(lines, 'line')) as [string];
    const started = JSON.parse(line) as { url: string; fixtures: DefaultFixtures; timeScale: number };
    expect(started.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(started.timeScale).toBe(600);
    const f = started.fixtures;

    const res = await api<JobBody>(started.url, exportsPath(f.groupId, f.clusterName), {
      body: { snapshotId: f.snapshotId, exportBucketId: f.exportBucketId },
      auth: { digest: { user: 'clipublic', password: SECRET } },
    });
    expect(res.status).toBe(200);
    expect(res.json.state).toBe('Queued');

    const exited = once(proc, 'exit') as Promise<[number | null, string | null]>;
    proc.kill('SIGTERM');
    const [code] = await exited;
    expect(code).toBe(0);
    expect(stderr).toContain('listening on');
    expect(stderr).toContain('stopped');
    expect(stderr + stdout).not.toContain(SECRET);
    expect(stderr + stdout).not.toContain('cli-client-secret-do-not-print');
  });

  it('validates arguments', () => {
    expect(() => parseCli(['--time-scale=-3'], {})).toThrow(/invalid arguments/);
    expect(() => parseCli(['--port', 'abc'], {})).toThrow(/invalid arguments/);
    expect(() => parseCli(['--bogus'], {})).toThrow();
    const parsed = parseCli(['--no-rate-limit', '--outcome', 'Failed', '--state-file', '/tmp/x.json'], {
      SIMULATOR_CLIENT_ID: 'id',
      SIMULATOR_CLIENT_SECRET: 'secret',
    });
    expect(parsed.help).toBe(false);
    if (!parsed.help) {
      expect(parsed.options.rateLimit).toBe(false);
      expect(parsed.options.defaultExportPlan?.outcome).toBe('Failed');
      expect(parsed.options.stateFile).toBe('/tmp/x.json');
      expect(parsed.options.credentials?.serviceAccounts).toEqual([{ clientId: 'id', clientSecret: 'secret' }]);
    }
  });
});
