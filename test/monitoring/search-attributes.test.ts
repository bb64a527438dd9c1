import { Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevServer, type DevServer } from '../../src/dev/dev-server';
import { SEARCH_ATTRIBUTE_DEFINITIONS, SEARCH_ATTRIBUTES } from '../../src/shared/observability/search-attributes';
import { ensureSearchAttributes, SearchAttributesError } from '../../src/temporal/search-attributes';
import { useExportSuite } from '../helpers/export-harness';

const suite = useExportSuite();

/** The values each UpsertWorkflowSearchAttributes event of a history set, decoded. */
async function upserts(workflowId: string): Promise<Record<string, unknown>[]> {
  const history = await suite.temporal.client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? [])
    .filter((e) => e.upsertWorkflowSearchAttributesEventAttributes)
    .map((e) => {
      const fields = e.upsertWorkflowSearchAttributesEventAttributes!.searchAttributes?.indexedFields ?? {};
      return Object.fromEntries(
        Object.entries(fields).map(([k, p]) => [k, JSON.parse(Buffer.from(p.data ?? []).toString()) as unknown])
      );
    });
}

describe('exportSnapshot search attributes', () => {
  it('end with the job state, full progress and the Atlas ids, upserted only when a value changes', async () => {
    const { h, atlas, temporal } = suite;
    const snapshotId = h.freshSnapshot();
    // Rising progress over many polls: the attributes must not be rewritten when nothing changed.
    atlas.sim.setExportPlan({ queuedMs: 120_000, inProgressMs: 1_200_000, totalCollections: 4 }, { snapshotId });
    const handle = await h.start(h.input({ snapshotId }));
    const result = await handle.result();
    expect(result.state).toBe('Successful');

    const described = await handle.describe();
    const sa = described.typedSearchAttributes;
    expect(sa.get(SEARCH_ATTRIBUTES.state)).toBe('Successful');
    expect(sa.get(SEARCH_ATTRIBUTES.progressPercent)).toBe(100);
    expect(sa.get(SEARCH_ATTRIBUTES.exportJobId)).toBe(result.exportJobId);
    expect(sa.get(SEARCH_ATTRIBUTES.groupId)).toBe(atlas.fixtures.groupId);
    expect(sa.get(SEARCH_ATTRIBUTES.clusterName)).toBe(atlas.fixtures.clusterName);
    expect(sa.get(SEARCH_ATTRIBUTES.snapshotId)).toBe(snapshotId);
    expect(sa.get(SEARCH_ATTRIBUTES.exportBucketId)).toBe(atlas.fixtures.exportBucketId);

    // Every upsert changes something: replaying them in order, no key is ever set to the value it had.
    const events = await upserts(handle.workflowId);
    expect(events.length).toBeGreaterThanOrEqual(3);
    const current: Record<string, unknown> = {};
    for (const event of events) {
      expect(Object.keys(event).length).toBeGreaterThan(0);
      for (const [key, value] of Object.entries(event)) {
        expect(current[key], `${key} upserted again with the same value`).not.toEqual(value);
        current[key] = value;
      }
    }
    const states = events.map((e) => e.AtlasExportState).filter((s) => s !== undefined);
    expect(states[0]).toEqual('Creating');
    expect(states.at(-1)).toEqual('Successful');

    // A visibility query on them finds the export (what the queries of docs/operations-and-monitoring.md and `list` use).
    // Simulators in other test files are seeded alike and hand out the same job ids: scope to this task queue.
    const query = `WorkflowType = 'exportSnapshot' AND TaskQueue = '${h.taskQueue}' AND AtlasExportJobId = '${result.exportJobId}' AND AtlasExportState = 'Successful'`;
    const found: string[] = [];
    for await (const w of temporal.client.workflow.list({ query })) found.push(w.workflowId);
    expect(found).toEqual([handle.workflowId]);
  }, 60_000);

  it('are not upserted again by a continued run, which inherits them', async () => {
    const { h, atlas, temporal } = suite;
    const snapshotId = h.freshSnapshot();
    atlas.sim.setExportPlan({ queuedMs: 60_000, inProgressMs: 3 * 3600_000, totalCollections: 200 }, { snapshotId });
    atlas.sim.setTimeScale((3 * 3600) / 6); // 3 simulated hours in 6 s
    try {
      const handle = await h.start(
        h.input({
          snapshotId,
          polling: {
            mode: 'exponential',
            initialInterval: '1s',
            maximumInterval: '2s',
            timeScale: 20,
            reportInterval: '1s',
            maxHistoryEvents: 25,
            timeout: '2m',
          },
        })
      );
      expect((await handle.result()).state).toBe('Successful');
      const runs: string[] = [];
      for await (const w of temporal.client.workflow.list({ query: `WorkflowId = '${handle.workflowId}'` })) {
        runs.push(w.runId);
      }
      expect(runs.length).toBeGreaterThan(1);
      for (const runId of runs) {
        const history = await temporal.client.workflow.getHandle(handle.workflowId, runId).fetchHistory();
        const continued = !!history.events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId;
        const upserted = (history.events ?? []).flatMap((e) =>
          Object.keys(e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ?? {})
        );
        // The ids never change: only the first run writes them (once); a continued run only writes changes.
        expect(upserted.filter((k) => k === 'AtlasGroupId')).toHaveLength(continued ? 0 : 1);
      }
    } finally {
      atlas.sim.setTimeScale(600);
    }
  }, 60_000);

  it('say Failed when Atlas fails the job', async () => {
    const { h, atlas } = suite;
    const snapshotId = h.freshSnapshot();
    atlas.sim.setExportPlan(
      { queuedMs: 60_000, inProgressMs: 60_000, totalCollections: 3, outcome: 'Failed' },
      { snapshotId }
    );
    const handle = await h.start(h.input({ snapshotId }));
    await expect(handle.result()).rejects.toThrow();
    expect((await handle.describe()).typedSearchAttributes.get(SEARCH_ATTRIBUTES.state)).toBe('Failed');
  }, 60_000);
});

