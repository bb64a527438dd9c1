import type { SearchAttributeUpdatePair } from '@temporalio/common';
import { metricMeter, patched, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { EXPORT_METRICS } from '../shared/observability/metric-names';
import { SEARCH_ATTRIBUTES, progressPercent } from '../shared/observability/search-attributes';

/**
 * Command-changing revisions of the upserts, each behind its `patched()` id so recorded histories replay:
 * none before v1; v1 upserts the ids and `Creating` separately and starts every run (continue-as-new too)
 * from nothing; v2 upserts them at once and starts from the attributes the run already carries.
 */
const SEARCH_ATTRIBUTES_PATCH_V1 = 'export-search-attributes-v1';
const SEARCH_ATTRIBUTES_PATCH_V2 = 'export-search-attributes-v2';

type Key = keyof typeof SEARCH_ATTRIBUTES;
type Values = { [K in Key]?: string | number | boolean | null };

/**
 * What `exportSnapshot` shows outside its history: the search attributes (upserted only when a value changed,
 * since each upsert costs a Temporal action) and the project's metrics, emitted through the SDK's metric meter
 * (which skips them while a history replays). Knows nothing of Atlas beyond ids, a state word and counts.
 */
export class ExportObservability {
  private readonly published: Values = {};
  private readonly enabled: boolean;
  /** True from v2 on: the first upsert of a run carries the ids and the first state together. */
  readonly batchesStart: boolean;

  constructor() {
    this.batchesStart = patched(SEARCH_ATTRIBUTES_PATCH_V2);
    this.enabled = this.batchesStart || patched(SEARCH_ATTRIBUTES_PATCH_V1);
    if (this.batchesStart) {
      // A continued run inherits its attributes: nothing to upsert again until a value changes.
      const carried = workflowInfo().typedSearchAttributes;
      for (const [name, key] of Object.entries(SEARCH_ATTRIBUTES) as [Key, (typeof SEARCH_ATTRIBUTES)[Key]][]) {
        const value = carried.get(key);
        if (value !== undefined) this.published[name] = value;
      }
    }
  }

  /** Upserts the attributes whose value changed since the last upsert; a null value removes the attribute. */
  publish(values: Values): void {
    if (!this.enabled) return;
    const changed: SearchAttributeUpdatePair[] = [];
    for (const [name, value] of Object.entries(values) as [Key, string | number | boolean | null | undefined][]) {
      if (value === undefined || this.published[name] === value) continue;
      if (value === null && this.published[name] === undefined) continue;
      this.published[name] = value;
      changed.push({ key: SEARCH_ATTRIBUTES[name], value } as SearchAttributeUpdatePair);
    }
    if (changed.length > 0) upsertSearchAttributes(changed);
  }

  /** The job's state and progress, as the UI list shows them. */
  publishStatus(job: {
    state: string;
    exportJobId: string | null;
    exportedCollections: number | null;
    totalCollections: number | null;
  }): void {
    const { state, exportJobId, exportedCollections, totalCollections } = job;
    this.publish({ state, exportJobId, progressPercent: progressPercent(exportedCollections, totalCollections) });
  }

  /** The stall alarm went off (`polling.stallAfter` without progress), or cleared when progress resumed. */
  stalled(raised: boolean): void {
    this.publish({ stalled: raised ? true : null });
    if (raised) {
      metricMeter.createCounter(EXPORT_METRICS.stalled.name, 'exports', EXPORT_METRICS.stalled.help).add(1);
    }
  }

  started(): void {
    metricMeter.createCounter(EXPORT_METRICS.started.name, 'exports', EXPORT_METRICS.started.help).add(1);
  }

  /**
   * The export ended. `outcome` is the Atlas state (`Successful`, `Failed`, `Cancelled`) or the workflow's own
   * (`DeadlineExceeded`, `CreateFailed`, `InvalidInput`, `Detached`).
   */
  finished({
    outcome,
    polls,
    startedAtMs,
    nowMs,
  }: {
    outcome: string;
    polls: number;
    startedAtMs: number;
    nowMs: number;
  }): void {
    if (outcome === 'Successful') {
      metricMeter.createCounter(EXPORT_METRICS.succeeded.name, 'exports', EXPORT_METRICS.succeeded.help).add(1);
    } else {
      metricMeter.createCounter(EXPORT_METRICS.failed.name, 'exports', EXPORT_METRICS.failed.help).add(1, { outcome });
    }
    metricMeter
      .createHistogram(EXPORT_METRICS.polls.name, 'int', 'requests', EXPORT_METRICS.polls.help)
      .record(polls, { outcome });
    metricMeter
      .createHistogram(EXPORT_METRICS.duration.name, 'float', 's', EXPORT_METRICS.duration.help)
      .record(Math.max(0, (nowMs - startedAtMs) / 1000), { outcome });
  }
}
