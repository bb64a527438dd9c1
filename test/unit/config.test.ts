import { describe, expect, it } from 'vitest';
import {
  hasAtlasCredentials,
  parseAtlasConfig,
  parseTemporalConfig,
  parseWorkerConfig,
  redactedWorkerConfig,
} from '../../src/config';
import { configError } from '../helpers/config-errors';

const SECRET = 'super-secret-value-4711';

describe('Temporal config', () => {
  it('defaults to a local dev server and the atlas-exports queue', () => {
    expect(parseTemporalConfig({})).toEqual({
      address: 'localhost:7233',
      namespace: 'default',
      taskQueue: 'atlas-exports',
      apiKey: undefined,
      tls: false,
      transport: 'plaintext-loopback',
    });
  });

  it('turns TLS on for an API key (Temporal Cloud) and keeps the key out of the redacted view', () => {
    const env = {
      TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233',
      TEMPORAL_NAMESPACE: 'ns.acct',
      TEMPORAL_API_KEY: SECRET,
      ATLAS_CLIENT_ID: 'id',
      ATLAS_CLIENT_SECRET: SECRET,
    };
    const config = parseWorkerConfig(env);
    expect(config.temporal.tls).not.toBe(false);
    expect(config.temporal.apiKey).toBe(SECRET);
    expect(JSON.stringify(redactedWorkerConfig(config))).not.toContain(SECRET);
  });

  it('names the variable of a malformed address', () => {
    expect(configError(() => parseTemporalConfig({ TEMPORAL_ADDRESS: 'http://x:7233/' }))).toContain(
      'env.TEMPORAL_ADDRESS'
    );
  });

  it('requires client cert and key together', () => {
    expect(configError(() => parseTemporalConfig({ TEMPORAL_TLS_CLIENT_CERT_PATH: '/c.pem' }))).toContain(
      'TEMPORAL_TLS_CLIENT_KEY_PATH'
    );
  });
});

