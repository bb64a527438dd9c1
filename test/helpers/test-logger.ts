import { DefaultLogger } from '@temporalio/worker';

/**
 * The SDK logger for tests that run code outside a worker (`MockActivityEnvironment`): errors only, or
 * `TEST_LOG_LEVEL` (e.g. `INFO`) when debugging, so a passing run prints no activity log lines.
 */
export function testLogger(): DefaultLogger {
  return new DefaultLogger((process.env.TEST_LOG_LEVEL as 'WARN' | 'INFO' | undefined) ?? 'ERROR');
}
