import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { freePort, startDevServer } from '../../src/dev/dev-server';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    temporalDbFile: string;
    temporalUiUrl: string;
  }
}

/**
 * One Temporal dev server (the real `temporal` CLI, SQLite on disk) for the whole test run. Each test
 * file uses its own task queues and workflow ids, so files can share it.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = mkdtempSync(join(tmpdir(), 'aeo-temporal-'));
  const dbFilename = join(dir, 'temporal.sqlite');
  // With its Web UI, for the browser test (test/monitoring/web-ui.test.ts), and fairness on (DEV_SERVER_DYNAMIC_CONFIG),
  // which test/workflows/atlas-rate-limit.test.ts relies on.
  const server = await startDevServer({ dbFilename, uiPort: await freePort() });
  project.provide('temporalAddress', server.address);
  project.provide('temporalDbFile', dbFilename);
  project.provide('temporalUiUrl', server.uiUrl!);
  console.log(`[global-setup] Temporal dev server on ${server.address}, Web UI ${server.uiUrl} (db ${dbFilename})`);
  return async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  };
}