describe('ensureSearchAttributes', () => {
  let server: DevServer;
  let connection: Connection;
  beforeAll(async () => {
    // A server without the project's attributes, as a new self-hosted namespace is.
    server = await startDevServer({ searchAttributes: [] });
    connection = await Connection.connect({ address: server.address });
  }, 60_000);
  afterAll(async () => {
    await connection?.close();
    await server?.stop();
  });

  it('with registration off, names the missing attributes and the commands that add them', async () => {
    const err = await ensureSearchAttributes(connection.operatorService, 'default', { register: false }).catch(
      (e: unknown) => e
    );
    expect(err).toBeInstanceOf(SearchAttributesError);
    const message = (err as Error).message;
    for (const { name } of SEARCH_ATTRIBUTE_DEFINITIONS) expect(message).toContain(name);
    expect(message).toContain('temporal operator search-attribute create');
    expect(message).toContain('tcld namespace search-attributes add');
  });

  it('reports an unverifiable namespace (listing refused) instead of failing the worker', async () => {
    const check = await ensureSearchAttributes(connection.operatorService, 'no-such-namespace', { register: true });
    expect(check.verified).toBe(false);
    expect(check.added).toEqual([]);
    expect(check.note).toMatch(/no-such-namespace|not found/i);
  });

  it('adds the missing ones once, then finds nothing to do', async () => {
    const first = await ensureSearchAttributes(connection.operatorService, 'default', { register: true });
    expect(first.verified).toBe(true);
    expect(first.added.sort()).toEqual(SEARCH_ATTRIBUTE_DEFINITIONS.map((d) => d.name).sort());
    expect(await ensureSearchAttributes(connection.operatorService, 'default', { register: true })).toEqual({
      added: [],
      verified: true,
    });
    const listed = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
    for (const { name } of SEARCH_ATTRIBUTE_DEFINITIONS) expect(listed.customAttributes?.[name]).toBeDefined();
  });
});
