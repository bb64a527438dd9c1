import { inspect } from 'node:util';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/dev/dev-server';
import { startSimulatedAtlas, TEST_SECRETS, type SimulatedAtlas } from '../helpers/atlas';
import { ExportHarness } from '../helpers/export-harness';
import { startRecordingProxy, type Exchange } from '../helpers/recording-proxy';
import { connectTemporal, uniqueId, type TemporalTestContext } from '../helpers/temporal';
import { spawnWorker, type WorkerProcess } from '../helpers/worker-process';

/**
 * Issue 6 part 4a: with recognizable credentials, run the real worker process through successful exports, an
 * Atlas-side failure, a 401, a 500 and OAuth service-account credentials (with a token revoked mid-export),
 * then look for every secret in every place the service writes to: workflow histories (payloads decoded),
 * descriptions and search attributes, failures, the worker's whole stdout/stderr and its /metrics text.
 *
 * Secrets: the private key, the client secret, the Basic header of the token request, every bearer token the
 * token endpoint issued and every digest response the worker sent, as the proxy between worker and simulator
 * saw them on the wire.
 */

/** A non-secret label planted in customData: the scan must find it in the history, proving it reads payloads. */
const CANARY = 'CANARY-planted-in-custom-data-5d1e';

interface WorkerUnderTest {
  name: string;
  process: WorkerProcess;
  taskQueue: string;
  metricsUrl: string;
}

let temporal: TemporalTestContext;
let atlas: SimulatedAtlas;
let proxy: Awaited<ReturnType<typeof startRecordingProxy>>;
let apiKeyWorker: WorkerUnderTest;
let serviceAccountWorker: WorkerUnderTest;
const handles: { label: string; handle: WorkflowHandle }[] = [];

async function startWorker(name: string, credentials: Record<string, string>): Promise<WorkerUnderTest> {
  const port = await freePort();
  const taskQueue = uniqueId(`secrets-${name}`);
  const process = spawnWorker({
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_TASK_QUEUE: taskQueue,
    ATLAS_BASE_URL: proxy.url,
    ATLAS_REQUEST_TIMEOUT: '5s',
    WORKER_METRICS_ADDRESS: `127.0.0.1:${port}`,
    WORKER_LOG_LEVEL: 'DEBUG',
    WORKER_LOG_FORMAT: 'json',
    ...credentials,
  });
  return { name, process, taskQueue, metricsUrl: `http://127.0.0.1:${port}/metrics` };
}

beforeAll(async () => {
  temporal = await connectTemporal();
  atlas = await startSimulatedAtlas();
  proxy = await startRecordingProxy(atlas.sim.url);
  [apiKeyWorker, serviceAccountWorker] = await Promise.all([
    startWorker('api-key', { ATLAS_PUBLIC_KEY: TEST_SECRETS.publicKey, ATLAS_PRIVATE_KEY: TEST_SECRETS.privateKey }),
    startWorker('service-account', {
      ATLAS_CLIENT_ID: TEST_SECRETS.clientId,
      ATLAS_CLIENT_SECRET: TEST_SECRETS.clientSecret,
    }),
  ]);
  await Promise.all([apiKeyWorker.process.ready(), serviceAccountWorker.process.ready()]);
}, 120_000);

afterAll(async () => {
  await apiKeyWorker?.process.kill('SIGKILL');
  await serviceAccountWorker?.process.kill('SIGKILL');
  await proxy?.close();
  await atlas?.close();
  await temporal?.close();
});

/** Every secret: configured credentials and what the worker sent or received as credentials on the wire. */
function secrets(exchanges: readonly Exchange[]): string[] {
  const found = new Set<string>([
    TEST_SECRETS.privateKey,
    TEST_SECRETS.clientSecret,
    Buffer.from(`${TEST_SECRETS.clientId}:${TEST_SECRETS.clientSecret}`).toString('base64'),
  ]);
  for (const x of exchanges) {
    const auth = x.requestHeaders.authorization;
    if (typeof auth === 'string') {
      const bearer = /^Bearer (\S+)$/i.exec(auth);
      if (bearer) found.add(bearer[1]!);
      const basic = /^Basic (\S+)$/i.exec(auth);
      if (basic) found.add(basic[1]!);
      const digest = /[\s,]response="?([0-9a-f]{32})"?/i.exec(auth);
      if (digest) found.add(digest[1]!);
    }
    if (x.url.startsWith('/api/oauth/token')) {
      const token = (JSON.parse(x.responseBody || '{}') as { access_token?: string }).access_token;
      if (token) found.add(token);
    }
  }
  return [...found];
}

