import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Fault, RequestLogEntry } from '../../src/simulator';
import { FailureType } from '../../src/shared/contract/failure-types';
import { startSimulatedAtlas, type SimulatedAtlas } from '../helpers/atlas';
import { ExportHarness, failureOf } from '../helpers/export-harness';
import { fetchHistoryStats } from '../helpers/history';
import { connectTemporal, startTestWorker, type TemporalTestContext, type TestWorker } from '../helpers/temporal';

/**
 * The fault matrix of issue 6: every Atlas fault, once on the create POST and once on a status read, with the
 * exact outcome each must have. Each row runs on its own cluster and scopes its fault to that cluster's path,
 * so all rows run at once against one worker and one simulator (the suite takes about as long as its slowest
 * row). Faults stay queued until a request consumes them, hence no `afterEach(clearFaults)` here.
 */

type Phase = 'create' | 'poll';

type Expectation =
  | {
      outcome: 'recovered';
      /** Requests of the row's operation until one was used (create: every POST; poll: reads up to a good one). */
      attempts: number;
      /** create: attempts of the `createExportJob` activity (more than POSTs when a retry adopted the job). */
      activityAttempts?: number;
      /** The request after the faulted one came at least this late (Retry-After, or the 429/503 fallback). */
      minGapMs?: number;
    }
  | {
      outcome: 'failed';
      type: string;
      messageIncludes: string;
      /** Requests of the row's operation: the failure was the answer to the last one (no retry). */
      attempts?: number;
      /** Jobs tagged with the workflow: 0 when create failed before Atlas took it, else 1. */
      jobs: 0 | 1;
    };

interface Row {
  name: string;
  phase: Phase;
  fault: Omit<Fault, 'operation' | 'pathIncludes'>;
  /** poll: the faulted read still delivered a status the workflow used (slow but complete, or an odd state). */
  faultedReadUsable?: boolean;
  /** Where the fault goes when not on the phase's own request (which is still the one counted). */
  faultOn?: 'listExportJobs';
  /** More faults, on the row's cluster too. */
  alsoFaults?: Omit<Fault, 'pathIncludes'>[];
  polling?: { timeout: string };
  expect: Expectation;
}

/** Both phases answer these statuses the same way: typed, non-retryable, with what to fix. */
const NON_RETRYABLE: [status: number, errorCode: string, toFix: string][] = [
  [400, 'VALIDATION_ERROR', 'To fix: Atlas rejected the request as invalid'],
  [401, 'UNEXPECTED_ERROR', 'check ATLAS_CLIENT_ID/ATLAS_CLIENT_SECRET or ATLAS_PUBLIC_KEY'],
  [403, 'ACCESS_FORBIDDEN', 'grant it Project Backup Export Operator'],
  [404, 'RESOURCE_NOT_FOUND', 'check groupId, clusterName, snapshotId and exportBucketId'],
  [406, 'INVALID_VERSION_DATE', 'Atlas refused the API version this service sends'],
  [410, 'VERSION_GONE', 'the Atlas API version this service sends is gone'],
];

const FALLBACK_MIN_MS = 7_500; // 10 s − 25 % jitter: the first 429/503 backoff without Retry-After
const MIN_RETRY_DELAY_MS = 1_000; // the floor of any 429/503 wait (src/activities/failure-mapping.ts)
/** Rows whose Retry-After asks for more than the deadline leaves: the wait is half of what is left (~20 s). */
const SHORT_DEADLINE = { timeout: '40s' };

/**
 * Retry-After values peers we did not write may send: each must end in a bounded wait (floor 1 s, cap 10 min and
 * half of what the deadline leaves; the jittered fallback for values that are no Retry-After) and a recovered export.
 */
