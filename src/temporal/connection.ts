import { readFileSync } from 'node:fs';
import { Client, Connection, type TLSConfig } from '@temporalio/client';
import { payloadDataConverter } from '../codec';
import type { TemporalConfig } from '../config';

/** TLS settings for the Temporal connection, read from the configured files. */
export function temporalTls(config: TemporalConfig): TLSConfig | false {
  if (config.tls === false) return false;
  const t = config.tls;
  return {
    serverNameOverride: t.serverName,
    serverRootCACertificate: t.serverCaCertPath ? readFileSync(t.serverCaCertPath) : undefined,
    clientCertPair:
      t.clientCertPath && t.clientKeyPath
        ? { crt: readFileSync(t.clientCertPath), key: readFileSync(t.clientKeyPath) }
        : undefined,
  };
}

/**
 * A client for the configured namespace, encrypting payloads when keys are configured; close it with
 * `client.connection.close()`.
 */
export async function connectClient(config: TemporalConfig): Promise<Client> {
  const connection = await Connection.connect({
    address: config.address,
    tls: temporalTls(config),
    apiKey: config.apiKey,
  });
  return new Client({
    connection,
    namespace: config.namespace,
    dataConverter: payloadDataConverter(config.payloadEncryption),
  });
}
