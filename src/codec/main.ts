import { ConfigError } from '../config';
import { parseCodecServerConfig } from './codec-server-config';
import { startCodecServer } from './codec-server';
import { AesGcmPayloadCodec } from './encryption-codec';

/**
 * Codec server entry point (`npm run codec-server`): decrypts payloads for the Temporal Web UI and CLI with the
 * worker's keys. Reads the environment once; runs until SIGINT/SIGTERM.
 */
async function main(): Promise<void> {
  const config = parseCodecServerConfig(process.env);
  const server = await startCodecServer({
    host: config.host,
    port: config.port,
    codec: new AesGcmPayloadCodec(config.keys),
    corsOrigins: config.corsOrigins,
    token: config.token,
  });
  const loopback = ['127.0.0.1', 'localhost', '::1'].includes(config.host);
  console.error(
    JSON.stringify({
      level: 'INFO',
      message: 'Codec server listening',
      url: server.url,
      corsOrigins: config.corsOrigins,
      auth: config.token ? 'bearer token' : 'none',
      keys: config.keys.toJSON(),
    })
  );
  if (!loopback && !config.token) {
    console.error(
      JSON.stringify({
        level: 'WARN',
        message:
          'Codec server reachable beyond loopback without CODEC_SERVER_TOKEN: anyone who can reach it can decrypt',
      })
    );
  }
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.close();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(78); // EX_CONFIG
    }
    console.error(err instanceof Error ? `Codec server failed: ${err.message}` : err);
    process.exit(1);
  }
);
