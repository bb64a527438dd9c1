import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError, parsePayloadEncryption } from '../config';
import { optionalEnv as env, parseEnv } from '../config/env';
import { withSecretFiles } from '../config/secret-files';
import { isLoopbackHost } from '../net/loopback';
import { LOOPBACK_HOSTS } from './codec-server';
import type { KeyRing } from './key-ring';

/**
 * Configuration of the codec server (`npm run codec-server`), parsed once from the environment: where it
 * listens (TLS optional), which Web UI origins and `Host` names may call it, the bearer token (required beyond
 * loopback), the namespaces it serves, and the payload encryption keys (the workers' `PAYLOAD_ENCRYPTION_*`). Kept apart from `src/config/`, which holds what the worker reads.
 * Messages name variables, never their values.
 */
export interface CodecServerConfig {
  host: string;
  port: number;
  /** Origins of the Temporal Web UI allowed to call the codec server from a browser. */
  corsOrigins: string[];
  /** When set, requests need `Authorization: Bearer <token>`; required unless `host` is loopback. */
  token: string | undefined;
  /** `Host` names requests may carry (DNS-rebinding guard): loopback names, the bound address, `CODEC_SERVER_ALLOWED_HOSTS`. */
  allowedHosts: string[];
  /** Namespaces the keys are for (`CODEC_SERVER_NAMESPACES`, default `default`). */
  namespaces: string[];
  /** PEM certificate chain and key read from `CODEC_SERVER_TLS_CERT_FILE` / `CODEC_SERVER_TLS_KEY_FILE`. */
  tls: { cert: Buffer; key: Buffer } | undefined;
  keys: KeyRing;
  /** `PAYLOAD_ENCRYPTION_REQUIRED=true`: decoding refuses payloads that are not encrypted. */
  requireEncrypted: boolean;
}

const DEFAULT_PORT = 8081;
/** The Web UI of `temporal server start-dev`, by either name. */
const DEFAULT_UI_ORIGINS = 'http://localhost:8233,http://127.0.0.1:8233';

const originSchema = z.string().refine((s) => {
  try {
    const url = new URL(s);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === s;
  } catch {
    return false;
  }
}, 'each entry must be an origin such as https://temporal.example.com (scheme, host and port; no path or trailing slash)');

const commaList = z.string().transform((s) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)
);
const hostNameSchema = z
  .string()
  // A name or IPv4 address, or an IPv6 address (at least two colons); never `name:port`.
  .regex(
    /^(?:[A-Za-z0-9.-]+|[0-9A-Fa-f.]*:[0-9A-Fa-f.]*:[0-9A-Fa-f.:]*)$/,
    'each entry must be a host name or IP address, no port'
  );

const codecServerEnvSchema = z.object({
  CODEC_SERVER_ALLOWED_HOSTS: env(commaList.pipe(z.array(hostNameSchema))),
  CODEC_SERVER_NAMESPACES: env(commaList.pipe(z.array(z.string()).min(1, 'name at least one namespace'))),
  CODEC_SERVER_TLS_CERT_FILE: env(z.string().min(1)),
  CODEC_SERVER_TLS_KEY_FILE: env(z.string().min(1)),
  CODEC_SERVER_HOST: env(z.string()),
  CODEC_SERVER_PORT: env(z.coerce.number().int().min(0).max(65535)),
  CODEC_SERVER_CORS_ORIGINS: env(
    z
      .string()
      .transform((s) =>
        s
          .split(',')
          .map((o) => o.trim().replace(/\/+$/, ''))
          .filter(Boolean)
      )
      .pipe(z.array(originSchema))
  ),
  CODEC_SERVER_TOKEN: env(z.string().min(16, 'must be at least 16 characters')),
});

export function parseCodecServerConfig(environment: NodeJS.ProcessEnv): CodecServerConfig {
  // CODEC_SERVER_TOKEN_FILE: the token from a file (the owner's alone), as every secret variable allows.
  const e = parseEnv(codecServerEnvSchema, withSecretFiles(environment, ['CODEC_SERVER_TOKEN']));
  const keys = parsePayloadEncryption(environment);
  if (!keys) {
    throw new ConfigError(
      'Invalid configuration: the codec server needs the payload encryption keys; set PAYLOAD_ENCRYPTION_KEYS or PAYLOAD_ENCRYPTION_KEY_FILE'
    );
  }
  const host = e.CODEC_SERVER_HOST ?? '127.0.0.1';
  if (!isLoopbackHost(host) && e.CODEC_SERVER_TOKEN === undefined) {
    throw new ConfigError(
      `Invalid configuration: CODEC_SERVER_HOST=${host} is beyond loopback, so CODEC_SERVER_TOKEN is required (anyone who can reach an open codec server can decrypt)`
    );
  }
  if ((e.CODEC_SERVER_TLS_CERT_FILE === undefined) !== (e.CODEC_SERVER_TLS_KEY_FILE === undefined)) {
    throw new ConfigError(
      'Invalid configuration: set both CODEC_SERVER_TLS_CERT_FILE and CODEC_SERVER_TLS_KEY_FILE, or neither'
    );
  }
  return Object.freeze({
    host,
    port: e.CODEC_SERVER_PORT ?? DEFAULT_PORT,
    corsOrigins: e.CODEC_SERVER_CORS_ORIGINS ?? DEFAULT_UI_ORIGINS.split(','),
    token: e.CODEC_SERVER_TOKEN,
    // The address it is bound to (unless a wildcard) is a name clients use too.
    allowedHosts: [
      ...new Set([
        ...LOOPBACK_HOSTS,
        ...(['0.0.0.0', '::'].includes(host) ? [] : [host]),
        ...(e.CODEC_SERVER_ALLOWED_HOSTS ?? []),
      ]),
    ],
    namespaces: e.CODEC_SERVER_NAMESPACES ?? ['default'],
    tls:
      e.CODEC_SERVER_TLS_CERT_FILE && e.CODEC_SERVER_TLS_KEY_FILE
        ? {
            cert: readTlsFile('CODEC_SERVER_TLS_CERT_FILE', e.CODEC_SERVER_TLS_CERT_FILE),
            key: readTlsFile('CODEC_SERVER_TLS_KEY_FILE', e.CODEC_SERVER_TLS_KEY_FILE),
          }
        : undefined,
    keys,
    // Read with the keys (src/config/payload-encryption.ts), as the worker and the CLI read it.
    requireEncrypted: keys.requireEncrypted,
  });
}

function readTlsFile(variable: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ConfigError(`Invalid configuration: ${variable}: cannot read the file (${code})`);
  }
}
