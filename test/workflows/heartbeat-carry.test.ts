import { activityInfo, heartbeat } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CarryObservation } from '../fixtures/heartbeat-carry-workflow';
import { heartbeatCarry } from '../fixtures/heartbeat-carry-workflow';
import { connectTemporal, NAMESPACE, uniqueId, workflowBundle, type TemporalTestContext } from '../helpers/temporal';

/**
 * What the activities rely on to carry state from a failing attempt to the next (consecutive Atlas errors, "the
 * POST was accepted"): details an attempt sends with `heartbeat()` right before it fails are what the next attempt
 * reads in `activityInfo().heartbeatDetails`, on the real dev server, with the workflows' activity options (no
 * heartbeat timeout, so the SDK's default throttling). Attempts that do not heartbeat leave them as they were.
 */
let temporal: TemporalTestContext;
let worker: Worker;
let running: Promise<void>;
const taskQueue = uniqueId('heartbeat-carry');
/** Per workflow: what each attempt saw. */
const seen = new Map<string, CarryObservation[]>();

beforeAll(async () => {
  temporal = await connectTemporal();
  worker = await Worker.create({
    connection: temporal.nativeConnection,
    namespace: NAMESPACE,
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities: {
      heartbeatCarryProbe(plan: { heartbeatOn: number[]; succeedOn: number }): Promise<CarryObservation[]> {
        const info = activityInfo();
        const key = info.workflowExecution?.workflowId ?? info.activityId;
        const list = seen.get(key) ?? [];
        seen.set(key, list);
        list.push({ attempt: info.attempt, details: info.heartbeatDetails ?? null });
        if (plan.heartbeatOn.includes(info.attempt)) heartbeat({ sentBy: info.attempt });
        if (info.attempt < plan.succeedOn) {
          // Fails right after the heartbeat, as an Atlas error would.
          return Promise.reject(ApplicationFailure.retryable(`attempt ${info.attempt} fails`, 'ProbeFailure'));
        }
        return Promise.resolve(list);
      },
    },
  });
  running = worker.run();
});

afterAll(async () => {
  worker?.shutdown();
  await running;
  await temporal?.close();
});

async function run(plan: { heartbeatOn: number[]; succeedOn: number }): Promise<CarryObservation[]> {
  return temporal.client.workflow.execute(heartbeatCarry, {
    taskQueue,
    workflowId: uniqueId('carry'),
    args: [plan],
  });
}

describe('heartbeat details across failing attempts (dev server)', () => {
  it('details sent by an attempt that then fails reach the next attempts, until an attempt sends new ones', async () => {
    // Several at once: a race between the heartbeat and the failure report would show as a missing value.
    const runs = await Promise.all(Array.from({ length: 8 }, () => run({ heartbeatOn: [1, 3], succeedOn: 5 })));
    for (const observed of runs) {
      expect(observed).toEqual([
        { attempt: 1, details: null },
        { attempt: 2, details: { sentBy: 1 } },
        // Attempt 2 sent nothing: attempt 1's details are still there.
        { attempt: 3, details: { sentBy: 1 } },
        { attempt: 4, details: { sentBy: 3 } },
        { attempt: 5, details: { sentBy: 3 } },
      ]);
    }
  });
});
