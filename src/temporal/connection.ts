import { Client, Connection } from '@temporalio/client';
import { payloadDataConverter } from '../codec';
import type { TemporalConfig } from '../config/temporal';
import { watchSecretFile, type SecretFileWatch } from '../config/secret-file-watch';

/**
 * What `Connection.connect` and `NativeConnection.connect` both take, as envconfig read it: address, TLS (`false`
 * or the settings with certificates read), API key and gRPC metadata.
 */
export function connectionOptions(config: TemporalConfig): {
  address: string;
  tls: TemporalConfig['tls'];
  apiKey: string | undefined;
  metadata: Record<string, string> | undefined;
} {
  return { address: config.address, tls: config.tls, apiKey: config.apiKey, metadata: config.grpcMeta };
}

/**
 * A client for the configured namespace, encrypting payloads when keys are configured; close it with
 * `client.connection.close()`.
 */
export async function connectClient(config: TemporalConfig): Promise<Client & { readonly connection: Connection }> {
  const connection = await Connection.connect(connectionOptions(config));
  const client = new Client({
    connection,
    namespace: config.namespace,
    dataConverter: payloadDataConverter(config.payloadEncryption),
  });
  // `Client` types its connection as the interface; this one is the `Connection` made above (`setApiKey`).
  return client as Client & { readonly connection: Connection };
}

/**
 * Rotation without restart: while the process runs, keeps `connection`'s API key equal to the content of
 * `TEMPORAL_API_KEY_FILE` (`watchSecretFile`: checked every 10 s, the file's mode checked again on each read),
 * through the SDK's `setApiKey` (`NativeConnection` for the worker, `Connection` for clients), which every later
 * call uses. `onKey` sees a new key before the connection does (the worker adds it to its log redactor); the log
 * says that the key changed, never what it is. Undefined when the key did not come from a file.
 */
export function rotateApiKeyFromFile(
  config: TemporalConfig,
  connection: { setApiKey(apiKey: string): void | Promise<void> },
  log: { info(message: string, meta?: Record<string, unknown>): void; warn(message: string): void },
  onKey: (apiKey: string) => void = () => undefined
): SecretFileWatch | undefined {
  if (config.apiKeyFile === undefined || config.apiKey === undefined) return undefined;
  const file = config.apiKeyFile;
  return watchSecretFile({
    variable: 'TEMPORAL_API_KEY_FILE',
    path: file,
    current: config.apiKey,
    onChange: async (apiKey) => {
      onKey(apiKey);
      await connection.setApiKey(apiKey);
      log.info('Temporal API key rotated: read a new key from TEMPORAL_API_KEY_FILE', { file });
    },
    onProblem: (message) => log.warn(`Temporal API key not rotated: ${message}`),
  });
}
