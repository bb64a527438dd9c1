import type { temporal } from '@temporalio/proto';
import { defaultPayloadConverter } from '@temporalio/common';
import type { WorkflowHandle } from '@temporalio/client';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** Summary of a workflow history: what an export cost in events and activity attempts. */
export interface HistoryStats {
  events: number;
  activities: Record<string, { scheduled: number; attempts: number }>;
  timers: number;
  signalsSent: number;
  continuedAsNew: boolean;
}

export function historyStats(events: HistoryEvent[]): HistoryStats {
  const typeOfScheduled = new Map<string, string>();
  const activities: HistoryStats['activities'] = {};
  let timers = 0;
  let signalsSent = 0;
  let continuedAsNew = false;
  for (const e of events) {
    const scheduled = e.activityTaskScheduledEventAttributes;
    if (scheduled) {
      const name = scheduled.activityType?.name ?? '?';
      typeOfScheduled.set(String(e.eventId), name);
      (activities[name] ??= { scheduled: 0, attempts: 0 }).scheduled += 1;
    }
    const started = e.activityTaskStartedEventAttributes;
    if (started) {
      const name = typeOfScheduled.get(String(started.scheduledEventId)) ?? '?';
      (activities[name] ??= { scheduled: 0, attempts: 0 }).attempts += started.attempt ?? 1;
    }
    if (e.timerStartedEventAttributes) timers += 1;
    if (e.signalExternalWorkflowExecutionInitiatedEventAttributes) signalsSent += 1;
    if (e.workflowExecutionContinuedAsNewEventAttributes) continuedAsNew = true;
  }
  return { events: events.length, activities, timers, signalsSent, continuedAsNew };
}

export async function fetchHistoryStats(handle: WorkflowHandle): Promise<HistoryStats> {
  const history = await handle.fetchHistory();
  return historyStats(history.events ?? []);
}

/** What each completed attempt of `activityType` returned, in history order (default payload converter). */
export async function activityResults(handle: WorkflowHandle, activityType: string): Promise<unknown[]> {
  const events = (await handle.fetchHistory()).events ?? [];
  const typeOfScheduled = new Map<string, string>();
  const results: unknown[] = [];
  for (const e of events) {
    const scheduled = e.activityTaskScheduledEventAttributes;
    if (scheduled) typeOfScheduled.set(String(e.eventId), scheduled.activityType?.name ?? '?');
    const completed = e.activityTaskCompletedEventAttributes;
    if (completed && typeOfScheduled.get(String(completed.scheduledEventId)) === activityType) {
      const payload = completed.result?.payloads?.[0];
      results.push(payload ? defaultPayloadConverter.fromPayload(payload) : undefined);
    }
  }
  return results;
}
