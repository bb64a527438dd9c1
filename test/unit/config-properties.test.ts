import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, parseAtlasConfig, parseTemporalConfig, parseWorkerConfig } from '../../src/config';
import { checkProperty, propertySummary } from '../helpers/properties';

/**
 * Issue 6 part 3 for the environment: any env map gives a config, or a `ConfigError` that names the variable;
 * and no message ever contains a secret (the Atlas private key or client secret, the Temporal API key, payload
 * encryption key material), whatever shape the secrets have.
 */

afterAll(() => console.info(`[property] env config:\n${propertySummary()}`));

const VARIABLES = [
  'TEMPORAL_ADDRESS',
  'TEMPORAL_NAMESPACE',
  'TEMPORAL_TASK_QUEUE',
  'TEMPORAL_API_KEY',
  'TEMPORAL_TLS',
  'TEMPORAL_TLS_CLIENT_CERT_PATH',
  'TEMPORAL_TLS_CLIENT_KEY_PATH',
  'TEMPORAL_TLS_SERVER_CA_CERT_PATH',
  'TEMPORAL_TLS_SERVER_NAME',
  'TEMPORAL_TLS_CLIENT_CERT_DATA',
  'TEMPORAL_TLS_CLIENT_KEY_DATA',
  'TEMPORAL_TLS_SERVER_CA_CERT_DATA',
  'TEMPORAL_TLS_DISABLE_HOST_VERIFICATION',
  'TEMPORAL_PROFILE',
  'TEMPORAL_CONFIG_FILE',
  'TEMPORAL_GRPC_META_AUTHORIZATION',
  'ATLAS_BASE_URL',
  'ATLAS_CLIENT_ID',
  'ATLAS_CLIENT_SECRET',
  'ATLAS_PUBLIC_KEY',
  'ATLAS_PRIVATE_KEY',
  'MONGODB_ATLAS_CLIENT_ID',
  'MONGODB_ATLAS_CLIENT_SECRET',
  'MONGODB_ATLAS_PUBLIC_API_KEY',
  'MONGODB_ATLAS_PRIVATE_API_KEY',
  'ATLAS_REQUEST_TIMEOUT',
  'ATLAS_ALLOW_INSECURE_HTTP',
  'WORKER_MAX_CACHED_WORKFLOWS',
  'WORKER_MAX_CONCURRENT_ACTIVITIES',
  'WORKER_MAX_CONCURRENT_WORKFLOW_TASKS',
  'WORKER_MAX_CONCURRENT_WORKFLOW_TASK_POLLS',
  'WORKER_MAX_CONCURRENT_ACTIVITY_TASK_POLLS',
  'WORKER_STICKY_QUEUE_SCHEDULE_TO_START_TIMEOUT',
  'WORKER_WORKFLOW_THREAD_POOL_SIZE',
  'WORKER_WORKFLOW_BUNDLE',
  'WORKER_METRICS_ADDRESS',
  'WORKER_REGISTER_SEARCH_ATTRIBUTES',
  'WORKER_LOG_LEVEL',
  'WORKER_LOG_FORMAT',
  'WORKER_ATLAS_PROJECT_RATE_LIMIT',
  'WORKER_STARTUP_RETRY_TIMEOUT',
  'PAYLOAD_ENCRYPTION_KEYS',
  'PAYLOAD_ENCRYPTION_KEY_FILE',
  'PAYLOAD_ENCRYPTION_KEY_ID',
] as const;
type Variable = (typeof VARIABLES)[number];

/** A recognizable secret of one kind, sometimes padded, sometimes shaped like another kind of value. */
function secret(kind: string): fc.Arbitrary<string> {
  const core = fc.stringMatching(/^[A-Za-z0-9+/=_-]{8,40}$/).map((s) => `SEKRET-${kind}-${s}`);
  return fc.oneof(
    core,
    core.map((s) => `  ${s}\t`),
    core.map((s) => `https://user:${s}@cloud.mongodb.com`),
    core.map((s) => `${s}:${s}`),
    core.map((s) => `"${s}"`)
  );
}

const base64Key = (bytes: number) => fc.uint8Array({ minLength: bytes, maxLength: bytes }).map((b) => Buffer.from(b));
const keyId = fc.oneof(fc.stringMatching(/^[A-Za-z0-9._-]{1,10}$/), fc.constantFrom('', ' ', 'bad id', 'x'.repeat(65)));

/** One `PAYLOAD_ENCRYPTION_KEYS` entry and the part of it that is key material. */
const keyEntry: fc.Arbitrary<{ text: string; material: string }> = fc.oneof(
  fc
    .tuple(keyId, fc.oneof(base64Key(32), base64Key(16), base64Key(33)), fc.constantFrom('base64', 'base64url'))
    .map(([id, key, enc]) => {
      const material = key.toString(enc);
      return { text: `${id}:${material}`, material };
    }),
  fc.tuple(keyId, secret('PAYLOADKEY')).map(([id, s]) => ({ text: `${id}:${s}`, material: s.trim() })),
  secret('PAYLOADKEY').map((s) => ({ text: s, material: s.trim() }))
);

const value: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    '',
    '   ',
    'true',
    'false',
    'yes',
    'maybe',
    '0',
    '1',
    '-1',
    '1e308',
    '99999999999999999999',
    '2.5',
    'NaN',
    'off',
    'localhost:7233',
    '127.0.0.1:9464',
    '[::1]:7233',
    'host:99999999',
    'http://127.0.0.1:8080',
    'http://atlas.example.com',
    'https://cloud.mongodb.com',
    'https://cloud.mongodb.com/path?q=1',
    'ftp://x',
    '30s',
    '0.4ms',
    '30d',
    '3650d',
    '1e400s',
    'DEBUG',
    'json',
    'k1',
    '/nonexistent/keys.json'
  ),
  fc.string({ maxLength: 20 }),
  fc.stringMatching(/^\d{1,12}(ms|s|m|h|d)$/)
);

