import type { State } from '@temporalio/worker';
import Long from 'long';
import { describe, expect, it } from 'vitest';
import { POLLER_MAX_AGE_MS, WorkerReadiness, type PollingWorker } from '../../src/temporal/worker-readiness';

/**
 * The decisions of `/readyz` on answers the server can give (test/monitoring/worker-probes.test.ts runs the real
 * worker against the dev server and an unreachable address).
 */
const NOW = Date.parse('2026-12-03T12:00:00Z');
/** A protobuf Timestamp as the SDK decodes one (seconds as a Long). */
const ts = (ms: number) => ({ seconds: Long.fromNumber(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1e6 });

function worker(state: State = 'RUNNING'): PollingWorker & { state: State } {
  return {
    state,
    getState() {
      return this.state;
    },
    options: { identity: '42@worker-a' },
  };
}

/** A describeTaskQueue that answers each queue type with these pollers, or throws. */
function service(pollers: { identity: string; lastAccessMs: number }[] | Error) {
  const calls: number[] = [];
  return {
    calls,
    describeTaskQueue: (req: { taskQueueType?: number | null }) => {
      calls.push(req.taskQueueType ?? 0);
      if (pollers instanceof Error) return Promise.reject(pollers);
      return Promise.resolve({
        pollers: pollers.map((p) => ({ identity: p.identity, lastAccessTime: ts(p.lastAccessMs) })),
      });
    },
  } as unknown as Parameters<WorkerReadiness['check']>[0]['service'] & { calls: number[] };
}

const check = (r: WorkerReadiness, s: ReturnType<typeof service>, w = worker()) =>
  r.check({ service: s, worker: w, namespace: 'default', taskQueue: 'atlas-exports', nowMs: NOW });

describe('WorkerReadiness', () => {
  it('is not ready before any check', () => {
    const view = new WorkerReadiness().current();
    expect(view.ready).toBe(false);
    expect(view.reason).toContain('starting');
  });

  it('is ready when the server saw this worker poll both queues recently', async () => {
    const s = service([
      { identity: 'other@b', lastAccessMs: NOW },
      { identity: '42@worker-a', lastAccessMs: NOW - 30_000 },
    ]);
    const view = await check(new WorkerReadiness(), s);
    expect(view).toMatchObject({ ready: true, reason: 'polling atlas-exports in namespace default' });
    expect(s.calls).toEqual([1, 2]);
  });

  it.each<[string, { identity: string; lastAccessMs: number }[], string]>([
    ['only another worker polls', [{ identity: 'other@b', lastAccessMs: NOW }], 'last saw it never'],
    [
      'its last poll is too old',
      [{ identity: '42@worker-a', lastAccessMs: NOW - POLLER_MAX_AGE_MS - 1_000 }],
      '121 s ago',
    ],
    ['no one polls', [], 'not polling the workflow task queue'],
  ])('is not ready when %s', async (_, pollers, says) => {
    const view = await check(new WorkerReadiness(), service(pollers));
    expect(view.ready).toBe(false);
    expect(view.reason).toContain(says);
  });

  it('is not ready when the server does not answer, naming why', async () => {
    const view = await check(new WorkerReadiness(), service(new Error('14 UNAVAILABLE: connection refused')));
    expect(view.ready).toBe(false);
    expect(view.reason).toContain('UNAVAILABLE');
  });

  it('turns not ready at once when the worker stops running, without waiting for the next check', async () => {
    const r = new WorkerReadiness();
    const w = worker();
    r.attach(w);
    await check(r, service([{ identity: '42@worker-a', lastAccessMs: NOW }]), w);
    expect(r.current().ready).toBe(true);
    w.state = 'DRAINING';
    expect(r.current()).toMatchObject({ ready: false, reason: 'worker draining' });
  });

  it('stays ready through a failed check while the last sighting is recent, and not after', async () => {
    const r = new WorkerReadiness();
    const w = worker();
    await check(r, service([{ identity: '42@worker-a', lastAccessMs: NOW }]), w);
    const failing = service(new Error('4 DEADLINE_EXCEEDED'));
    const soon = await r.check({
      service: failing,
      worker: w,
      namespace: 'default',
      taskQueue: 'atlas-exports',
      nowMs: NOW + 10_000,
    });
    expect(soon.ready).toBe(true);
    expect(soon.reason).toContain('the last check failed: 4 DEADLINE_EXCEEDED');
    const late = await r.check({
      service: failing,
      worker: w,
      namespace: 'default',
      taskQueue: 'atlas-exports',
      nowMs: NOW + POLLER_MAX_AGE_MS + 1,
    });
    expect(late).toMatchObject({ ready: false });
    expect(late.reason).toContain('did not answer the poller check');
  });
});