const RETRY_AFTER_FORMS: {
  name: string;
  retryAfter: string | string[];
  minGapMs: number;
  polling?: { timeout: string };
}[] = [
  { name: '0', retryAfter: '0', minGapMs: MIN_RETRY_DELAY_MS },
  { name: '-5 (negative: not a Retry-After)', retryAfter: '-5', minGapMs: FALLBACK_MIN_MS },
  { name: 'an HTTP-date in the past', retryAfter: 'Wed, 21 Oct 2015 07:28:00 GMT', minGapMs: MIN_RETRY_DELAY_MS },
  {
    name: 'a far-future HTTP-date',
    retryAfter: 'Fri, 31 Dec 9999 23:59:59 GMT',
    minGapMs: 10_000,
    polling: SHORT_DEADLINE,
  },
  { name: '1000000000000 (huge)', retryAfter: '1000000000000', minGapMs: 10_000, polling: SHORT_DEADLINE },
  { name: '1e12 (not delay-seconds)', retryAfter: '1e12', minGapMs: FALLBACK_MIN_MS },
  { name: 'garbage', retryAfter: 'soon', minGapMs: FALLBACK_MIN_MS },
  { name: 'two values, 2 and 3 (the longer counts)', retryAfter: ['2', '3'], minGapMs: 3_000 },
];
/** Well above the ~1–2.5 s a retry takes anyway (1 s backoff plus scheduling), so ignoring it shows. */
const RETRY_AFTER_S = 5;
const REQUEST_TIMEOUT_MS = 5_000; // the test client's (test/helpers/atlas.ts)
/**
 * No new POST for two request timeouts after one that got no answer, counted from when the worker sent it. The
 * simulator (in the test process) logs arrivals, later for the first (a new connection) than for the second, by up
 * to ~0.5 s on a loaded machine: hence a 1 s slack, still far above the ~1–2.5 s of a retry that did not wait.
 */
const UNCERTAIN_POST_GAP_MS = 2 * REQUEST_TIMEOUT_MS - 1_000;

