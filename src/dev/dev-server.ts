import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTE_DEFINITIONS } from '../shared/observability/search-attributes';
import { freePort } from '../net/listen';
import { resolveTemporalCli } from './temporal-cli';

export { freePort };

export interface DevServerOptions {
  ip?: string;
  /** gRPC port; 0 or unset picks a free one. */
  port?: number;
  /** Web UI port; unset disables the UI (headless). */
  uiPort?: number;
  /** SQLite file to keep state across restarts; unset keeps it in memory. */
  dbFilename?: string;
  namespace?: string;
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** Custom search attributes to register at start, name → type; default: the ones `exportSnapshot` upserts. */
  searchAttributes?: readonly { name: string; type: string }[];
  /** Extra `--dynamic-config-value` pairs, on top of (and overriding) {@link DEV_SERVER_DYNAMIC_CONFIG}. */
  dynamicConfig?: Record<string, unknown>;
  /** Port of the server's Prometheus `/metrics` endpoint (on `ip`); unset lets the CLI pick a random one. */
  metricsPort?: number;
}

/**
 * Dynamic config every dev server gets. Fairness mode in matching, so activities are dispatched per fairness key
 * (the Atlas project) and the task queue's per-key rate limit paces each project (docs/atlas-rate-limit.md). On server 1.32 the per-key limit was measured to apply without it too; the flag is what the
 * Temporal docs require for fairness on a self-hosted server, so it is set rather than relied on implicitly.
 */
export const DEV_SERVER_DYNAMIC_CONFIG: Readonly<Record<string, unknown>> = { 'matching.enableFairness': true };

export interface DevServer {
  address: string;
  uiUrl: string | undefined;
  /** The server's Prometheus endpoint, when started with `metricsPort`. */
  metricsUrl: string | undefined;
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts `temporal server start-dev` (SQLite, optional Web UI) and resolves once its frontend answers.
 * The process is killed with the parent's exit if the caller forgets to stop it.
 */
export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  if (options.port) return startDevServerOn(options.port, options);
  // A port we chose may be taken between our probe and the server's bind (by any process's outgoing connection):
  // then choose again, twice at most.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startDevServerOn(await freePort(options.ip ?? '127.0.0.1'), options);
    } catch (err) {
      if (attempt >= 3 || !/address already in use/.test(String(err))) throw err;
    }
  }
}

async function startDevServerOn(port: number, options: DevServerOptions): Promise<DevServer> {
  const cli = resolveTemporalCli();
  const ip = options.ip ?? '127.0.0.1';
  const args = ['server', 'start-dev', '--ip', ip, '--port', String(port), '--log-level', options.logLevel ?? 'error'];
  args.push('--namespace', options.namespace ?? 'default');
  if (options.uiPort !== undefined) args.push('--ui-port', String(options.uiPort), '--ui-ip', ip);
  else args.push('--headless');
  if (options.dbFilename) args.push('--db-filename', options.dbFilename);
  if (options.metricsPort !== undefined) args.push('--metrics-port', String(options.metricsPort));
  for (const { name, type } of options.searchAttributes ?? SEARCH_ATTRIBUTE_DEFINITIONS)
    args.push('--search-attribute', `${name}=${type}`);
  for (const [key, value] of Object.entries({ ...DEV_SERVER_DYNAMIC_CONFIG, ...options.dynamicConfig })) {
    args.push('--dynamic-config-value', `${key}=${JSON.stringify(value)}`);
  }
  // Its own process group: a Ctrl-C in the terminal reaches the caller, which stops the server in order (after
  // its worker), instead of the server dying under a worker and a client that are still using it.
  // Both streams kept (the tail): the CLI reports some start-up errors, such as a port in use, on stdout.
  const child = spawn(cli, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let spawnError: Error | undefined;
  child.once('error', (err) => (spawnError = err));
  let stderr = '';
  const keep = (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  const address = `${ip}:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (spawnError) throw new Error(`Could not start ${cli}: ${spawnError.message}`);
    if (child.exitCode !== null) {
      throw new Error(`temporal server start-dev exited with ${child.exitCode}: ${stderr.trim()}`);
    }
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1_000 });
      try {
        await connection.workflowService.describeNamespace({ namespace: options.namespace ?? 'default' });
        break;
      } finally {
        await connection.close();
      }
    } catch (err) {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`Temporal dev server at ${address} did not become ready in 60 s\n${stderr}`, { cause: err });
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  return {
    address,
    uiUrl: options.uiPort !== undefined ? `http://${ip}:${options.uiPort}` : undefined,
    metricsUrl: options.metricsPort !== undefined ? `http://${ip}:${options.metricsPort}/metrics` : undefined,
    process: child,
    async stop() {
      process.removeListener('exit', killOnExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await once(child, 'exit');
      clearTimeout(timer);
    },
  };
}
