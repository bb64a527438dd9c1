import { runService } from '../process/run-service';
import { createLogger } from '../observability/json-logger';
import { parseCodecServerConfig } from './codec-server-config';
import { startCodecServer } from './codec-server';
import { AesGcmPayloadCodec } from './encryption-codec';

/**
 * Codec server entry point (`npm run codec-server`): decrypts payloads for the Temporal Web UI and CLI with the
 * worker's keys. Reads the environment once; runs until SIGINT/SIGTERM.
 */
async function main(): Promise<void> {
  const config = parseCodecServerConfig(process.env);
  // The project's log format (one JSON object per line on stderr), with the token and keys as redacted secrets.
  const logger = createLogger({
    level: 'INFO',
    format: 'json',
    secrets: [config.token, ...config.keys.redactionForms()],
  });
  const server = await startCodecServer({
    host: config.host,
    port: config.port,
    codec: new AesGcmPayloadCodec(config.keys),
    corsOrigins: config.corsOrigins,
    token: config.token,
    allowedHosts: config.allowedHosts,
    namespaces: config.namespaces,
    tls: config.tls,
    logError: (message) => logger.error(message),
  });
  // A non-loopback host without a token was refused by parseCodecServerConfig.
  logger.info('Codec server listening', {
    url: server.url,
    corsOrigins: config.corsOrigins,
    allowedHosts: config.allowedHosts,
    namespaces: config.namespaces,
    auth: config.token ? 'bearer token' : 'none (loopback only)',
    keys: config.keys.toJSON(),
    requireEncrypted: config.requireEncrypted,
  });
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.close();
}

runService('Codec server', main);
