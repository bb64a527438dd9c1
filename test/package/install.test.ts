import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExportCompletion, ExportProgress } from '../../src/shared/contract/export-contract';
import { useExportSuite } from '../helpers/export-harness';

/**
 * The published package (packages/atlas-export) installed as a stranger would: `npm pack` (its `prepack` builds
 * it from src/), the tarball installed into a fresh project outside the repository with only what npm fetches
 * from the registry (no tsx, no path aliases, no link to this checkout), a TypeScript consumer compiled by plain
 * `tsc` against the shipped declarations and run by plain `node` against the dev server (an export to
 * `Successful`, with progress read on the way), and the `atlas-export` binary of that install.
 */

const ROOT = resolve(__dirname, '..', '..');
const PACKAGE_DIR = join(ROOT, 'packages', 'atlas-export');
const NO_CONFIG_HOME = join(ROOT, 'test', 'fixtures', 'no-config-home');

interface Manifest {
  name: string;
  version: string;
  bin: Record<string, string>;
  dependencies: Record<string, string>;
  devDependencies?: Record<string, string>;
}
const readManifest = (dir: string) => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;
const rootManifest = readManifest(ROOT);
const packageManifest = readManifest(PACKAGE_DIR);

/**
 * A child's environment with nothing of this checkout: no `node_modules/.bin` of the repo on PATH (npm scripts
 * put it there), no `npm_config_*` or `NODE_OPTIONS` inherited from `npm test` or vitest, no personal Temporal
 * config file. The Node running the tests comes first on PATH, so `npm` and the consumer run on it.
 */
