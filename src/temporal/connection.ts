import { Client, Connection } from '@temporalio/client';
import { payloadDataConverter } from '../codec';
import type { TemporalConfig } from '../config/temporal';

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
export async function connectClient(config: TemporalConfig): Promise<Client> {
  const connection = await Connection.connect(connectionOptions(config));
  return new Client({
    connection,
    namespace: config.namespace,
    dataConverter: payloadDataConverter(config.payloadEncryption),
  });
}