describe('Atlas config', () => {
  it('reads a service account', () => {
    const c = parseAtlasConfig({ ATLAS_CLIENT_ID: 'mdb_sa_id_x', ATLAS_CLIENT_SECRET: SECRET });
    expect(c.credentials).toEqual({ mode: 'service-account', clientId: 'mdb_sa_id_x', clientSecret: SECRET });
    expect(c.baseUrl).toBe('https://cloud.mongodb.com');
    expect(c.requestTimeoutMs).toBe(30_000);
  });

  it('reads an API key, a base URL without trailing slash and a timeout duration', () => {
    const c = parseAtlasConfig({
      ATLAS_PUBLIC_KEY: 'pub',
      ATLAS_PRIVATE_KEY: SECRET,
      ATLAS_BASE_URL: 'http://127.0.0.1:8089/',
      ATLAS_REQUEST_TIMEOUT: '10s',
    });
    expect(c.credentials.mode).toBe('api-key');
    expect(c.baseUrl).toBe('http://127.0.0.1:8089');
    expect(c.requestTimeoutMs).toBe(10_000);
  });

  it.each([
    [{}, 'no Atlas credentials'],
    [{ ATLAS_CLIENT_ID: 'x' }, 'ATLAS_CLIENT_SECRET is missing'],
    [{ ATLAS_PRIVATE_KEY: SECRET }, 'ATLAS_PUBLIC_KEY is missing'],
    [
      { ATLAS_CLIENT_ID: 'x', ATLAS_CLIENT_SECRET: SECRET, ATLAS_PUBLIC_KEY: 'p', ATLAS_PRIVATE_KEY: SECRET },
      'not both',
    ],
    [{ ATLAS_CLIENT_ID: 'x', ATLAS_CLIENT_SECRET: SECRET, ATLAS_BASE_URL: 'ftp://x' }, 'env.ATLAS_BASE_URL'],
    [{ ATLAS_CLIENT_ID: 'x', ATLAS_CLIENT_SECRET: SECRET, ATLAS_BASE_URL: 'not a url' }, 'env.ATLAS_BASE_URL'],
    [
      { ATLAS_CLIENT_ID: 'x', ATLAS_CLIENT_SECRET: SECRET, ATLAS_BASE_URL: 'http://atlas.example.com' },
      'must use https',
    ],
    [
      { ATLAS_CLIENT_ID: 'x', ATLAS_CLIENT_SECRET: SECRET, ATLAS_BASE_URL: 'https://u:pw@cloud.mongodb.com/x?y=1' },
      'must be an origin only',
    ],
    [
      { ATLAS_CLIENT_ID: 'x', ATLAS_CLIENT_SECRET: SECRET, ATLAS_REQUEST_TIMEOUT: 'forever' },
      'env.ATLAS_REQUEST_TIMEOUT',
    ],
    [
      { ATLAS_CLIENT_ID: 'x', ATLAS_CLIENT_SECRET: SECRET, ATLAS_REQUEST_TIMEOUT: '30d' },
      'env.ATLAS_REQUEST_TIMEOUT: must be at most 1h',
    ],
  ])('rejects %j naming what is wrong, never a secret value', (env, expected) => {
    const message = configError(() => parseAtlasConfig(env));
    expect(message).toContain(expected);
    expect(message).not.toContain(SECRET);
  });

  it('allows plain http to loopback only, the flag that once opened other hosts notwithstanding', () => {
    const env = { ATLAS_CLIENT_ID: 'x', ATLAS_CLIENT_SECRET: SECRET, ATLAS_BASE_URL: 'http://atlas-simulator:8090' };
    expect(configError(() => parseAtlasConfig(env))).toContain('must use https');
    expect(configError(() => parseAtlasConfig({ ...env, ATLAS_ALLOW_INSECURE_HTTP: 'true' }))).toContain(
      'must use https'
    );
    expect(parseAtlasConfig({ ...env, ATLAS_BASE_URL: 'http://127.0.0.1:8089' }).baseUrl).toBe('http://127.0.0.1:8089');
  });

  it("falls back to the Atlas CLI's variable names, never mixing them with ours", () => {
    expect(
      parseAtlasConfig({ MONGODB_ATLAS_CLIENT_ID: 'mdb_sa_id_cli', MONGODB_ATLAS_CLIENT_SECRET: SECRET }).credentials
    ).toEqual({ mode: 'service-account', clientId: 'mdb_sa_id_cli', clientSecret: SECRET });
    expect(
      parseAtlasConfig({ MONGODB_ATLAS_PUBLIC_API_KEY: 'pub-cli', MONGODB_ATLAS_PRIVATE_API_KEY: SECRET }).credentials
    ).toEqual({ mode: 'api-key', publicKey: 'pub-cli', privateKey: SECRET });
    // Ours win when both are set, even when the two name different kinds of credentials.
    const both = parseAtlasConfig({
      ATLAS_PUBLIC_KEY: 'pub',
      ATLAS_PRIVATE_KEY: SECRET,
      MONGODB_ATLAS_CLIENT_ID: 'cli-id',
      MONGODB_ATLAS_CLIENT_SECRET: 'cli-secret-value',
    });
    expect(both.credentials).toEqual({ mode: 'api-key', publicKey: 'pub', privateKey: SECRET });
    // A half-set pair of ours is reported, not completed from the Atlas CLI's names.
    expect(
      configError(() => parseAtlasConfig({ ATLAS_CLIENT_ID: 'x', MONGODB_ATLAS_CLIENT_SECRET: SECRET }))
    ).toContain('env.ATLAS_CLIENT_SECRET is missing');
    // Messages name the variables in use.
    expect(configError(() => parseAtlasConfig({ MONGODB_ATLAS_PRIVATE_API_KEY: SECRET }))).toContain(
      'env.MONGODB_ATLAS_PUBLIC_API_KEY is missing'
    );
    expect(hasAtlasCredentials({ MONGODB_ATLAS_CLIENT_ID: 'x' })).toBe(true);
    expect(hasAtlasCredentials({ MONGODB_ATLAS_CLIENT_ID: ' ' })).toBe(false);
  });

  it('treats blank variables as unset', () => {
    expect(configError(() => parseAtlasConfig({ ATLAS_CLIENT_ID: '  ', ATLAS_CLIENT_SECRET: '' }))).toContain(
      'no Atlas credentials'
    );
  });
});

