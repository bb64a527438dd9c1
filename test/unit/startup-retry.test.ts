import { ServiceError as ClientServiceError } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { DefaultLogger, NativeConnection, type NativeConnectionOptions, Runtime } from '@temporalio/worker';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { freePort } from '../../src/dev/dev-server';
import { SEARCH_ATTRIBUTE_DEFINITIONS } from '../../src/shared/observability/search-attributes';
import { applyAtlasRateLimit, AtlasRateLimitError } from '../../src/temporal/atlas-rate-limit';
import { ensureSearchAttributes } from '../../src/temporal/search-attributes';
import {
  classifyStartupError,
  describeStartupError,
  GrpcStatus,
  StartupAbortedError,
  startupRetry,
  StartupUnavailableError,
  type StartupRetryOptions,
} from '../../src/temporal/startup-retry';
import { FakeFrontend } from '../helpers/fake-frontend';

const { workflowservice } = temporal.api;
const ACTIVITY = temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY;
/** What Temporal Server 1.32 (dev server, SQLite) answers after a client died during UpdateTaskQueueConfig. */
const USER_DATA_CONFLICT = { code: GrpcStatus.INVALID_ARGUMENT, message: 'Expected exactly one row to be updated' };

beforeAll(() => {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
});

let fake: FakeFrontend;
beforeEach(async () => {
  fake = await FakeFrontend.start();
});
afterEach(async () => {
  await fake.close();
});

async function connectError(options: NativeConnectionOptions): Promise<Error> {
  const err: unknown = await NativeConnection.connect(options).then(
    (c) => c.close().then(() => 'connected'),
    (e: unknown) => e
  );
  if (!(err instanceof Error)) throw new Error(`expected the connect to fail, got ${String(err)}`);
  return err;
}

/** The error a NativeConnection call throws when the server answers `answer`. */
async function callError(answer: { code: number; message: string }): Promise<Error> {
  fake.on('UpdateTaskQueueConfig', () => answer);
  const connection = await NativeConnection.connect({ address: fake.address });
  try {
    const err: unknown = await connection.workflowService
      .updateTaskQueueConfig({ namespace: 'default', taskQueue: 'tq' })
      .then(
        () => 'answered',
        (e: unknown) => e
      );
    if (!(err instanceof Error)) throw new Error(`expected the call to fail, got ${String(err)}`);
    return err;
  } finally {
    await connection.close();
  }
}

describe('classifyStartupError on the errors the SDK really throws', () => {
  it('retries a refused connection and a server that answers UNAVAILABLE or INTERNAL at connect', async () => {
    const refused = await connectError({ address: `127.0.0.1:${await freePort()}` });
    expect(refused.name).toBe('TransportError');
    expect(classifyStartupError(refused)).toBe('transient');
    expect(describeStartupError(refused)).toBe('tcp connect error: Connection refused');
    for (const code of [GrpcStatus.UNAVAILABLE, GrpcStatus.INTERNAL, GrpcStatus.RESOURCE_EXHAUSTED]) {
      fake.on('GetSystemInfo', () => ({ code, message: 'starting up' }));
      const err = await connectError({ address: fake.address });
      expect([err.name, classifyStartupError(err)], err.message).toEqual(['TransportError', 'transient']);
    }
  });

  it('calls refused credentials, missing permission, an old server and TLS to a plain server configuration errors', async () => {
    for (const code of [GrpcStatus.UNAUTHENTICATED, GrpcStatus.PERMISSION_DENIED, GrpcStatus.UNIMPLEMENTED]) {
      fake.on('GetSystemInfo', () => ({ code, message: 'no' }));
      const err = await connectError({ address: fake.address });
      expect(classifyStartupError(err), err.message).toBe('configuration');
    }
    fake.on('GetSystemInfo', () => workflowservice.v1.GetSystemInfoResponse.encode({}).finish());
    const tls = await connectError({ address: fake.address, tls: true });
    expect(classifyStartupError(tls), tls.message).toBe('configuration');
  });

  it("retries the server's task-queue user-data conflicts although they come as INVALID_ARGUMENT", async () => {
    const conflict = await callError(USER_DATA_CONFLICT);
    expect({ name: conflict.name, code: (conflict as Error & { code: number }).code }).toEqual({
      name: 'ServiceError',
      code: GrpcStatus.INVALID_ARGUMENT,
    });
    expect(classifyStartupError(conflict)).toBe('transient');
    expect(describeStartupError(conflict)).toBe('INVALID_ARGUMENT: Expected exactly one row to be updated');
    const insertConflict = await callError({
      code: GrpcStatus.INVALID_ARGUMENT,
      message:
        'constraint failed: UNIQUE constraint failed: task_queue_user_data.namespace_id, task_queue_user_data.task_queue_name (1555)',
    });
    expect(classifyStartupError(insertConflict)).toBe('transient');
    const invalid = await callError({
      code: GrpcStatus.INVALID_ARGUMENT,
      message: 'RequestsPerSecond for UpdateFairnessKeyRateLimitDefault rate limit must be non-negative.',
    });
    expect(classifyStartupError(invalid)).toBe('configuration');
    const denied = await callError({ code: GrpcStatus.PERMISSION_DENIED, message: 'Request unauthorized.' });
    expect(classifyStartupError(denied)).toBe('configuration');
    const noNamespace = await callError({ code: GrpcStatus.NOT_FOUND, message: 'Namespace nope is not found.' });
    expect(classifyStartupError(noNamespace)).toBe('configuration');
  });
});

