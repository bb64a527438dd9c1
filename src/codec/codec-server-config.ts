import { z } from 'zod';
import { ConfigError, parsePayloadEncryption } from '../config';
import { optionalEnv as env, parseEnv } from '../config/env';
import { withSecretFiles } from '../config/secret-files';
import type { KeyRing } from './key-ring';

/**
 * Configuration of the codec server (`npm run codec-server`), parsed once from the environment: where it
 * listens, which Web UI origins may call it, the optional bearer token, and the payload encryption keys (the
 * workers' `PAYLOAD_ENCRYPTION_*`). Kept apart from `src/config/`, which holds what the worker reads.
 * Messages name variables, never their values.
 */
export interface CodecServerConfig {
  host: string;
  port: number;
  /** Origins of the Temporal Web UI allowed to call the codec server from a browser. */
  corsOrigins: string[];
  /** When set, requests need `Authorization: Bearer <token>`. */
  token: string | undefined;
  keys: KeyRing;
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

const codecServerEnvSchema = z.object({
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
  return Object.freeze({
    host: e.CODEC_SERVER_HOST ?? '127.0.0.1',
    port: e.CODEC_SERVER_PORT ?? DEFAULT_PORT,
    corsOrigins: e.CODEC_SERVER_CORS_ORIGINS ?? DEFAULT_UI_ORIGINS.split(','),
    token: e.CODEC_SERVER_TOKEN,
    keys,
  });
}
