import { runService } from './process/run-service';
import { parseWebhookReceiverConfig } from './config/webhook-receiver';
import { createLogger } from './observability/json-logger';
import { connectClient, rotateApiKeyFromFile } from './temporal/connection';
import { startWebhookReceiver } from './webhooks/receiver-server';
import { wakeProjectExports } from './webhooks/wake-exports';

/**
 * Webhook receiver entry point (`npm run webhook-receiver`, `node dist/webhook-receiver.js`): takes Atlas's
 * export-end alerts on `POST /atlas/alerts` and wakes the project's running exports through Temporal. Reads the
 * environment once; runs until SIGINT/SIGTERM. See docs/webhooks.md.
 */
async function main(): Promise<void> {
  const config = parseWebhookReceiverConfig(process.env);
  const secrets = new Set([config.secret, ...(config.temporal.apiKey ? [config.temporal.apiKey] : [])]);
  const logger = createLogger({ level: 'INFO', format: 'json', secrets });
  const client = await connectClient(config.temporal);
  const rotation = rotateApiKeyFromFile(config.temporal, client.connection, logger, (key) => secrets.add(key));
  const receiver = await startWebhookReceiver({
    host: config.host,
    port: config.port,
    secret: config.secret,
    replayWindowMs: config.replayWindowMs,
    maxBodyBytes: config.maxBodyBytes,
    wake: (alert) => wakeProjectExports(client, alert),
    log: logger,
  });
  logger.info('Webhook receiver listening', {
    url: `${receiver.url}/atlas/alerts`,
    temporal: config.temporal.address,
    namespace: config.temporal.namespace,
    transport: config.temporal.transport,
    replayWindowMs: config.replayWindowMs,
  });
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  rotation?.close();
  await receiver.close();
  await client.connection.close();
}

runService('Webhook receiver', main);