describe('classifyStartupError by gRPC code', () => {
  const grpcError = (code: number) =>
    Object.assign(new Error(`code ${code}`), { code, details: `code ${code}`, metadata: {} });
  const expected: Record<keyof typeof GrpcStatus, string> = {
    CANCELLED: 'unknown',
    UNKNOWN: 'transient',
    INVALID_ARGUMENT: 'configuration',
    DEADLINE_EXCEEDED: 'transient',
    NOT_FOUND: 'configuration',
    ALREADY_EXISTS: 'unknown',
    PERMISSION_DENIED: 'configuration',
    RESOURCE_EXHAUSTED: 'transient',
    FAILED_PRECONDITION: 'configuration',
    ABORTED: 'transient',
    OUT_OF_RANGE: 'unknown',
    UNIMPLEMENTED: 'configuration',
    INTERNAL: 'transient',
    UNAVAILABLE: 'transient',
    DATA_LOSS: 'unknown',
    UNAUTHENTICATED: 'configuration',
  };

  it.each(Object.entries(expected))('%s is %s, also wrapped by the client as a cause', (name, kind) => {
    const err = grpcError(GrpcStatus[name as keyof typeof GrpcStatus]);
    expect(classifyStartupError(err)).toBe(kind);
    expect(classifyStartupError(new ClientServiceError('wrapped', { cause: err }))).toBe(kind);
  });

  it("reads the server's message where the code is, also under a client wrapper", () => {
    const conflict = Object.assign(new Error(USER_DATA_CONFLICT.message), {
      ...USER_DATA_CONFLICT,
      details: '',
      metadata: {},
    });
    expect(classifyStartupError(new ClientServiceError('Failed to update', { cause: conflict }))).toBe('transient');
  });

  it('leaves errors that are not from the server alone', () => {
    expect(classifyStartupError(new TypeError('Invalid metadata key'))).toBe('unknown');
    expect(classifyStartupError(new Error('Expected exactly one row to be updated'))).toBe('unknown');
    expect(classifyStartupError('UNAVAILABLE')).toBe('unknown');
  });
});

/** A runner on a fake clock: sleeping advances it and is recorded. */
function fakeTimeRunner(options: Partial<StartupRetryOptions> = {}) {
  let t = 0;
  const sleeps: number[] = [];
  const retries: Parameters<StartupRetryOptions['onRetry']>[0][] = [];
  const step = startupRetry({
    maxWaitMs: 60_000,
    address: 'temporal.example:7233',
    onRetry: (e) => retries.push(e),
    now: () => t,
    sleep: (ms) => {
      sleeps.push(ms);
      t += ms;
      return Promise.resolve();
    },
    initialDelayMs: 100,
    maxDelayMs: 1_000,
    ...options,
  });
  return { step, sleeps, retries, now: () => t };
}

const unavailable = Object.assign(new Error('connection reset'), {
  code: GrpcStatus.UNAVAILABLE,
  details: 'connection reset',
  metadata: {},
});

