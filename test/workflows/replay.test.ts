import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { historyFromJSON, historyToJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { exportWorkflowId } from '../../src/shared/contract/workflow-ids';
import { atlasEventHintSignal, exportSnapshot, scheduledExport } from '../../src/workflows';
import { FAST_POLLING, useExportSuite, waitForProgress } from '../helpers/export-harness';
import { createFleet } from '../helpers/fleet';
import { uniqueId, workflowBundle } from '../helpers/temporal';

/**
 * Determinism guard: every history recorded from a released workflow version (test/histories/*.json) must
 * replay against the current workflow code. A change that alters the command sequence fails here, and needs
 * `patched()` before it ships. Record new histories with `RECORD_HISTORIES=1 npx vitest run test/workflows/replay.test.ts`
 * (exportSnapshot), `RECORD_HISTORIES=scheduledExport …` (scheduledExport) or `RECORD_HISTORIES=cadence …` (exportSnapshot
 * with the adaptive and fixed poll cadences) or `RECORD_HISTORIES=hint …` (exportSnapshot woken by `atlasEventHint`).
 */
const HISTORY_DIR = resolve(__dirname, '..', 'histories');
const RECORD = process.env.RECORD_HISTORIES === '1';
const RECORD_SCHEDULED = process.env.RECORD_HISTORIES === 'scheduledExport';
const RECORD_CADENCE = process.env.RECORD_HISTORIES === 'cadence';
const RECORD_HINT = process.env.RECORD_HISTORIES === 'hint';
/** Bump when the workflow changes in a way that deserves a new set of recorded histories. */
const WORKFLOW_VERSION = 'v4';
const SCHEDULED_WORKFLOW_VERSION = 'v2';
/** Histories of exportSnapshot woken by `atlasEventHint` (patch atlas-event-hint), recorded on their own. */
const HINT_VERSION = 'hint-v1';
/** Histories of exportSnapshot with `polling.mode` (adaptive and fixed), recorded separately from the v1 set. */
const CADENCE_VERSION = 'cadence-v1';

interface RecordedHistory {
  workflowId: string;
  scenario: string;
  history: unknown;
}

/** Waits for the run to close, then writes its history as `<prefix>-<scenario>.json` for the replay suite. */
async function saveHistory(prefix: string, scenario: string, handle: WorkflowHandle): Promise<void> {
  await handle.result().catch(() => undefined);
  const history = await handle.fetchHistory();
  const file = join(HISTORY_DIR, `${prefix}-${scenario}.json`);
  const content = { workflowId: handle.workflowId, scenario, history: JSON.parse(historyToJSON(history)) as unknown };
  writeFileSync(file, `${JSON.stringify(content, null, 1)}\n`);
}

function recorded(): { file: string; content: RecordedHistory }[] {
  return readdirSync(HISTORY_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({ file, content: JSON.parse(readFileSync(join(HISTORY_DIR, file), 'utf8')) as RecordedHistory }));
}

describe('replay of recorded exportSnapshot histories', () => {
  const histories = recorded();

  it('has recorded histories for every outcome', () => {
    const scenarios = histories.map((h) => h.content.scenario);
    for (const s of ['successful', 'failed', 'continued-as-new', 'invalid-input', 'create-rejected', 'deadline']) {
      expect(scenarios.some((x) => x.startsWith(s))).toBe(true);
    }
    for (const s of ['adaptive-learned', 'adaptive-continued-as-new', 'fixed']) {
      expect(scenarios.some((x) => x.startsWith(s))).toBe(true);
    }
    for (const s of ['hint-woken']) expect(scenarios.some((x) => x.startsWith(s))).toBe(true);
    for (const s of ['scheduled-mixed', 'scheduled-continued-as-new']) {
      expect(scenarios.some((x) => x.startsWith(s))).toBe(true);
    }
  });

  it.each(histories.map((h) => [h.file, h.content] as const))(
    '%s replays deterministically',
    async (_file, content) => {
      await Worker.runReplayHistory(
        { workflowBundle: await workflowBundle(), replayName: content.scenario },
        historyFromJSON(content.history),
        content.workflowId
      );
    }
  );

  it('a history from different workflow code fails replay (the guard can fail)', async () => {
    const success = histories.find((h) => h.content.scenario === 'successful');
    expect(success).toBeDefined();
    const tampered = JSON.parse(JSON.stringify(success!.content.history)) as {
      events: { activityTaskScheduledEventAttributes?: { activityType?: { name?: string } } }[];
    };
    const scheduled = tampered.events.find((e) => e.activityTaskScheduledEventAttributes);
    scheduled!.activityTaskScheduledEventAttributes!.activityType!.name = 'someOtherActivity';
    await expect(
      Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, historyFromJSON(tampered), 'tampered')
    ).rejects.toThrow(/[Nn]ondeterminis|DeterminismViolation/);
  });
});