const rows: Row[] = [
  ...(['create', 'poll'] as const).flatMap((phase) =>
    NON_RETRYABLE.map(([status, errorCode, toFix]): Row => ({
      name: `${status} ${errorCode}`,
      phase,
      fault: { kind: 'status', status, errorCode },
      expect: {
        outcome: 'failed',
        type: errorCode,
        messageIncludes: toFix,
        attempts: 1,
        jobs: phase === 'create' ? 0 : 1,
      },
    }))
  ),

  ...(['create', 'poll'] as const).flatMap((phase) =>
    RETRY_AFTER_FORMS.map((form): Row => ({
      name: `429 with Retry-After ${form.name}`,
      phase,
      fault: { kind: 'status', status: 429, errorCode: 'RATE_LIMITED', retryAfter: form.retryAfter },
      ...(form.polling ? { polling: form.polling } : {}),
      expect: {
        outcome: 'recovered',
        attempts: 2,
        ...(phase === 'create' ? { activityAttempts: 2 } : {}),
        minGapMs: form.minGapMs,
      },
    }))
  ),
  ...(['create', 'poll'] as const).map((phase): Row => ({
    name: '503 with Retry-After 0',
    phase,
    fault: { kind: 'status', status: 503, retryAfter: '0' },
    expect: {
      outcome: 'recovered',
      attempts: 2,
      ...(phase === 'create' ? { activityAttempts: 2 } : {}),
      minGapMs: MIN_RETRY_DELAY_MS,
    },
  })),

  // create: retryable statuses are retried until the POST goes through; one job either way.
  {
    name: '409, nothing to adopt',
    phase: 'create',
    fault: { kind: 'status', status: 409 },
    expect: { outcome: 'recovered', attempts: 2, activityAttempts: 2 },
  },
  {
    name: '409 for a create that took effect',
    phase: 'create',
    fault: { kind: 'status', status: 409, afterHandling: true },
    expect: { outcome: 'recovered', attempts: 1, activityAttempts: 1 },
  },
  {
    name: `429 with Retry-After ${RETRY_AFTER_S}`,
    phase: 'create',
    fault: { kind: 'status', status: 429, errorCode: 'RATE_LIMITED_TOKEN_BUCKET', retryAfterSeconds: RETRY_AFTER_S },
    expect: { outcome: 'recovered', attempts: 2, activityAttempts: 2, minGapMs: RETRY_AFTER_S * 1_000 },
  },
  {
    name: '429 without Retry-After',
    phase: 'create',
    fault: { kind: 'status', status: 429, errorCode: 'RATE_LIMITED' },
    expect: { outcome: 'recovered', attempts: 2, activityAttempts: 2, minGapMs: FALLBACK_MIN_MS },
  },
  {
    name: '500',
    phase: 'create',
    fault: { kind: 'status', status: 500 },
    expect: { outcome: 'recovered', attempts: 2, activityAttempts: 2 },
  },
  {
    // A gateway's answer: the backend may still act, so one attempt waits (2 request timeouts) before POSTing again.
    name: '502',
    phase: 'create',
    fault: { kind: 'status', status: 502 },
    expect: { outcome: 'recovered', attempts: 2, activityAttempts: 3, minGapMs: UNCERTAIN_POST_GAP_MS },
  },
  {
    name: `503 with Retry-After ${RETRY_AFTER_S}`,
    phase: 'create',
    fault: { kind: 'status', status: 503, retryAfterSeconds: RETRY_AFTER_S },
    expect: { outcome: 'recovered', attempts: 2, activityAttempts: 2, minGapMs: RETRY_AFTER_S * 1_000 },
  },
  {
    name: '503 without Retry-After',
    phase: 'create',
    fault: { kind: 'status', status: 503 },
    expect: { outcome: 'recovered', attempts: 2, activityAttempts: 2, minGapMs: FALLBACK_MIN_MS },
  },
  {
    // A gateway's answer: the backend may still act, so one attempt waits (2 request timeouts) before POSTing again.
    name: '504',
    phase: 'create',
    fault: { kind: 'status', status: 504 },
    expect: { outcome: 'recovered', attempts: 2, activityAttempts: 3, minGapMs: UNCERTAIN_POST_GAP_MS },
  },
  {
    // No answer: Atlas may yet act on it, so one attempt waits (2 request timeouts) before POSTing again.
    name: 'connection reset before Atlas acted',
    phase: 'create',
    fault: { kind: 'reset' },
    expect: { outcome: 'recovered', attempts: 2, activityAttempts: 3, minGapMs: UNCERTAIN_POST_GAP_MS },
  },
  {
    // Atlas acts on the POST after the client gave up and after the retry listed: the retry waits, then adopts.
    name: 'timeout (Atlas acts after the retry listed)',
    phase: 'create',
    fault: { kind: 'delay', delayMs: REQUEST_TIMEOUT_MS + 3_000 },
    expect: { outcome: 'recovered', attempts: 1, activityAttempts: 3 },
  },
  {
    name: 'connection reset after Atlas created the job',
    phase: 'create',
    fault: { kind: 'reset', afterHandling: true },
    expect: { outcome: 'recovered', attempts: 1, activityAttempts: 2 },
  },
  {
    // Atlas takes the POST after the client gave up; the retry (≥ 1 s after the timeout) finds the job.
    name: 'timeout (Atlas acts after the client gave up)',
    phase: 'create',
    fault: { kind: 'delay', delayMs: REQUEST_TIMEOUT_MS + 300 },
    expect: { outcome: 'recovered', attempts: 1, activityAttempts: 2 },
  },
  {
    name: 'slow body within the request timeout',
    phase: 'create',
    fault: { kind: 'slowBody', delayMs: 1_000 },
    expect: { outcome: 'recovered', attempts: 1, activityAttempts: 1 },
  },
  {
    name: 'slow body past the request timeout',
    phase: 'create',
    fault: { kind: 'slowBody', delayMs: REQUEST_TIMEOUT_MS + 1_000 },
    expect: { outcome: 'recovered', attempts: 1, activityAttempts: 2 },
  },
  {
    // A 2xx means Atlas took the POST, readable or not: the job is adopted from the list in the same attempt.
    name: 'malformed JSON',
    phase: 'create',
    fault: { kind: 'malformed' },
    expect: { outcome: 'recovered', attempts: 1, activityAttempts: 1 },
  },
  {
    // A 2xx is a job Atlas created: without an id in the answer, it is found by its tag in the same attempt.
    name: '2xx without an id',
    phase: 'create',
    fault: { kind: 'patchBody', omit: ['id'] },
    expect: { outcome: 'recovered', attempts: 1, activityAttempts: 1 },
  },
  {
    // ...and when the list does not show it yet, the attempts that follow look again, never POST again.
    name: '2xx without an id, job not listed yet',
    phase: 'create',
    fault: { kind: 'patchBody', omit: ['id'] },
    alsoFaults: [{ operation: 'listExportJobs', kind: 'emptyList', times: 3 }],
    expect: { outcome: 'recovered', attempts: 1, activityAttempts: 3 },
  },
  {
    // With an id but state null: that job is read back with one GET.
    name: '2xx with state null',
    phase: 'create',
    fault: { kind: 'patchBody', set: { state: null } },
    expect: { outcome: 'recovered', attempts: 1, activityAttempts: 1 },
  },
  {
    // Only the POST's answer drifted (state 42): the job it names is read back.
    name: 'body drifted from the schema',
    phase: 'create',
    fault: { kind: 'schemaDrift' },
    expect: { outcome: 'recovered', attempts: 1, activityAttempts: 1 },
  },
  {
    // Wrong types in the list (every item's state, totalCount) are read item by item: nothing to adopt, one POST.
    name: 'list answer drifted from the schema',
    phase: 'create',
    faultOn: 'listExportJobs',
    fault: { kind: 'schemaDrift' },
    expect: { outcome: 'recovered', attempts: 1, activityAttempts: 1 },
  },
  {
    name: 'state Atlas never sent (Paused)',
    phase: 'create',
    fault: { kind: 'unknownState' },
    expect: { outcome: 'recovered', attempts: 1, activityAttempts: 1 },
  },

  // poll: a status read that fails retryably is read again; the export completes.
  { name: '409', phase: 'poll', fault: { kind: 'status', status: 409 }, expect: { outcome: 'recovered', attempts: 2 } },
  {
    name: `429 with Retry-After ${RETRY_AFTER_S}`,
    phase: 'poll',
    fault: { kind: 'status', status: 429, errorCode: 'RATE_LIMITED_TOKEN_BUCKET', retryAfterSeconds: RETRY_AFTER_S },
    expect: { outcome: 'recovered', attempts: 2, minGapMs: RETRY_AFTER_S * 1_000 },
  },
  {
    name: '429 without Retry-After',
    phase: 'poll',
    fault: { kind: 'status', status: 429, errorCode: 'RATE_LIMITED' },
    expect: { outcome: 'recovered', attempts: 2, minGapMs: FALLBACK_MIN_MS },
  },
  { name: '500', phase: 'poll', fault: { kind: 'status', status: 500 }, expect: { outcome: 'recovered', attempts: 2 } },
  { name: '502', phase: 'poll', fault: { kind: 'status', status: 502 }, expect: { outcome: 'recovered', attempts: 2 } },
  {
    name: `503 with Retry-After ${RETRY_AFTER_S}`,
    phase: 'poll',
    fault: { kind: 'status', status: 503, retryAfterSeconds: RETRY_AFTER_S },
    expect: { outcome: 'recovered', attempts: 2, minGapMs: RETRY_AFTER_S * 1_000 },
  },
  {
    name: '503 without Retry-After',
    phase: 'poll',
    fault: { kind: 'status', status: 503 },
    expect: { outcome: 'recovered', attempts: 2, minGapMs: FALLBACK_MIN_MS },
  },
  { name: '504', phase: 'poll', fault: { kind: 'status', status: 504 }, expect: { outcome: 'recovered', attempts: 2 } },
  { name: 'connection reset', phase: 'poll', fault: { kind: 'reset' }, expect: { outcome: 'recovered', attempts: 2 } },
  {
    name: 'timeout',
    phase: 'poll',
    fault: { kind: 'delay', delayMs: REQUEST_TIMEOUT_MS + 1_000 },
    expect: { outcome: 'recovered', attempts: 2 },
  },
  {
    name: 'slow body within the request timeout',
    phase: 'poll',
    fault: { kind: 'slowBody', delayMs: 1_000 },
    faultedReadUsable: true,
    expect: { outcome: 'recovered', attempts: 1 },
  },
  {
    name: 'slow body past the request timeout',
    phase: 'poll',
    fault: { kind: 'slowBody', delayMs: REQUEST_TIMEOUT_MS + 1_000 },
    expect: { outcome: 'recovered', attempts: 2 },
  },
  // A bad 2xx body is not retried: the job keeps running in Atlas, the workflow stops following it.
  {
    name: 'malformed JSON',
    phase: 'poll',
    fault: { kind: 'malformed' },
    expect: {
      outcome: 'failed',
      type: FailureType.AtlasResponseSchemaMismatch,
      messageIncludes: 'body is not valid JSON',
      attempts: 1,
      jobs: 1,
    },
  },
  {
    name: 'body drifted from the schema',
    phase: 'poll',
    fault: { kind: 'schemaDrift' },
    expect: {
      outcome: 'failed',
      type: FailureType.AtlasResponseSchemaMismatch,
      messageIncludes: 'state: Invalid input: expected string, received number',
      attempts: 1,
      jobs: 1,
    },
  },
  {
    // An unknown state is not terminal: the workflow keeps polling and reports the next real state.
    name: 'state Atlas never sent (Paused), once',
    phase: 'poll',
    fault: { kind: 'unknownState' },
    faultedReadUsable: true,
    expect: { outcome: 'recovered', attempts: 1 },
  },
  {
    // ...and never takes it for success: while Atlas keeps saying it, the deadline ends the workflow.
    name: 'state Atlas never sent (Paused), every read',
    phase: 'poll',
    fault: { kind: 'unknownState', times: 10_000 },
    faultedReadUsable: true,
    polling: { timeout: '20s' },
    expect: {
      outcome: 'failed',
      type: FailureType.ExportDeadlineExceeded,
      messageIncludes: 'was still Paused at the polling deadline',
      jobs: 1,
    },
  },
];

