import { z } from 'zod';
import { durationSchema } from '../shared/contract/durations';
import { optionalEnv as env, parseEnv } from './env';
import { withSecretFiles } from './secret-files';
import { parseTemporalConfig, type TemporalConfig } from './temporal';

/**
 * Configuration of the webhook receiver (`npm run webhook-receiver`), parsed once from the environment: where it
 * listens, the webhook secret Atlas signs with, how long a delivery counts as fresh, and the Temporal connection
 * (the same variables and profile file as the worker and the CLI). Messages name variables, never values.
 */
export interface WebhookReceiverConfig {
  host: string;
  port: number;
  /** The secret of the alert configurations' `WEBHOOK` notifications (`ATLAS_WEBHOOK_SECRET[_FILE]`). */
  secret: string;
  /**
   * Deliveries whose alert was last `updated` longer ago than this (or further ahead than the allowed clock
   * skew) are ignored: a signed body captured and replayed later changes nothing once it is this old, and the
   * de-duplication memory covers the window itself.
   */
  replayWindowMs: number;
  /** Request bodies above this are refused with 413 (read no further). */
  maxBodyBytes: number;
  temporal: TemporalConfig;
}

const ADDRESS = /^(?:\[([0-9a-fA-F:]+)\]|([^\s:/[\]]+)):(\d{1,5})$/;
const DEFAULT_ADDRESS = '127.0.0.1:8090';
export const DEFAULT_REPLAY_WINDOW_MS = 15 * 60_000;
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;

const receiverEnvSchema = z.object({
  ATLAS_WEBHOOK_ADDRESS: env(z.string().regex(ADDRESS, 'must be host:port, e.g. 0.0.0.0:8090')),
  ATLAS_WEBHOOK_SECRET: z
    .string('is required (or ATLAS_WEBHOOK_SECRET_FILE): nothing is trusted without a signature')
    .trim()
    .min(16, 'must be at least 16 characters'),
  ATLAS_WEBHOOK_REPLAY_WINDOW: env(
    durationSchema.pipe(
      z
        .number()
        .min(60_000, 'must be at least 1m')
        .max(24 * 3600_000, 'must be at most 24h')
    )
  ),
});

/** `host:port` split, IPv6 hosts without brackets. */
export function splitAddress(address: string): { host: string; port: number } {
  const m = ADDRESS.exec(address);
  if (!m) throw new Error(`${address}: expected host:port`);
  return { host: m[1] ?? m[2]!, port: Number(m[3]) };
}

export function parseWebhookReceiverConfig(environment: NodeJS.ProcessEnv): WebhookReceiverConfig {
  const e = parseEnv(receiverEnvSchema, withSecretFiles(environment, ['ATLAS_WEBHOOK_SECRET']));
  const { host, port } = splitAddress(e.ATLAS_WEBHOOK_ADDRESS ?? DEFAULT_ADDRESS);
  return Object.freeze({
    host,
    port,
    secret: e.ATLAS_WEBHOOK_SECRET,
    replayWindowMs: e.ATLAS_WEBHOOK_REPLAY_WINDOW ?? DEFAULT_REPLAY_WINDOW_MS,
    maxBodyBytes: DEFAULT_MAX_BODY_BYTES,
    temporal: parseTemporalConfig(environment),
  });
}