describe.runIf(RECORD)('recording histories (RECORD_HISTORIES=1)', () => {
  const suite = useExportSuite();

  const save = (scenario: string, handle: WorkflowHandle) =>
    saveHistory(`exportSnapshot-${WORKFLOW_VERSION}`, scenario, handle);

  it('records one history per outcome', async () => {
    const { h, atlas, temporal } = suite;
    const listener = await h.startListener();
    await save(
      'successful',
      await h.start(h.input({ snapshotId: h.freshSnapshot(), notify: { workflowId: listener.workflowId } }))
    );

    const failedSnapshot = h.freshSnapshot();
    atlas.sim.setExportPlan(
      { queuedMs: 60_000, inProgressMs: 60_000, outcome: 'Failed', stateReason: { errorCode: 'X', message: 'y' } },
      { snapshotId: failedSnapshot }
    );
    await save('failed', await h.start(h.input({ snapshotId: failedSnapshot })));

    const longSnapshot = h.freshSnapshot();
    atlas.sim.setExportPlan(
      { queuedMs: 60_000, inProgressMs: 3_000_000, totalCollections: 50 },
      { snapshotId: longSnapshot }
    );
    const long = await h.start(
      h.input({ snapshotId: longSnapshot, polling: { ...FAST_POLLING, reportInterval: '1s', maxHistoryEvents: 25 } })
    );
    await long.result();
    // The first run of the chain is the one that continued as new.
    await save(
      'continued-as-new-first-run',
      temporal.client.workflow.getHandle(long.workflowId, long.firstExecutionRunId)
    );
    await save('continued-as-new-last-run', long);

    await save('invalid-input', await h.start({ ...h.input(), groupId: 'nope' }));
    // Below the polling floors (patch export-polling-floors-v1): refused before any Atlas call.
    await save('invalid-input-floors', await h.start(h.input({ polling: { ...FAST_POLLING, reportInterval: 1 } })));
    await save('create-rejected', await h.start(h.input({ clusterName: 'no-such-cluster' })));

    const slowSnapshot = h.freshSnapshot();
    atlas.sim.setExportPlan({ queuedMs: 60_000, inProgressMs: 100 * 3600_000 }, { snapshotId: slowSnapshot });
    await save(
      'deadline',
      await h.start(h.input({ snapshotId: slowSnapshot, polling: { ...FAST_POLLING, timeout: '8s' } }))
    );
  }, 120_000);
});

describe.runIf(RECORD_SCHEDULED)('recording scheduledExport histories (RECORD_HISTORIES=scheduledExport)', () => {
  const suite = useExportSuite();

  const save = (scenario: string, handle: WorkflowHandle) =>
    saveHistory(`scheduledExport-${SCHEDULED_WORKFLOW_VERSION}`, scenario, handle);

  it('records a run through every path, and a run that continued as new', async () => {
    const { atlas, temporal, worker } = suite;
    const fleet = createFleet(atlas.sim, 6, 'Replay');
    const [latest, onDemand, failing, skipped, attached] = fleet.clusters;
    atlas.sim.setExportPlan(
      { queuedMs: 60_000, inProgressMs: 60_000, outcome: 'Failed', stateReason: { errorCode: 'X', message: 'y' } },
      { snapshotId: failing!.snapshotId }
    );
    await atlas.client().createExportJob(fleet.groupId, skipped!.clusterName, {
      snapshotId: skipped!.snapshotId,
      exportBucketId: fleet.exportBucketId,
    });
    const existing = {
      groupId: fleet.groupId,
      clusterName: attached!.clusterName,
      snapshotId: attached!.snapshotId,
      exportBucketId: fleet.exportBucketId,
    };
    await temporal.client.workflow.start(exportSnapshot, {
      taskQueue: worker.taskQueue,
      workflowId: exportWorkflowId(existing),
      args: [{ ...existing, polling: FAST_POLLING }],
    });
    const common = { polling: FAST_POLLING, onDemand: { initialInterval: 100, maximumInterval: 400 } };
    await save(
      'scheduled-mixed',
      await temporal.client.workflow.start(scheduledExport, {
        taskQueue: worker.taskQueue,
        workflowId: uniqueId('replay-scheduled'),
        args: [
          {
            ...common,
            concurrency: 3,
            targets: [
              { groupId: fleet.groupId, clusterName: latest!.clusterName, exportBucketId: fleet.exportBucketId },
              {
                groupId: fleet.groupId,
                clusterName: onDemand!.clusterName,
                exportBucketId: fleet.exportBucketId,
                snapshot: 'on-demand',
              },
              {
                groupId: fleet.groupId,
                clusterName: failing!.clusterName,
                exportBucketId: fleet.exportBucketId,
                snapshot: { snapshotId: failing!.snapshotId },
              },
              { groupId: fleet.groupId, clusterName: skipped!.clusterName, exportBucketId: fleet.exportBucketId },
              {
                groupId: fleet.groupId,
                clusterName: attached!.clusterName,
                exportBucketId: fleet.exportBucketId,
                snapshot: { snapshotId: attached!.snapshotId },
              },
              { groupId: fleet.groupId, clusterName: 'NoSuchCluster', exportBucketId: fleet.exportBucketId },
            ],
          },
        ],
      })
    );

    const long = createFleet(atlas.sim, 4, 'ReplayLong');
    const chain = await temporal.client.workflow.start(scheduledExport, {
      taskQueue: worker.taskQueue,
      workflowId: uniqueId('replay-scheduled-long'),
      args: [{ ...common, targets: long.targets, concurrency: 2, maxHistoryEvents: 20 }],
    });
    await chain.result();
    await save(
      'scheduled-continued-as-new-first-run',
      temporal.client.workflow.getHandle(chain.workflowId, chain.firstExecutionRunId)
    );
    await save('scheduled-continued-as-new-last-run', chain);
  }, 120_000);
});