/**
 * JSON with every byte array shown as its UTF-8 text and its base64, so payloads can be searched. Walks the
 * values itself: protobuf messages' own `toJSON` would turn payload bytes into base64 only.
 */
function serialize(value: unknown): string {
  const seen = new WeakSet<object>();
  const plain = (v: unknown): unknown => {
    if (v instanceof Uint8Array) return bytes(v);
    if (typeof v === 'bigint') return v.toString();
    if (typeof v !== 'object' || v === null) return v;
    if (seen.has(v)) return '[circular]';
    seen.add(v);
    if (v instanceof Date) return v.toISOString();
    if (v instanceof Map) return [...v.entries()].map(([k, x]) => [plain(k), plain(x)]);
    if (Array.isArray(v)) return v.map(plain);
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(v)) out[key] = plain((v as Record<string, unknown>)[key]);
    if (v instanceof Error)
      Object.assign(out, { name: v.name, message: v.message, stack: v.stack, cause: plain(v.cause) });
    return out;
  };
  return JSON.stringify(plain(value), null, 1);
}

function bytes(b: Uint8Array): { utf8: string; base64: string } {
  const buf = Buffer.from(b);
  return { utf8: buf.toString('utf8'), base64: buf.toString('base64') };
}

/** Where each secret occurs in `sources`, with some context; empty when nothing leaked. */
function scan(sources: Record<string, string>, secretList: readonly string[]): string[] {
  const hits: string[] = [];
  for (const [where, text] of Object.entries(sources)) {
    for (const s of secretList) {
      const at = text.indexOf(s);
      if (at >= 0) hits.push(`${where}: ${JSON.stringify(text.slice(Math.max(0, at - 80), at + s.length + 40))}`);
    }
  }
  return hits;
}

async function outcome(handle: WorkflowHandle): Promise<string> {
  return handle.result().then(
    (r: unknown) => `result ${serialize(r)}`,
    (err: unknown) => `failure ${inspect(err, { depth: 12 })}\n${serialize(err)}`
  );
}

/** `Successful` (or the state), or `failed <type>: <message>`. */
async function shortOutcome(handle: WorkflowHandle): Promise<string> {
  return handle.result().then(
    (r: unknown) => (r as { state: string }).state,
    (err: unknown) => {
      let cause = err instanceof WorkflowFailedError ? err.cause : undefined;
      if (cause instanceof ActivityFailure) cause = cause.cause;
      return `failed ${cause instanceof ApplicationFailure ? cause.type : String(cause?.name)}: ${cause?.message ?? ''}`;
    }
  );
}