const OPERATION: Record<Phase, 'createExportJob' | 'getExportJob'> = {
  create: 'createExportJob',
  poll: 'getExportJob',
};

interface Observed {
  handle: Awaited<ReturnType<ExportHarness['start']>>;
  cluster: string;
  /** Requests of the row's operation on its cluster, without auth challenges, in arrival order. */
  requests: RequestLogEntry[];
  jobs: number;
  pendingFaults: number;
  wallMs: number;
}

let temporal: TemporalTestContext;
let atlas: SimulatedAtlas;
let worker: TestWorker;
let h: ExportHarness;
const observed = new Map<Row, Observed>();
const verdicts: { row: Row; passed: boolean; detail: string }[] = [];

const label = (row: Row) => `${row.phase}: ${row.name}`;

async function runRow(row: Row, index: number): Promise<void> {
  const cluster = `fault-matrix-${row.phase}-${index}`;
  atlas.sim.addCluster(atlas.fixtures.groupId, cluster);
  const snapshotId = h.freshSnapshot(cluster);
  const pathIncludes = `/clusters/${cluster}/`;
  atlas.sim.injectFaults({ ...row.fault, operation: row.faultOn ?? OPERATION[row.phase], pathIncludes });
  for (const fault of row.alsoFaults ?? []) atlas.sim.injectFaults({ ...fault, pathIncludes });
  const started = Date.now();
  const input = h.input({ clusterName: cluster, snapshotId });
  // Some 60 rows start at once on a shared machine: a create attempt that waited in the task queue long enough
  // to leave no time for a POST defers it (CreateDeferred), which would show as an extra attempt here.
  input.polling = { ...input.polling, attemptTimeout: '20s', ...row.polling };
  const handle = await h.start(input);
  await handle.result().catch(() => undefined);
  const wallMs = Date.now() - started;
  const requests = atlas.sim.requests.filter(
    (r) =>
      r.operation === OPERATION[row.phase] &&
      r.path.includes(pathIncludes) &&
      // Digest challenges (401 before credentials were sent) are auth round trips, not attempts.
      !(r.status === 401 && r.faultInjected === undefined)
  );
  observed.set(row, {
    handle,
    cluster,
    requests,
    jobs: h.jobsOf(handle.workflowId).length,
    pendingFaults: atlas.sim.pendingFaults().filter((p) => p.fault.pathIncludes === pathIncludes).length,
    wallMs,
  });
}