/** Values per variable: secrets for the secret variables, the generic mix for the others. */
function valueFor(name: Variable): fc.Arbitrary<string> {
  switch (name) {
    case 'ATLAS_PRIVATE_KEY':
      return secret('PRIVATEKEY');
    case 'ATLAS_CLIENT_SECRET':
      return secret('CLIENTSECRET');
    case 'TEMPORAL_API_KEY':
      return secret('APIKEY');
    case 'MONGODB_ATLAS_PRIVATE_API_KEY':
      return secret('CLIPRIVATEKEY');
    case 'MONGODB_ATLAS_CLIENT_SECRET':
      return secret('CLICLIENTSECRET');
    case 'TEMPORAL_TLS_CLIENT_KEY_DATA':
      return secret('TLSKEY');
    case 'TEMPORAL_GRPC_META_AUTHORIZATION':
      return secret('GRPCAUTH');
    case 'PAYLOAD_ENCRYPTION_KEYS':
      return fc.array(keyEntry, { minLength: 1, maxLength: 3 }).map((entries) => entries.map((e) => e.text).join(','));
    default:
      return value;
  }
}

/** An env map: a plausible working base (API key or service account), with variables added, changed or blanked. */
const env: fc.Arbitrary<Record<string, string>> = fc
  .tuple(
    fc.oneof(
      fc.record({ ATLAS_PUBLIC_KEY: fc.constant('pub'), ATLAS_PRIVATE_KEY: secret('PRIVATEKEY') }),
      fc.record({ ATLAS_CLIENT_ID: fc.constant('mdb_sa_id'), ATLAS_CLIENT_SECRET: secret('CLIENTSECRET') }),
      fc.constant({})
    ),
    fc.array(
      fc.constantFrom(...VARIABLES).chain((name) => valueFor(name).map((v) => [name, v] as const)),
      { maxLength: 6 }
    ),
    fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 2 })
  )
  .map(([base, changes, unrelated]) => ({ ...unrelated, ...base, ...Object.fromEntries(changes) }));

/** The secret material in `e`: whole secret values, their trimmed forms, and every payload key. */
function secretsOf(e: Record<string, string>): string[] {
  const out: string[] = [];
  for (const name of [
    'ATLAS_PRIVATE_KEY',
    'ATLAS_CLIENT_SECRET',
    'MONGODB_ATLAS_PRIVATE_API_KEY',
    'MONGODB_ATLAS_CLIENT_SECRET',
    'TEMPORAL_API_KEY',
    'TEMPORAL_TLS_CLIENT_KEY_DATA',
    'TEMPORAL_GRPC_META_AUTHORIZATION',
  ] as const) {
    const v = e[name];
    if (v !== undefined && v.trim() !== '') out.push(v, v.trim());
  }
  const keys = e.PAYLOAD_ENCRYPTION_KEYS;
  if (keys !== undefined && keys.trim() !== '') {
    out.push(keys.trim());
    for (const entry of keys.split(',')) {
      const colon = entry.indexOf(':');
      const material = (colon < 0 ? entry : entry.slice(colon + 1)).trim();
      if (material.length >= 8) out.push(material);
    }
  }
  // A recognizable secret may be embedded in a larger value (e.g. a URL); look for its marker too.
  for (const v of Object.values(e)) for (const m of v.match(/SEKRET-[A-Z]+-[A-Za-z0-9+/=_-]{8,}/g) ?? []) out.push(m);
  return out;
}

const PARSERS = {
  parseTemporalConfig,
  parseAtlasConfig,
  parseWorkerConfig,
} as const;

describe('env config', () => {
  for (const [name, parse] of Object.entries(PARSERS)) {
    it(`${name}: a config, or a ConfigError naming the variable and never a secret`, () => {
      checkProperty(
        `env config (${name})`,
        env,
        (e) => {
          let config: unknown;
          try {
            config = parse(e);
          } catch (err) {
            if (!(err instanceof ConfigError)) throw err;
            expect(err.message).toMatch(/^Invalid configuration: /);
            expect(
              VARIABLES.some((v) => err.message.includes(v)),
              err.message
            ).toBe(true);
            for (const s of secretsOf(e)) expect(err.message, `leaks ${s}`).not.toContain(s);
            return;
          }
          expect(config).toBeTypeOf('object');
          const atlas =
            (config as { atlas?: { requestTimeoutMs: number } }).atlas ??
            (name === 'parseAtlasConfig' ? (config as { requestTimeoutMs: number }) : undefined);
          if (atlas) {
            // undici's timeouts and AbortSignal.timeout need a timer delay (at most 2^31 - 1 ms).
            expect(
              atlas.requestTimeoutMs > 0 && atlas.requestTimeoutMs <= 2 ** 31 - 1,
              `${atlas.requestTimeoutMs}`
            ).toBe(true);
          }
          const worker = config as { maxCachedWorkflows?: number; maxConcurrentActivityTaskExecutions?: number };
          for (const n of [worker.maxCachedWorkflows, worker.maxConcurrentActivityTaskExecutions]) {
            if (n !== undefined) expect(Number.isSafeInteger(n), `${n}`).toBe(true);
          }
        },
        1500
      );
    });
  }
});
