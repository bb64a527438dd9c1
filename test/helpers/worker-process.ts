import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { TEST_SECRETS } from './atlas';

const ROOT = resolve(__dirname, '..', '..');
/** A config directory with no `temporalio/temporal.toml` (it need not exist). */
const NO_CONFIG_HOME = resolve(ROOT, 'test', 'fixtures', 'no-config-home');

/** The real worker entry point (`src/worker.ts`) in a child process, as production runs it. */
export interface WorkerProcess {
  child: ChildProcess;
  output(): string;
  /** Resolves when the worker logged that it is running. */
  ready(): Promise<void>;
  kill(signal: NodeJS.Signals): Promise<number | null>;
}

/** The environment of a worker process on `taskQueue` against the dev server and a simulator, with the test key. */
export function workerEnv(
  temporalAddress: string,
  atlasUrl: string,
  taskQueue: string,
  extra: Record<string, string> = {}
): Record<string, string> {
  return {
    TEMPORAL_ADDRESS: temporalAddress,
    TEMPORAL_NAMESPACE: 'default',
    TEMPORAL_TASK_QUEUE: taskQueue,
    ATLAS_BASE_URL: atlasUrl,
    ATLAS_PUBLIC_KEY: TEST_SECRETS.publicKey,
    ATLAS_PRIVATE_KEY: TEST_SECRETS.privateKey,
    // The simulators here run 600× real time, so their bucket refills 600× faster than the production default
    // assumes; test/workflows/atlas-rate-limit.test.ts applies a limit scaled to its simulator instead.
    WORKER_ATLAS_PROJECT_RATE_LIMIT: 'off',
    ...extra,
  };
}

export function spawnWorker(env: Record<string, string>): WorkerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(ROOT, 'src/worker.ts')], {
    cwd: ROOT,
    // No metrics endpoint unless a test asks for one: parallel workers would fight over the default port.
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      // No Temporal config file of the person running the tests (~/.config/temporalio/temporal.toml) applies.
      XDG_CONFIG_HOME: NO_CONFIG_HOME,
      WORKER_METRICS_ADDRESS: 'off',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const append = (chunk: Buffer) => {
    output += chunk.toString();
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  return {
    child,
    output: () => output,
    async ready() {
      const deadline = Date.now() + 60_000;
      while (!/state: 'RUNNING'|"RUNNING"|Worker state changed.*RUNNING/.test(output)) {
        if (child.exitCode !== null) throw new Error(`worker exited with ${child.exitCode}:\n${output}`);
        if (Date.now() > deadline) throw new Error(`worker not running after 60 s:\n${output}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async kill(signal) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill(signal);
      const [code] = (await once(child, 'exit')) as [number | null];
      return code;
    },
  };
}