beforeAll(async () => {
  temporal = await connectTemporal();
  atlas = await startSimulatedAtlas();
  worker = await startTestWorker(temporal, atlas.client());
  h = new ExportHarness(temporal, atlas, worker.taskQueue);
  await Promise.all(rows.map((row, i) => runRow(row, i)));
}, 120_000);

afterAll(async () => {
  atlas?.sim.clearFaults();
  await worker?.stop();
  await atlas?.close();
  await temporal?.close();
  const passed = verdicts.filter((v) => v.passed).length;
  const lines = verdicts.map((v) => `  ${v.passed ? 'ok  ' : 'FAIL'} ${label(v.row).padEnd(58)} ${v.detail}`);
  console.log(`[fault-matrix] ${passed}/${rows.length} fault rows passing\n${lines.join('\n')}`);
});

function usableIndex(row: Row, requests: RequestLogEntry[]): number {
  return requests.findIndex(
    (r) => r.status >= 200 && r.status < 300 && (r.faultInjected === undefined || row.faultedReadUsable === true)
  );
}

describe.each(['create', 'poll'] as const)('fault matrix: %s', (phase) => {
  it.each(rows.filter((r) => r.phase === phase).map((r) => [r.name, r] as const))('%s', async (_name, row) => {
    const verdict = { row, passed: false, detail: '' };
    verdicts.push(verdict);
    const seen = observed.get(row);
    expect(seen, 'the row ran').toBeDefined();
    const { handle, requests, jobs, pendingFaults, wallMs } = seen!;
    const statuses = requests.map((r) => r.faultInjected ?? String(r.status)).join(',');
    const outcome = await handle.result().then(
      (r) => `ended ${r.state}`,
      (e: unknown) => `failed: ${e instanceof Error && e.cause instanceof Error ? e.cause.message : String(e)}`
    );
    const context = `requests [${statuses}], workflow ${outcome}`;
    if (row.fault.times === undefined) expect(pendingFaults, `the faults were consumed; ${context}`).toBe(0);
    if (row.faultOn === undefined) {
      expect(requests[0]?.faultInjected, `the first request met the fault; ${context}`).toBeDefined();
    }

    const exp = row.expect;
    if (exp.outcome === 'recovered') {
      const result = await handle.result();
      expect(result.state).toBe('Successful');
      expect(jobs, 'exactly one export job').toBe(1);
      if (phase === 'create') {
        expect(requests.length, `POSTs (${statuses})`).toBe(exp.attempts);
        const stats = await fetchHistoryStats(handle);
        if (exp.activityAttempts !== undefined) {
          expect(stats.activities.createExportJob?.attempts, 'createExportJob attempts').toBe(exp.activityAttempts);
        }
      } else {
        expect(usableIndex(row, requests) + 1, `status reads until a good one (${statuses})`).toBe(exp.attempts);
      }
      const gap = requests.length > 1 ? requests[1]!.at.getTime() - requests[0]!.at.getTime() : undefined;
      if (exp.minGapMs !== undefined) {
        expect(gap, 'wait before the request after the fault').toBeGreaterThanOrEqual(exp.minGapMs);
      }
      verdict.detail = `recovered, ${exp.attempts} ${phase === 'create' ? 'POST' : 'read'}(s)${
        exp.activityAttempts !== undefined ? `, ${exp.activityAttempts} activity attempt(s)` : ''
      }${exp.minGapMs !== undefined ? `, waited ${gap} ms (≥ ${exp.minGapMs})` : ''} [${wallMs} ms]`;
    } else {
      const failure = await failureOf(handle);
      expect(failure.type).toBe(exp.type);
      expect(failure.nonRetryable).toBe(true);
      expect(failure.message).toContain(exp.messageIncludes);
      expect(jobs, 'export jobs').toBe(exp.jobs);
      if (exp.attempts !== undefined)
        expect(requests.length, `requests, the failing one last (${statuses})`).toBe(exp.attempts);
      if (phase === 'create') {
        expect((await fetchHistoryStats(handle)).activities.createExportJob?.attempts, 'no retry').toBe(1);
      }
      verdict.detail = `failed: ${exp.type}${exp.attempts !== undefined ? `, ${exp.attempts} request(s)` : `, ${requests.length} request(s)`}, ${exp.jobs} job(s) [${wallMs} ms]`;
    }
    verdict.passed = true;
  });
});
