import { ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import { scheduledExportAction } from '../client/schedules';
import type { ExportSnapshotInput } from '../shared/contract/export-contract';
import type { ScheduledExportInput } from '../shared/contract/scheduled-export-contract';

/** The local stack's hourly demo schedule of fleet exports (simulator only). */

export const DEMO_SCHEDULE_ID = 'atlas-export-demo';

/** The targets of the demo schedule: the simulator's clusters, each with its newest snapshot. */
export interface DemoSchedule {
  groupId: string;
  clusters: string[];
  exportBucketId: string;
  polling: ExportSnapshotInput['polling'];
}

/** Deletes the demo schedule if it exists; true when it did. */
export async function deleteDemoSchedule(client: Client): Promise<boolean> {
  try {
    await client.schedule.getHandle(DEMO_SCHEDULE_ID).delete();
    return true;
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return false;
    throw err;
  }
}

/** Creates (or refreshes, after the simulator was reset) the hourly demo schedule, then runs it once now. */
export async function upsertDemoSchedule(client: Client, taskQueue: string, demo: DemoSchedule): Promise<string> {
  const scheduleId = DEMO_SCHEDULE_ID;
  const input: ScheduledExportInput = {
    targets: demo.clusters.map((clusterName) => ({
      groupId: demo.groupId,
      clusterName,
      exportBucketId: demo.exportBucketId,
      snapshot: 'latest',
    })),
    ...(demo.polling ? { polling: demo.polling } : {}),
  };
  const action = scheduledExportAction(scheduleId, taskQueue, input);
  const handle = client.schedule.getHandle(scheduleId);
  try {
    await client.schedule.create({
      scheduleId,
      spec: { intervals: [{ every: '1h' }] },
      action,
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1m' },
    });
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    await handle.update((previous) => ({ ...previous, action }));
  }
  await handle.trigger(ScheduleOverlapPolicy.ALLOW_ALL);
  return scheduleId;
}
