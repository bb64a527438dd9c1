import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTemporalConfig } from '../../src/config';
import { connectClient } from '../../src/temporal/connection';
import { exportSnapshot } from '../../src/workflows';
import { startSimulatedAtlas, type SimulatedAtlas } from '../helpers/atlas';
import { FAST_POLLING } from '../helpers/export-harness';
import { runCli } from '../helpers/run-cli';
import { connectTemporal, uniqueId, type TemporalTestContext } from '../helpers/temporal';
import { spawnWorker, workerEnv, type WorkerProcess } from '../helpers/worker-process';

/**
 * Issue 14: a profile of a TOML config file (`TEMPORAL_CONFIG_FILE`, `TEMPORAL_PROFILE`, as the `temporal` CLI
 * writes it) selects the Temporal server for the worker process and for the CLI, with no `TEMPORAL_ADDRESS`.
 * The file's default profile points at a port nothing listens on, so only the chosen profile can reach the
 * dev server.
 */

let temporal: TemporalTestContext;
let atlas: SimulatedAtlas;
let worker: WorkerProcess | undefined;
let configFile: string;
const taskQueue = uniqueId('profile-tq');

beforeAll(async () => {
  temporal = await connectTemporal();
  atlas = await startSimulatedAtlas();
  configFile = join(mkdtempSync(join(tmpdir(), 'aeo-profile-')), 'temporal.toml');
  writeFileSync(
    configFile,
    [
      '[profile.default]',
      'address = "127.0.0.1:1"',
      '',
      '[profile.devserver]',
      `address = "${temporal.address}"`,
      'namespace = "default"',
      '',
    ].join('\n')
  );
});
afterAll(async () => {
  await worker?.kill('SIGKILL');
  await atlas?.close();
  await temporal?.close();
});

/** The worker's environment without TEMPORAL_ADDRESS/TEMPORAL_NAMESPACE: the profile says where. */
function profileEnv(profile: string): Record<string, string> {
  const env = workerEnv('unused', atlas.sim.url, taskQueue, {
    TEMPORAL_CONFIG_FILE: configFile,
    TEMPORAL_PROFILE: profile,
    // FAST_POLLING's attempt timeout needs a short Atlas request timeout.
    ATLAS_REQUEST_TIMEOUT: '1s',
  });
  delete env.TEMPORAL_ADDRESS;
  delete env.TEMPORAL_NAMESPACE;
  return env;
}

describe('a TOML profile selects the Temporal server', () => {
  let workflowId: string;

  it('for the worker process: it connects to the profile address and completes an export', async () => {
    worker = spawnWorker(profileEnv('devserver'));
    await worker.ready();
    expect(worker.output()).toContain(temporal.address);
    const f = atlas.fixtures;
    workflowId = uniqueId('profile-export');
    const handle = await temporal.client.workflow.start(exportSnapshot, {
      taskQueue,
      workflowId,
      args: [
        {
          groupId: f.groupId,
          clusterName: f.clusterName,
          snapshotId: atlas.sim.addSnapshot(f.groupId, f.clusterName, { status: 'completed' }),
          exportBucketId: f.exportBucketId,
          polling: FAST_POLLING,
        },
      ],
    });
    expect((await handle.result()).state).toBe('Successful');
  }, 180_000);

  it('for the CLI: the connection config it reads reaches the dev server, and a command reads the export', async () => {
    const config = parseTemporalConfig({ TEMPORAL_CONFIG_FILE: configFile, TEMPORAL_PROFILE: 'devserver' });
    expect(config.address).toBe(temporal.address);
    const client = await connectClient(config);
    try {
      expect((await client.workflow.getHandle(workflowId).describe()).taskQueue).toBe(taskQueue);
    } finally {
      await client.connection.close();
    }
    const env = { TEMPORAL_CONFIG_FILE: configFile, TEMPORAL_PROFILE: 'devserver', TEMPORAL_TASK_QUEUE: taskQueue };
    const r = await runCli('src/starter.ts', ['result', workflowId, '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Successful');
  }, 60_000);

  it('names the profile when it is not in the file: the worker and the CLI exit 78', async () => {
    const cli = await runCli('src/starter.ts', ['result', 'whatever'], {
      TEMPORAL_CONFIG_FILE: configFile,
      TEMPORAL_PROFILE: 'staging',
    });
    expect(cli.code).toBe(78);
    expect(cli.stderr).toContain('env.TEMPORAL_PROFILE: no profile "staging"');
    const bad = spawnWorker(profileEnv('staging'));
    const [code] = await new Promise<[number | null]>((done) => bad.child.once('exit', (c) => done([c])));
    expect(code, bad.output()).toBe(78);
    expect(bad.output()).toContain('env.TEMPORAL_PROFILE: no profile "staging"');
  }, 60_000);
});
