import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { TargetPolicy } from '../../src/activities';
import { startDevServer } from '../../src/dev/dev-server';

/** Benches run against the simulator only: any target, its scaled clock. */
export const BENCH_POLICY: TargetPolicy = Object.freeze({
  allowedTargets: undefined,
  maxOnDemandRetentionDays: 365,
  simulator: true,
});

/** Something a bench started, and how to stop it; benches stop them in reverse order. */
export interface Cleanup {
  what: string;
  run: () => Promise<unknown>;
}

/**
 * Starts a headless Temporal dev server and connects a client and a worker connection to it, registering how to
 * stop each in `cleanups` as soon as it exists (so a failure half-way still stops what did start).
 */
export async function startBenchTemporal(
  cleanups: Cleanup[],
  namespace = 'default'
): Promise<{ address: string; client: Client; nativeConnection: NativeConnection }> {
  const server = await startDevServer();
  cleanups.push({ what: 'dev server', run: () => server.stop() });
  const connection = await Connection.connect({ address: server.address });
  cleanups.push({ what: 'client connection', run: () => connection.close() });
  const nativeConnection = await NativeConnection.connect({ address: server.address });
  cleanups.push({ what: 'worker connection', run: () => nativeConnection.close() });
  return { address: server.address, client: new Client({ connection, namespace }), nativeConnection };
}