describe('worker tuning', () => {
  it('has explicit defaults and validates overrides', () => {
    const base = { ATLAS_CLIENT_ID: 'x', ATLAS_CLIENT_SECRET: SECRET };
    expect(parseWorkerConfig(base).maxCachedWorkflows).toBe(500);
    expect(parseWorkerConfig({ ...base, WORKER_MAX_CACHED_WORKFLOWS: '50' }).maxCachedWorkflows).toBe(50);
    expect(configError(() => parseWorkerConfig({ ...base, WORKER_MAX_CONCURRENT_ACTIVITIES: 'many' }))).toContain(
      'env.WORKER_MAX_CONCURRENT_ACTIVITIES'
    );
  });

  it('takes pollers, the sticky queue timeout and workflow threads, within what the SDK accepts', () => {
    const base = { ATLAS_CLIENT_ID: 'x', ATLAS_CLIENT_SECRET: SECRET };
    const defaults = parseWorkerConfig(base);
    expect(defaults.maxConcurrentWorkflowTaskPolls).toBe(10);
    expect(defaults.maxConcurrentActivityTaskPolls).toBe(10);
    expect(defaults.stickyQueueScheduleToStartTimeoutMs).toBe(10_000);
    expect(defaults.workflowThreadPoolSize).toBe(1);
    const tuned = parseWorkerConfig({
      ...base,
      WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '4',
      WORKER_MAX_CONCURRENT_ACTIVITY_TASK_POLLS: '20',
      WORKER_STICKY_QUEUE_SCHEDULE_TO_START_TIMEOUT: '30s',
      WORKER_WORKFLOW_THREAD_POOL_SIZE: '2',
    });
    expect(tuned.maxConcurrentWorkflowTaskPolls).toBe(4);
    expect(tuned.maxConcurrentActivityTaskPolls).toBe(20);
    expect(tuned.stickyQueueScheduleToStartTimeoutMs).toBe(30_000);
    expect(tuned.workflowThreadPoolSize).toBe(2);
    expect(
      configError(() => parseWorkerConfig({ ...base, WORKER_MAX_CONCURRENT_WORKFLOW_TASK_POLLS: '50' }))
    ).toContain('env.WORKER_MAX_CONCURRENT_WORKFLOW_TASK_POLLS');
    expect(
      configError(() =>
        parseWorkerConfig({
          ...base,
          WORKER_MAX_CONCURRENT_ACTIVITIES: '5',
          WORKER_MAX_CONCURRENT_ACTIVITY_TASK_POLLS: '6',
        })
      )
    ).toContain('env.WORKER_MAX_CONCURRENT_ACTIVITY_TASK_POLLS');
    expect(
      configError(() => parseWorkerConfig({ ...base, WORKER_STICKY_QUEUE_SCHEDULE_TO_START_TIMEOUT: '0s' }))
    ).toContain('env.WORKER_STICKY_QUEUE_SCHEDULE_TO_START_TIMEOUT');
  });

  it('takes a prebuilt workflow bundle only when it is a file, and shows which is in force', () => {
    const base = { ATLAS_CLIENT_ID: 'x', ATLAS_CLIENT_SECRET: SECRET };
    expect(parseWorkerConfig(base).workflowBundlePath).toBeUndefined();
    expect(redactedWorkerConfig(parseWorkerConfig(base)).workflowBundlePath).toBe('bundled at start');
    const file = __filename;
    const given = parseWorkerConfig({ ...base, WORKER_WORKFLOW_BUNDLE: ` ${file} ` });
    expect(given.workflowBundlePath).toBe(file);
    expect(redactedWorkerConfig(given).workflowBundlePath).toBe(file);
    for (const bad of [__dirname, `${__dirname}/no-such-bundle.js`]) {
      expect(configError(() => parseWorkerConfig({ ...base, WORKER_WORKFLOW_BUNDLE: bad }))).toContain(
        'env.WORKER_WORKFLOW_BUNDLE: must be the path of a workflow bundle file'
      );
    }
  });
});

