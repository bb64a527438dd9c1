import type { Client } from '@temporalio/client';
// From its own file, not `../config`: the index also loads the worker's Atlas settings (and undici), which the
// CLI and the published package (packages/atlas-export) neither need nor ship.
import { parseTemporalConfig } from '../config/temporal';
import { connectClient, rotateApiKeyFromFile } from '../temporal/connection';

/** The CLI's rotation notices, on stderr (stdout is the command's output, `--json` included). */
const stderrLog = {
  info: (message: string) => process.stderr.write(`${message}\n`),
  warn: (message: string) => process.stderr.write(`${message}\n`),
};

/**
 * The one place the CLI obtains its Temporal connection: from the environment (`TEMPORAL_ADDRESS`, …, or
 * a `TEMPORAL_PROFILE` of the TOML `TEMPORAL_CONFIG_FILE`, read by Temporal's envconfig), closed
 * when `fn` ends; its API key follows `TEMPORAL_API_KEY_FILE` while it is open. Commands validate every argument before calling it, so a bad flag never waits on a connection.
 */
export async function withClient<T>(fn: (client: Client, taskQueue: string) => Promise<T>): Promise<T> {
  const config = parseTemporalConfig(process.env);
  const client = await connectClient(config);
  // A long-lived command (`watch`, `export --wait`) follows a rotated TEMPORAL_API_KEY_FILE.
  const rotation = rotateApiKeyFromFile(config, client.connection, stderrLog);
  try {
    return await fn(client, config.taskQueue);
  } finally {
    rotation?.close();
    await client.connection.close();
  }
}
