import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FailureType } from '../../src/shared/contract/failure-types';
import { parseExportSnapshotInput } from '../../src/shared/contract/export-contract';
import { parseScheduledExportInput } from '../../src/shared/contract/scheduled-export-contract';
import { scheduledExport } from '../../src/workflows';
import { failureOf, useExportSuite } from '../helpers/export-harness';
import { checkAsyncProperty } from '../helpers/properties';
import { uniqueId } from '../helpers/temporal';

/**
 * Issue 6 part 3 end to end: invalid inputs started through the Temporal client reach the real workflows on the
 * dev server, end in their typed invalid-input failure naming the field, and Atlas (the simulator) sees no
 * request at all. Few runs: each is a real workflow execution.
 */

const suite = useExportSuite();

type Path = (string | number)[];

function setAt(value: unknown, path: Path, to: unknown): unknown {
  const root = structuredClone(value) as Record<PropertyKey, unknown>;
  let node = root;
  path.forEach((segment, i) => {
    if (i === path.length - 1) node[segment] = to;
    else {
      if (typeof node[segment] !== 'object' || node[segment] === null) node[segment] = {};
      node = node[segment] as Record<PropertyKey, unknown>;
    }
  });
  return root;
}

/** JSON values a caller could put in a workflow input (the payload converter sends JSON). */
const jsonGarbage = fc.oneof(
  fc.constantFrom('', 'x'.repeat(300), '5F0C1E2D3B4A596877869500', '-5s', '3651d', 0, -1, 0.4, 1e300, null, true, {}),
  fc.jsonValue({ maxDepth: 2 })
);

const EXPORT_PATHS: Path[] = [
  ['groupId'],
  ['clusterName'],
  ['snapshotId'],
  ['exportBucketId'],
  ['customData'],
  ['customData', 0, 'key'],
  ['notify', 'workflowId'],
  ['polling'],
  ['polling', 'initialInterval'],
  ['polling', 'timeout'],
  ['polling', 'backoffCoefficient'],
  ['polling', 'maxHistoryEvents'],
  ['unexpected'],
];

const SCHEDULED_PATHS: Path[] = [
  ['targets'],
  ['targets', 0, 'groupId'],
  ['targets', 0, 'snapshot'],
  ['concurrency'],
  ['polling', 'timeout'],
  ['onDemand', 'retentionInDays'],
  ['unexpected'],
];

describe('invalid workflow inputs on the real workflows', () => {
  it('exportSnapshot: InvalidExportInput naming the field, and no Atlas request', async () => {
    const before = suite.atlas.sim.requests.length;
    await checkAsyncProperty(
      'exportSnapshot on the dev server: invalid inputs',
      fc
        .tuple(fc.constantFrom(...EXPORT_PATHS), jsonGarbage)
        .map(([path, value]) => ({ path, raw: setAt(suite.h.input(), path, value) }))
        .filter(({ raw }) => !parseExportSnapshotInput(raw).ok),
      async ({ path, raw }) => {
        const handle = await suite.h.start(raw);
        const failure = await failureOf(handle);
        expect(failure.type).toBe(FailureType.InvalidExportInput);
        expect(failure.nonRetryable).toBe(true);
        expect(failure.message).toContain(path[0] === 'unexpected' ? '"unexpected"' : `input.${path[0]}`);
        expect(suite.atlas.sim.requests.length, JSON.stringify(suite.atlas.sim.requests.slice(before))).toBe(before);
      },
      30
    );
    expect(suite.atlas.sim.requests.length).toBe(before);
  });

  it('scheduledExport: InvalidScheduledExportInput naming the field, and no Atlas request', async () => {
    const before = suite.atlas.sim.requests.length;
    const f = suite.atlas.fixtures;
    const valid = {
      targets: [{ groupId: f.groupId, clusterName: f.clusterName, exportBucketId: f.exportBucketId }],
      concurrency: 2,
    };
    await checkAsyncProperty(
      'scheduledExport on the dev server: invalid inputs',
      fc
        .tuple(fc.constantFrom(...SCHEDULED_PATHS), jsonGarbage)
        .map(([path, value]) => ({ path, raw: setAt(valid, path, value) }))
        .filter(({ raw }) => !parseScheduledExportInput(raw).ok),
      async ({ path, raw }) => {
        const handle = await suite.temporal.client.workflow.start(scheduledExport, {
          taskQueue: suite.worker.taskQueue,
          workflowId: uniqueId('scheduled-invalid'),
          args: [raw as Parameters<typeof scheduledExport>[0]],
        });
        const failure = await failureOf(handle);
        expect(failure.type).toBe(FailureType.InvalidScheduledExportInput);
        expect(failure.message).toContain(path[0] === 'unexpected' ? '"unexpected"' : `input.${path[0]}`);
        expect(suite.atlas.sim.requests.length, JSON.stringify(suite.atlas.sim.requests.slice(before))).toBe(before);
      },
      20
    );
  });

  it('control: a valid input does reach Atlas, so the request log would show a leak', async () => {
    const before = suite.atlas.sim.requests.length;
    const handle = await suite.h.start(suite.h.input({ snapshotId: suite.h.freshSnapshot() }));
    expect((await handle.result()).state).toBe('Successful');
    expect(suite.atlas.sim.requests.slice(before).map((r) => r.operation)).toContain('createExportJob');
  });
});