describe('worker observability', () => {
  const base = { ATLAS_CLIENT_ID: 'x', ATLAS_CLIENT_SECRET: SECRET };

  it('serves metrics on loopback by default, takes IP socket addresses or off, and refuses host names', () => {
    expect(parseWorkerConfig(base).metricsAddress).toBe('127.0.0.1:9464');
    expect(parseWorkerConfig({ ...base, WORKER_METRICS_ADDRESS: 'off' }).metricsAddress).toBeUndefined();
    expect(parseWorkerConfig({ ...base, WORKER_METRICS_ADDRESS: '0.0.0.0:9090' }).metricsAddress).toBe('0.0.0.0:9090');
    expect(parseWorkerConfig({ ...base, WORKER_METRICS_ADDRESS: '[::1]:9464' }).metricsAddress).toBe('[::1]:9464');
    // The runtime binds a socket address: a host name or a port past 65535 would crash it at start.
    for (const bad of ['localhost:9464', 'worker:9464', '127.0.0.1:70000', '127.0.0.1', '999.1.1.1:9464']) {
      expect(configError(() => parseWorkerConfig({ ...base, WORKER_METRICS_ADDRESS: bad }))).toContain(
        'env.WORKER_METRICS_ADDRESS'
      );
    }
  });

  it('registers search attributes by default; false only checks, skip does neither', () => {
    const mode = (v?: string) =>
      parseWorkerConfig({ ...base, ...(v ? { WORKER_REGISTER_SEARCH_ATTRIBUTES: v } : {}) }).searchAttributes;
    expect(mode()).toBe('register');
    expect(mode('false')).toBe('check');
    expect(mode('skip')).toBe('skip');
    expect(configError(() => mode('maybe'))).toContain('env.WORKER_REGISTER_SEARCH_ATTRIBUTES');
  });

  it('limits Atlas activities to 4 per second per project by default; a number, off or skip', () => {
    const limit = (v?: string) =>
      parseWorkerConfig({ ...base, ...(v !== undefined ? { WORKER_ATLAS_PROJECT_RATE_LIMIT: v } : {}) })
        .atlasProjectRateLimit;
    expect(limit()).toBe(4);
    expect(limit(' ')).toBe(4);
    expect(limit('2.5')).toBe(2.5);
    expect(limit('off')).toBe('off');
    expect(limit('skip')).toBe('skip');
    for (const bad of ['0', '-1', 'fast', '1e9']) {
      expect(configError(() => limit(bad))).toContain('env.WORKER_ATLAS_PROJECT_RATE_LIMIT');
    }
  });

  it('retries Temporal at start for 2 minutes by default, a duration from 1s to 1h, and shows it', () => {
    const wait = (v?: string) =>
      parseWorkerConfig({ ...base, ...(v !== undefined ? { WORKER_STARTUP_RETRY_TIMEOUT: v } : {}) })
        .startupRetryTimeoutMs;
    expect(wait()).toBe(120_000);
    expect(wait(' ')).toBe(120_000);
    expect(wait('5s')).toBe(5_000);
    expect(wait(' 10m ')).toBe(600_000);
    expect(redactedWorkerConfig(parseWorkerConfig({ ...base, WORKER_STARTUP_RETRY_TIMEOUT: '1h' }))).toMatchObject({
      startupRetryTimeoutMs: 3_600_000,
    });
    for (const bad of ['0s', '500ms', '2h', '120', 'soon']) {
      expect(configError(() => wait(bad))).toContain('env.WORKER_STARTUP_RETRY_TIMEOUT');
    }
  });
});