async function untilJobCreated(h: ExportHarness, workflowId: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (h.jobsOf(workflowId).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
}

/** Everything the service wrote that a person or another system can read, keyed by where it came from. */
async function collectSources(): Promise<Record<string, string>> {
  const sources: Record<string, string> = {};
  for (const { label, handle } of handles) {
    sources[`history of ${label}`] = serialize(await handle.fetchHistory());
    const d = await handle.describe();
    sources[`describe() of ${label}`] = serialize({
      raw: d.raw,
      searchAttributes: d.searchAttributes,
      typedSearchAttributes: d.typedSearchAttributes,
      memo: d.memo,
    });
    sources[`outcome of ${label}`] = await outcome(handle);
  }
  for (const w of [apiKeyWorker, serviceAccountWorker]) {
    sources[`${w.name} worker stdout/stderr`] = w.process.output();
    sources[`${w.name} worker /metrics`] = await (await fetch(w.metricsUrl)).text();
  }
  return sources;
}

describe('secrets', () => {
  it('appear in no history, search attribute, failure, log line or metric, across successes and failures', async () => {
    const apiKey = new ExportHarness(temporal, atlas, apiKeyWorker.taskQueue);
    const serviceAccount = new ExportHarness(temporal, atlas, serviceAccountWorker.taskQueue);
    const run = async (label: string, h: ExportHarness, input: object, during?: (id: string) => Promise<void>) => {
      const handle = await h.start(input);
      handles.push({ label, handle });
      await during?.(handle.workflowId);
      await outcome(handle);
    };

    await run('api key: success (with the canary)', apiKey, {
      ...apiKey.input({ snapshotId: apiKey.freshSnapshot() }),
      customData: [{ key: 'canary', value: CANARY }],
    });

    const failing = apiKey.freshSnapshot();
    atlas.sim.setExportPlan(
      { queuedMs: 60_000, inProgressMs: 60_000, totalCollections: 3, outcome: 'Failed' },
      { snapshotId: failing }
    );
    await run('api key: the export fails in Atlas', apiKey, apiKey.input({ snapshotId: failing }));

    atlas.sim.injectFaults({ operation: 'createExportJob', kind: 'status', status: 401 });
    await run('api key: create answered 401', apiKey, apiKey.input({ snapshotId: apiKey.freshSnapshot() }));

    atlas.sim.injectFaults({ operation: 'getExportJob', kind: 'status', status: 500, times: 2 });
    await run('api key: status reads answered 500', apiKey, apiKey.input({ snapshotId: apiKey.freshSnapshot() }));
    atlas.sim.clearFaults();

    await run(
      'service account: success',
      serviceAccount,
      serviceAccount.input({ snapshotId: serviceAccount.freshSnapshot() })
    );
    await run(
      'service account: tokens revoked mid-export',
      serviceAccount,
      serviceAccount.input({ snapshotId: serviceAccount.freshSnapshot() }),
      async (workflowId) => {
        await untilJobCreated(serviceAccount, workflowId);
        atlas.sim.revokeAllTokens();
      }
    );

    // The scenarios happened: a 401 and a 500 were served, and both kinds of credentials were used.
    const statuses = atlas.sim.requests.map((r) => r.status);
    expect(statuses).toContain(401);
    expect(statuses).toContain(500);
    expect(atlas.sim.requests.filter((r) => r.auth === 'bearer' && r.status === 401).length).toBeGreaterThan(0);
    expect(atlas.sim.requests.some((r) => r.auth === 'digest' && r.status === 200)).toBe(true);
    expect(atlas.sim.requests.some((r) => r.operation === 'oauthToken' && r.status === 200)).toBe(true);

    const secretList = secrets(proxy.exchanges);
    const bearerTokens = secretList.filter((s) => /^[A-Za-z0-9_-]{43}$/.test(s));
    expect(
      bearerTokens.length,
      'bearer tokens issued (one, and a new one after the revocation)'
    ).toBeGreaterThanOrEqual(2);
    expect(secretList.filter((s) => /^[0-9a-f]{32}$/.test(s)).length, 'digest responses').toBeGreaterThan(0);

    const sources = await collectSources();
    const outcomes = await Promise.all(handles.map(({ handle }) => shortOutcome(handle)));
    console.info(`[secrets] outcomes:\n${handles.map(({ label }, i) => `  ${label}: ${outcomes[i]}`).join('\n')}`);
    expect(outcomes).toEqual([
      'Successful',
      expect.stringMatching(/^failed ExportFailed/),
      expect.stringMatching(/^failed \S+: .* answered 401 /),
      'Successful',
      'Successful',
      'Successful',
    ]);
    // DEBUG logging was on, so the logs are as chatty as they get.
    expect(apiKeyWorker.process.output()).toMatch(/"level":"DEBUG"/i);
    const size = Object.values(sources).reduce((n, t) => n + t.length, 0);
    console.info(
      `[secrets] scanned ${Object.keys(sources).length} sources (${Math.round(size / 1024)} KiB) of ${handles.length} workflows for ${secretList.length} secrets`
    );

    // The scan reads decoded payloads: it finds the canary where it was planted, in the workflow input.
    expect(scan(sources, [CANARY]).some((hit) => hit.startsWith('history of api key: success'))).toBe(true);
    expect(scan(sources, secretList)).toEqual([]);
  }, 120_000);
});