function strangerEnv(extra: Record<string, string> = {}): Record<string, string> {
  const path = (process.env.PATH ?? '').split(delimiter).filter((p) => !p.includes('node_modules'));
  return {
    PATH: [resolve(process.execPath, '..'), ...path].join(delimiter),
    HOME: process.env.HOME ?? '',
    XDG_CONFIG_HOME: NO_CONFIG_HOME,
    ...extra,
  };
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}
function run(file: string, args: string[], cwd: string, env = strangerEnv()): Promise<Run> {
  return new Promise((done) => {
    execFile(file, args, { cwd, env, timeout: 240_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      done({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}
async function mustRun(file: string, args: string[], cwd: string, env?: Record<string, string>): Promise<string> {
  const r = await run(file, args, cwd, env);
  if (r.code !== 0) throw new Error(`${file} ${args.join(' ')} exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

describe('packages/atlas-export manifest', () => {
  it('has the version of the root package, which the CLI prints', () => {
    expect(packageManifest.version).toBe(rootManifest.version);
  });

  it('has one atlas-export binary, in the root (npx atlas-export after npm run build) and in the package', () => {
    expect(rootManifest.bin).toEqual({ 'atlas-export': 'dist/starter.js' });
    expect(packageManifest.bin).toEqual(rootManifest.bin);
    // dist/starter.js is what tsconfig.build.json (rootDir src, outDir dist) makes of this file, shebang kept.
    expect(JSON.parse(readFileSync(join(ROOT, 'tsconfig.build.json'), 'utf8'))).toMatchObject({
      compilerOptions: { rootDir: 'src', outDir: 'dist' },
    });
    expect(readFileSync(join(ROOT, 'src', 'starter.ts'), 'utf8')).toMatch(/^#!\/usr\/bin\/env node\n/);
  });

  it('depends on exactly the versions the repository is tested with, and on nothing of the worker', () => {
    for (const [name, version] of Object.entries(packageManifest.dependencies)) {
      expect(`${name}@${rootManifest.dependencies[name] ?? 'not a root dependency'}`).toBe(`${name}@${version}`);
    }
    const workerOnly = ['@temporalio/worker', '@temporalio/workflow', '@temporalio/activity', 'undici'];
    expect(Object.keys(packageManifest.dependencies).filter((n) => workerOnly.includes(n))).toEqual([]);
  });
});

const CONSUMER_ESM = `
import { Client, Connection } from '@temporalio/client';
import { FailureType, getExportProgress, startExport, waitForExport } from 'atlas-export';
import type { ExportCompletion, ExportProgress, ExportSnapshotInput } from 'atlas-export';

const [address, taskQueue, inputJson] = process.argv.slice(2);
const input = JSON.parse(inputJson!) as ExportSnapshotInput;
const connection = await Connection.connect({ address: address! });
const client = new Client({ connection, namespace: 'default' });
const started = await startExport(client, input, { taskQueue: taskQueue! });
const progress: ExportProgress = await getExportProgress(client, started.workflowId);
const completion: ExportCompletion = await waitForExport(client, started.workflowId);
const finalProgress = await getExportProgress(client, started.workflowId);
console.log(JSON.stringify({ started, progress, completion, finalProgress, exportFailed: FailureType.ExportFailed }));
await connection.close();
`;

const CONSUMER_CJS = `
import { existsSync } from 'node:fs';
// Checked before anything else loads: the contract entry, for a caller's workflow code, loads no SDK client, no gRPC.
import contract = require('atlas-export/contract');
const signal: string = contract.EXPORT_COMPLETED_SIGNAL;
const contractLoadsClient = Object.keys(require.cache).some((f) => /@temporalio[\\/]client|@grpc/.test(f));

import atlasExport = require('atlas-export');
import progressSchema = require('atlas-export/schemas/export-progress.schema.json');

const keys = new atlasExport.KeyRing([['k1', new Uint8Array(32)]], 'k1');
const converter = atlasExport.payloadDataConverter(keys);
const resolves = (name: string) => {
  try {
    require.resolve(name);
    return true;
  } catch {
    return false;
  }
};
console.log(JSON.stringify({
  workflowId: atlasExport.exportWorkflowId({ groupId: 'a'.repeat(24), clusterName: 'C0', snapshotId: 'b'.repeat(24), exportBucketId: 'c'.repeat(24) }),
  schemaLoaded: typeof progressSchema === 'object',
  failureConverterShipped: existsSync(converter.failureConverterPath!),
  workerInstalled: ['@temporalio/worker', '@temporalio/core-bridge', '@swc/core', 'webpack', 'undici'].filter(resolves),
  deepImportRefused: !resolves('atlas-export/dist/cli/program.js'),
  signal,
  contractLoadsClient,
}));
`;

const suite = useExportSuite();
let scratch = '';
let bin = '';

describe('atlas-export installed from its tarball into a fresh project', () => {
  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'atlas-export-consumer-'));
    // `prepack` rebuilds the package from src/ first, so the tarball is never a stale build.
    const packed = await mustRun('npm', ['pack', '--pack-destination', scratch, '--silent'], PACKAGE_DIR);
    const tarball = join(scratch, packed.trim().split('\n').at(-1)!);
    writeFileSync(join(scratch, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
    // What a service adds: the package, the SDK client it constructs, and TypeScript to compile against both.
    const dev = rootManifest.devDependencies ?? {};
    await mustRun(
      'npm',
      [
        'install',
        '--no-audit',
        '--no-fund',
        '--prefer-offline',
        tarball,
        `@temporalio/client@${rootManifest.dependencies['@temporalio/client']}`,
        `typescript@${dev.typescript}`,
        `@types/node@${dev['@types/node']}`,
      ],
      scratch
    );
    writeFileSync(join(scratch, 'service.mts'), CONSUMER_ESM);
    writeFileSync(join(scratch, 'check-require.cts'), CONSUMER_CJS);
    writeFileSync(
      join(scratch, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          target: 'es2022',
          strict: true,
          noUncheckedIndexedAccess: true,
          resolveJsonModule: true,
          // As every Temporal TypeScript project: @temporalio/common's own declarations import the untyped `ms`.
          skipLibCheck: true,
          types: ['node'],
          outDir: 'out',
        },
        files: ['service.mts', 'check-require.cts'],
      })
    );
    await mustRun(join(scratch, 'node_modules', '.bin', 'tsc'), ['-p', '.'], scratch);
    bin = join(scratch, 'node_modules', '.bin', 'atlas-export');
  }, 300_000);

  afterAll(() => {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  it('runs an export to Successful from plain node through the import entry, reading progress', async () => {
    const snapshotId = suite.h.freshSnapshot();
    const input = suite.h.input({ snapshotId });
    const r = await run(
      process.execPath,
      ['out/service.mjs', suite.temporal.address, suite.worker.taskQueue, JSON.stringify(input)],
      scratch
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout) as {
      started: { workflowId: string; started: boolean };
      progress: ExportProgress;
      completion: ExportCompletion;
      finalProgress: ExportProgress;
      exportFailed: string;
    };
    expect(report.started.started).toBe(true);
    expect(report.progress.phase).toMatch(/validating|creating|polling|notifying|done/);
    expect(report.completion).toMatchObject({ state: 'Successful', snapshotId, workflowId: report.started.workflowId });
    expect(report.finalProgress.phase).toBe('done');
    expect(report.finalProgress.exportedCollections).toBe(report.finalProgress.totalCollections);
    expect(report.exportFailed).toBe('ExportFailed');
    expect(suite.atlas.sim.exportJobs().filter((j) => j.snapshotId === snapshotId)).toHaveLength(1);
  });

  it('loads through require too, with the schemas and the failure converter and without the worker', async () => {
    const r = await run(process.execPath, ['out/check-require.cjs'], scratch);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({
      workflowId: expect.stringMatching(/^atlas-export-/) as unknown,
      schemaLoaded: true,
      failureConverterShipped: true,
      workerInstalled: [],
      deepImportRefused: true,
      signal: 'exportCompleted',
      contractLoadsClient: false,
    });
  });

  it('installs the atlas-export binary: --help, --version, and export --wait and list against the dev server', async () => {
    const help = await run(bin, ['--help'], scratch);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/^Usage: atlas-export \[options\] \[command\]/);
    expect(help.stdout).toContain('Exit codes:');

    const version = await run(bin, ['--version'], scratch);
    expect(version.stdout.trim()).toBe(rootManifest.version);

    const env = strangerEnv({
      TEMPORAL_ADDRESS: suite.temporal.address,
      TEMPORAL_NAMESPACE: 'default',
      TEMPORAL_TASK_QUEUE: suite.worker.taskQueue,
    });
    const f = suite.atlas.fixtures;
    const ids = ['--group-id', f.groupId, '--cluster', f.clusterName, '--bucket-id', f.exportBucketId];
    // The CLI has no time scale: the polling floors' 1 s is the fastest it reads.
    const polling = ['--poll-initial', '1s', '--poll-max', '2s', '--timeout', '2m'];
    const args = ['export', ...ids, '--snapshot-id', suite.h.freshSnapshot(), ...polling, '--wait', '--json'];
    const exported = await run(bin, args, scratch, env);
    expect(exported.code, exported.stderr).toBe(0);
    const { workflowId } = JSON.parse(exported.stdout) as { workflowId: string };

    type Listed = { exports: { workflowId: string; state: string }[] };
    const query = `TaskQueue = '${suite.worker.taskQueue}'`;
    let listed: Listed = { exports: [] };
    // Visibility is eventually consistent: the finished export may take a moment to be listed as such.
    for (
      let i = 0;
      i < 20 && !listed.exports.some((e) => e.workflowId === workflowId && e.state === 'Successful');
      i++
    ) {
      if (i > 0) await new Promise((r) => setTimeout(r, 500));
      const list = await run(bin, ['list', '--query', query, '--json'], scratch, env);
      expect(list.code, list.stderr).toBe(0);
      listed = JSON.parse(list.stdout) as Listed;
    }
    expect(listed.exports.find((e) => e.workflowId === workflowId)?.state).toBe('Successful');
  });
});