describe.runIf(RECORD_CADENCE)('recording poll cadence histories (RECORD_HISTORIES=cadence)', () => {
  // Atlas at 60x: the dev server retries no sooner than 1 s, which would stretch faster clocks' fine steps.
  const suite = useExportSuite({ timeScale: 60 });

  const save = (scenario: string, handle: WorkflowHandle) =>
    saveHistory(`exportSnapshot-${CADENCE_VERSION}`, scenario, handle);

  it('records adaptive runs that learned from a past export, one that continued as new, and a fixed one', async () => {
    const { h, atlas, temporal } = suite;
    const { groupId } = atlas.fixtures;
    const clusterName = 'ReplayCadence';
    atlas.sim.addCluster(groupId, clusterName, { totalCollections: 8 });
    atlas.sim.setExportPlan({ queuedMs: 120_000, inProgressMs: 600_000 }, { groupId, clusterName });
    const snapshot = () => atlas.sim.addSnapshot(groupId, clusterName, { status: 'completed' });
    const polling = { timeScale: 60, timeout: '2m', attemptTimeout: '10s' };
    const input = (extra: object = {}) =>
      h.input({ clusterName, snapshotId: snapshot(), polling: { ...polling, ...extra } });

    await (await h.start(input())).result();
    await save('adaptive-learned', await h.start(input()));

    const long = await h.start(input({ reportInterval: '1s', maxHistoryEvents: 20 }));
    await long.result();
    await save(
      'adaptive-continued-as-new-first-run',
      temporal.client.workflow.getHandle(long.workflowId, long.firstExecutionRunId)
    );
    await save('adaptive-continued-as-new-last-run', long);

    await save('fixed', await h.start(input({ mode: 'fixed', initialInterval: '65s', interval: '45s' })));
  }, 180_000);
});

describe.runIf(RECORD_HINT)('recording atlasEventHint histories (RECORD_HISTORIES=hint)', () => {
  const suite = useExportSuite();

  it('records a run woken by a hint after its job ended, its wait cut short', async () => {
    const { h, atlas } = suite;
    const snapshotId = h.freshSnapshot();
    atlas.sim.setExportPlan({ queuedMs: 1_000, inProgressMs: 5_000, totalCollections: 3 }, { snapshotId });
    const polling = { ...FAST_POLLING, mode: 'fixed' as const, initialInterval: '20m', interval: '20m', timeout: '1h' };
    const { backoffCoefficient: _b, maximumInterval: _m, ...fixed } = polling;
    const handle = await h.start(h.input({ snapshotId, polling: fixed }));
    await waitForProgress(handle, (p) => p.phase === 'polling');
    while (!h.jobsOf(handle.workflowId)[0]?.finishedAt) await new Promise((r) => setTimeout(r, 50));
    await handle.signal(atlasEventHintSignal, { eventTypeName: 'CPS_EXPORT_SUCCESSFUL', alertId: 'a'.repeat(24) });
    await save(`exportSnapshot-${HINT_VERSION}`, 'hint-woken', handle);
  }, 60_000);

  const save = (prefix: string, scenario: string, handle: WorkflowHandle) => saveHistory(prefix, scenario, handle);
});