describe('startupRetry', () => {
  it('retries transient errors with doubling waits drawn from their upper half, then returns the result', async () => {
    for (const [random, waits] of [
      [1, [100, 200, 400, 800, 1_000]],
      [0, [50, 100, 200, 400, 500]],
    ] as const) {
      const { step, sleeps, retries } = fakeTimeRunner({ random: () => random });
      let calls = 0;
      const result = await step('check the search attributes', () => {
        calls++;
        return calls <= 5 ? Promise.reject(unavailable) : Promise.resolve('done');
      });
      expect(result).toBe('done');
      expect(calls).toBe(6);
      expect(sleeps).toEqual(waits);
      expect(retries.map((r) => [r.step, r.attempt, r.reason])).toEqual(
        [1, 2, 3, 4, 5].map((n) => ['check the search attributes', n, 'UNAVAILABLE: connection reset'])
      );
    }
  });

  it('gives up at the deadline, after a last attempt made there, naming the step, the address and the reason', async () => {
    const { step, sleeps, now } = fakeTimeRunner({ maxWaitMs: 2_500, random: () => 1 });
    let calls = 0;
    const err: unknown = await step('connect to Temporal', () => {
      calls++;
      return Promise.reject(unavailable);
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StartupUnavailableError);
    expect(sleeps).toEqual([100, 200, 400, 800, 1_000]);
    expect(now()).toBe(2_500);
    expect(calls).toBe(6);
    expect((err as StartupUnavailableError).message).toBe(
      'Could not connect to Temporal at temporal.example:7233: still failing after 6 attempts over 3 s (UNAVAILABLE: connection reset)'
    );
    expect((err as Error).cause).toBe(unavailable);
  });

  it('shares one deadline between the steps', async () => {
    const { step, sleeps } = fakeTimeRunner({ maxWaitMs: 1_000, random: () => 1 });
    let first = 0;
    await step('connect to Temporal', () => (++first < 4 ? Promise.reject(unavailable) : Promise.resolve()));
    expect(sleeps).toEqual([100, 200, 400]);
    await expect(step('check the search attributes', () => Promise.reject(unavailable))).rejects.toThrow(
      /check the search attributes.*after 3 attempts/
    );
    expect(sleeps).toEqual([100, 200, 400, 100, 200]);
  });

  it('passes other errors through at once', async () => {
    const { step, sleeps } = fakeTimeRunner();
    const denied = Object.assign(new Error('denied'), {
      code: GrpcStatus.PERMISSION_DENIED,
      details: '',
      metadata: {},
    });
    let calls = 0;
    await expect(
      step('set the task queue rate limit', () => {
        calls++;
        return Promise.reject(denied);
      })
    ).rejects.toBe(denied);
    expect([calls, sleeps]).toEqual([1, []]);
  });

  it('gives each attempt a deadline of 30 s, the overall deadline if sooner, and at least 1 s', async () => {
    const { step } = fakeTimeRunner({ maxWaitMs: 40_000, initialDelayMs: 10_000, maxDelayMs: 10_000, random: () => 1 });
    const deadlines: number[] = [];
    await step('connect to Temporal', (deadline) => {
      deadlines.push(deadline.getTime());
      return deadlines.length < 6 ? Promise.reject(unavailable) : Promise.resolve();
    }).catch(() => undefined);
    expect(deadlines).toEqual([30_000, 40_000, 40_000, 40_000, 41_000]);
  });

  it.each([
    ['while it waits', (stop: AbortController) => setTimeout(() => stop.abort(), 50)],
    ['just before it waits', (stop: AbortController) => stop.abort()],
  ])('stops waiting when the process is asked to stop %s', async (_, abort) => {
    const stop = new AbortController();
    // Real timers: a wait of an hour that the signal must cut short.
    const step = startupRetry({
      maxWaitMs: 7_200_000,
      address: 'temporal.example:7233',
      initialDelayMs: 3_600_000,
      maxDelayMs: 3_600_000,
      signal: stop.signal,
      onRetry: () => abort(stop),
    });
    const started = Date.now();
    await expect(step('connect to Temporal', () => Promise.reject(unavailable))).rejects.toBeInstanceOf(
      StartupAbortedError
    );
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});

describe('the rate-limit step against a frontend answering like Temporal Server 1.32', () => {
  let connection: NativeConnection;
  beforeEach(async () => {
    connection = await NativeConnection.connect({ address: fake.address });
  });
  afterEach(async () => {
    await connection.close();
  });

  const describeAnswer = (requestsPerSecond: number | null) => () =>
    workflowservice.v1.DescribeTaskQueueResponse.encode({
      config:
        requestsPerSecond === null ? null : { fairnessKeysRateLimitDefault: { rateLimit: { requestsPerSecond } } },
    }).finish();
  const updated = () => workflowservice.v1.UpdateTaskQueueConfigResponse.encode({}).finish();
  const fastRetry = (onRetry: StartupRetryOptions['onRetry'] = () => undefined) =>
    startupRetry({ maxWaitMs: 10_000, address: fake.address, initialDelayMs: 10, maxDelayMs: 20, onRetry });
  const apply = (setting: number | 'off') =>
    applyAtlasRateLimit(connection.workflowService, { namespace: 'default', taskQueue: 'atlas-exports', setting });

  it('retries "Expected exactly one row to be updated" until the update goes through, but not PERMISSION_DENIED', async () => {
    fake.on('DescribeTaskQueue', describeAnswer(null));
    let updates = 0;
    fake.on('UpdateTaskQueueConfig', () => (++updates <= 2 ? USER_DATA_CONFLICT : updated()));
    const reasons: string[] = [];
    const step = fastRetry((e) => reasons.push(e.reason));
    const applied = await step('set the task queue rate limit', () => apply(4));
    expect(applied).toEqual({ activitiesPerSecond: 4, updated: true });
    expect(reasons).toEqual(Array(2).fill('INVALID_ARGUMENT: Expected exactly one row to be updated'));
    const requests = fake
      .callsOf('UpdateTaskQueueConfig')
      .map((r) => workflowservice.v1.UpdateTaskQueueConfigRequest.decode(r));
    expect(requests).toHaveLength(3);
    expect(requests[2]).toMatchObject({
      namespace: 'default',
      taskQueue: 'atlas-exports',
      taskQueueType: ACTIVITY,
      updateFairnessKeyRateLimitDefault: { rateLimit: { requestsPerSecond: 4 } },
    });

    // A configuration error (the worker exits 78): one call, no retry, and the command that sets it by hand.
    fake.on('UpdateTaskQueueConfig', () => ({ code: GrpcStatus.PERMISSION_DENIED, message: 'Request unauthorized.' }));
    reasons.length = 0;
    const err: unknown = await step('set the task queue rate limit', () => apply(4)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AtlasRateLimitError);
    expect((err as Error).message).toContain('temporal task-queue config set --namespace default');
    expect(classifyStartupError((err as Error).cause)).toBe('configuration');
    expect(reasons).toEqual([]);
    expect(fake.callsOf('UpdateTaskQueueConfig')).toHaveLength(4);
  });

  it('makes no update when the task queue already has the limit, which the server keeps as a float32', async () => {
    fake.on('UpdateTaskQueueConfig', updated);
    fake.on('DescribeTaskQueue', describeAnswer(1.44));
    expect(await apply(1.44)).toEqual({ activitiesPerSecond: 1.44, updated: false });
    fake.on('DescribeTaskQueue', describeAnswer(null));
    expect(await apply('off')).toEqual({ activitiesPerSecond: null, updated: false });
    expect(fake.callsOf('UpdateTaskQueueConfig')).toHaveLength(0);
    const describe = workflowservice.v1.DescribeTaskQueueRequest.decode(fake.callsOf('DescribeTaskQueue')[0]!);
    expect(describe).toMatchObject({ namespace: 'default', taskQueueType: ACTIVITY, reportConfig: true });
    expect(describe.taskQueue?.name).toBe('atlas-exports');

    fake.on('DescribeTaskQueue', describeAnswer(2));
    expect(await apply(4)).toEqual({ activitiesPerSecond: 4, updated: true });
    expect(fake.callsOf('UpdateTaskQueueConfig')).toHaveLength(1);
  });
});

describe('the search-attribute step', () => {
  it('retries a transient failure to list them instead of reporting them unverifiable', async () => {
    // The class NativeConnection throws (the core bridge's ServiceError), taken from a real error.
    const real = await callError({ code: GrpcStatus.UNIMPLEMENTED, message: 'x' });
    const ServiceError = real.constructor as new (
      message: string,
      code: number,
      details: string,
      metadata: unknown
    ) => Error;
    const all = Object.fromEntries(
      SEARCH_ATTRIBUTE_DEFINITIONS.map((d) => [d.name, { Keyword: 2, Int: 3, Bool: 5 }[d.type]])
    );
    let lists = 0;
    const operator = {
      listSearchAttributes: () =>
        ++lists === 1
          ? Promise.reject(new ServiceError('Frontend is not healthy yet', GrpcStatus.UNAVAILABLE, '', {}))
          : Promise.resolve(
              temporal.api.operatorservice.v1.ListSearchAttributesResponse.create({ customAttributes: all })
            ),
      addSearchAttributes: () => Promise.reject(new Error('nothing should be added')),
    } as unknown as Parameters<typeof ensureSearchAttributes>[0];
    const check = await startupRetry({
      maxWaitMs: 5_000,
      address: 'x:1',
      initialDelayMs: 10,
      onRetry: () => undefined,
    })('check the search attributes', () => ensureSearchAttributes(operator, 'default', { register: true }));
    expect(check).toEqual({ added: [], verified: true });
    expect(lists).toBe(2);
  });
});
